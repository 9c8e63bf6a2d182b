"""Ledger: idempotent credits/debits, never negative, history; concurrency on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.credits import ledger
from services.credits.errors import InsufficientCredits, ReferenceConflict, UnknownUser
from tests.backends import POSTGRES_ONLY
from tests.integration.credits_factories import gather_bounded, ledger_state, make_user

Sessions = async_sessionmaker[AsyncSession]


async def test_credit_then_debit_moves_balance(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    async with sessionmaker() as session:
        first = await ledger.credit(session, user_id, 30, category="grant", reference_id="g1")
        spent = await ledger.debit(session, user_id, 12, category="chat", reference_id="d1", description="q")
    assert (first.balance_before, first.balance_after, first.applied, first.type) == (0, 30, True, "credit")
    assert (spent.balance_before, spent.balance_after, spent.applied, spent.type) == (30, 18, True, "debit")
    state = await ledger_state(sessionmaker, user_id)
    assert (state.available, state.total, state.used) == (18, 30, 12)
    assert (state.credits, state.debits, state.transactions) == (30, 12, 2)


async def test_repeated_reference_returns_the_original(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    async with sessionmaker() as session:
        first = await ledger.credit(session, user_id, 10, category="grant", reference_id="same")
        again = await ledger.credit(session, user_id, 10, category="grant", reference_id="same")
        await ledger.debit(session, user_id, 4, category="chat", reference_id="spend")
        debit_again = await ledger.debit(session, user_id, 4, category="chat", reference_id="spend")
    assert again.applied is False
    assert (again.transaction_id, again.balance_before, again.balance_after) == (first.transaction_id, 0, 10)
    assert (debit_again.applied, debit_again.balance_after) == (False, 6)
    state = await ledger_state(sessionmaker, user_id)
    assert (state.available, state.transactions) == (6, 2)


async def test_reference_of_another_user_or_direction_conflicts(sessionmaker: Sessions) -> None:
    alice = await make_user(sessionmaker)
    bob = await make_user(sessionmaker)
    async with sessionmaker() as session:
        await ledger.credit(session, alice, 10, category="grant", reference_id="ref-a")
        with pytest.raises(ReferenceConflict):
            await ledger.credit(session, bob, 10, category="grant", reference_id="ref-a")
        await session.rollback()
        with pytest.raises(ReferenceConflict):
            await ledger.debit(session, alice, 1, category="chat", reference_id="ref-a")
        await session.rollback()
    assert (await ledger_state(sessionmaker, alice)).available == 10
    assert (await ledger_state(sessionmaker, bob)).transactions == 0


async def test_insufficient_credits_is_a_domain_error(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker, credits=5)
    async with sessionmaker() as session:
        with pytest.raises(InsufficientCredits) as caught:
            await ledger.debit(session, user_id, 6, category="chat", reference_id="too-much")
        assert (caught.value.required, caught.value.available, caught.value.code) == (6, 5, "no_credits")
        # The session is still usable and nothing changed.
        entry = await ledger.debit(session, user_id, 5, category="chat", reference_id="all")
    assert entry.balance_after == 0
    state = await ledger_state(sessionmaker, user_id)
    assert (state.available, state.used, state.transactions) == (0, 5, 2)


async def test_debit_without_account_and_unknown_user(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    async with sessionmaker() as session:
        with pytest.raises(InsufficientCredits):
            await ledger.debit(session, user_id, 1, category="chat", reference_id="x")
        with pytest.raises(UnknownUser):
            await ledger.credit(session, 999_999, 1, category="grant", reference_id="nobody")
        with pytest.raises(ValueError):
            await ledger.credit(session, user_id, 0, category="grant", reference_id="zero")
        with pytest.raises(ValueError):
            await ledger.credit(session, user_id, -3, category="grant", reference_id="neg")


async def test_revoke_shrinks_total(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker, credits=20)
    async with sessionmaker() as session:
        entry = await ledger.revoke(session, user_id, 8, category="admin_revoke", reference_id="rv")
        with pytest.raises(InsufficientCredits):
            await ledger.revoke(session, user_id, 13, category="admin_revoke", reference_id="rv2")
    assert entry.balance_after == 12
    state = await ledger_state(sessionmaker, user_id)
    assert (state.available, state.total, state.used) == (12, 12, 0)


async def test_balance_and_paged_history(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    async with sessionmaker() as session:
        empty = await ledger.balance(session, user_id)
        for n in range(1, 8):
            await ledger.credit(session, user_id, n, category="grant", reference_id=f"h{n}")
        summary = await ledger.balance(session, user_id, recent=3)
        page1 = await ledger.history(session, user_id, page=1, page_size=3)
        page3 = await ledger.history(session, user_id, page=3, page_size=3)
    assert (empty.available, empty.recent) == (0, ())
    assert (summary.available, summary.total, summary.used) == (28, 28, 0)
    assert [t.amount for t in summary.recent] == [7, 6, 5]
    assert [t.amount for t in page1.items] == [7, 6, 5] and page1.has_more is True
    assert [t.reference_id for t in page3.items] == ["h1"] and page3.has_more is False


@POSTGRES_ONLY
async def test_concurrent_debits_never_overdraw(sessionmaker: Sessions) -> None:
    # Twice as many debits as credits, 25 at a time on one account: every debit races others for the
    # same balance, and half of them must be refused.
    user_id = await make_user(sessionmaker, credits=100)

    def one(n: int):  # type: ignore[no-untyped-def]
        async def call() -> ledger.LedgerEntry:
            async with sessionmaker() as session:
                return await ledger.debit(session, user_id, 1, category="chat", reference_id=f"c{n}")

        return call

    results = await gather_bounded(25, [one(n) for n in range(200)])
    ok = [r for r in results if isinstance(r, ledger.LedgerEntry)]
    short = [r for r in results if isinstance(r, InsufficientCredits)]
    assert (len(ok), len(short)) == (100, 100), [r for r in results if isinstance(r, BaseException)][:3]
    assert sorted(r.balance_after for r in ok) == list(range(100))
    state = await ledger_state(sessionmaker, user_id)
    assert (state.available, state.total, state.used) == (0, 100, 100)
    assert state.credits - state.debits == state.available
    assert state.transactions == 101


@POSTGRES_ONLY
async def test_concurrent_same_reference_applies_once(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker, credits=1)

    async def grant() -> ledger.LedgerEntry:
        async with sessionmaker() as session:
            return await ledger.credit(session, user_id, 7, category="grant", reference_id="race")

    async def spend() -> ledger.LedgerEntry:
        async with sessionmaker() as session:
            return await ledger.debit(session, user_id, 1, category="chat", reference_id="race-debit")

    grants = await gather_bounded(20, [grant] * 20)
    spends = await gather_bounded(20, [spend] * 20)
    assert all(isinstance(r, ledger.LedgerEntry) for r in grants + spends), grants + spends
    assert sum(1 for r in grants if isinstance(r, ledger.LedgerEntry) and r.applied) == 1
    assert sum(1 for r in spends if isinstance(r, ledger.LedgerEntry) and r.applied) == 1
    assert len({r.transaction_id for r in grants if isinstance(r, ledger.LedgerEntry)}) == 1
    state = await ledger_state(sessionmaker, user_id)
    assert (state.available, state.total, state.used, state.transactions) == (7, 8, 1, 3)
