"""Holds: reserve → capture keeps the credits, reserve → release gives them back, sweeper."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import CreditHold
from services.credits import holds
from services.credits.errors import InsufficientCredits
from services.credits.holds import HoldStatus
from tests.backends import POSTGRES_ONLY
from tests.integration.credits_factories import committed, gather_bounded, ledger_state, make_user

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TTL = timedelta(minutes=10)


async def _statuses(sessionmaker: Sessions) -> dict[str, str]:
    async with sessionmaker() as session:
        rows = await session.execute(select(CreditHold.reference_id, CreditHold.status))
        return {reference: status for reference, status in rows}


async def test_reserve_then_release_gives_credits_back(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker, credits=10)
    async with sessionmaker() as session:
        hold_id = await committed(session, holds.reserve_in_tx(session, user_id, 3, "q1", TTL, now=NOW))
        assert (await ledger_state(sessionmaker, user_id)).available == 7
        released = await committed(session, holds.release_in_tx(session, hold_id, NOW))
        again = await committed(session, holds.release_in_tx(session, hold_id, NOW))
        capture_after = await committed(session, holds.capture_in_tx(session, hold_id, NOW))
    assert (released.status, released.changed) == (HoldStatus.RELEASED, True)
    assert (again.status, again.changed) == (HoldStatus.RELEASED, False)
    assert (capture_after.status, capture_after.changed) == (HoldStatus.RELEASED, False)
    state = await ledger_state(sessionmaker, user_id)
    assert (state.available, state.total, state.used) == (10, 10, 0)
    assert (state.credits, state.debits, state.transactions) == (13, 3, 3)


async def test_reserve_then_capture_keeps_them(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker, credits=10)
    async with sessionmaker() as session:
        hold_id = await committed(session, holds.reserve_in_tx(session, user_id, 4, "q2", TTL, now=NOW))
        same = await committed(session, holds.reserve_in_tx(session, user_id, 4, "q2", TTL, now=NOW))
        captured = await committed(session, holds.capture_in_tx(session, hold_id, NOW))
        again = await committed(session, holds.capture_in_tx(session, hold_id, NOW))
        release_after = await committed(session, holds.release_in_tx(session, hold_id, NOW))
        missing = await committed(session, holds.capture_in_tx(session, 424242, NOW))
    assert same == hold_id
    assert (captured.changed, again.changed, release_after.status) == (True, False, HoldStatus.CAPTURED)
    assert missing.status is HoldStatus.NOT_FOUND
    state = await ledger_state(sessionmaker, user_id)
    assert (state.available, state.total, state.used, state.transactions) == (6, 10, 4, 2)


async def test_reserve_beyond_balance_holds_nothing(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker, credits=2)
    async with sessionmaker() as session:
        with pytest.raises(InsufficientCredits):
            await committed(session, holds.reserve_in_tx(session, user_id, 3, "q3", TTL, now=NOW))
    assert await _statuses(sessionmaker) == {}
    assert (await ledger_state(sessionmaker, user_id)).available == 2


async def test_sweeper_releases_expired_holds_only(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker, credits=100)
    async with sessionmaker() as session:
        old = await committed(
            session, holds.reserve_in_tx(session, user_id, 5, "old", TTL, now=NOW - timedelta(minutes=30))
        )
        await committed(session, holds.reserve_in_tx(session, user_id, 7, "fresh", TTL, now=NOW - timedelta(minutes=5)))
        old_captured = await committed(
            session, holds.reserve_in_tx(session, user_id, 11, "old-captured", TTL, now=NOW - timedelta(hours=1))
        )
        await committed(session, holds.capture_in_tx(session, old_captured, NOW - timedelta(minutes=59)))
    assert (await ledger_state(sessionmaker, user_id)).available == 100 - 5 - 7 - 11
    released = await holds.sweep_expired_holds(sessionmaker, NOW)
    assert released == 1
    assert await _statuses(sessionmaker) == {"old": "released", "fresh": "held", "old-captured": "captured"}
    assert await holds.sweep_expired_holds(sessionmaker, NOW) == 0
    state = await ledger_state(sessionmaker, user_id)
    assert (state.available, state.used) == (100 - 7 - 11, 18)
    async with sessionmaker() as session:
        assert (await committed(session, holds.capture_in_tx(session, old, NOW))).status is HoldStatus.RELEASED


@POSTGRES_ONLY
async def test_concurrent_capture_and_release_settle_once(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker, credits=50)
    async with sessionmaker() as session:
        hold_ids = [
            await committed(session, holds.reserve_in_tx(session, user_id, 5, f"r{n}", TTL, now=NOW)) for n in range(10)
        ]

    def settle(hold_id: int, capture: bool):  # type: ignore[no-untyped-def]
        async def call() -> holds.HoldResult:
            async with sessionmaker() as session:
                if capture:
                    return await committed(session, holds.capture_in_tx(session, hold_id, NOW))
                return await committed(session, holds.release_in_tx(session, hold_id, NOW))

        return call

    calls = [settle(h, n % 2 == 0) for h in hold_ids for n in range(6)]
    results = await gather_bounded(20, calls)
    assert all(isinstance(r, holds.HoldResult) for r in results), results
    changed = [r for r in results if isinstance(r, holds.HoldResult) and r.changed]
    assert sorted(r.hold_id for r in changed) == sorted(hold_ids)
    released = sum(1 for r in changed if r.status is HoldStatus.RELEASED)
    state = await ledger_state(sessionmaker, user_id)
    assert state.available == 5 * released
    assert state.credits - state.debits == state.available
