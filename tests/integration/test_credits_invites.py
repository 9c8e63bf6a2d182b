"""Invites: binding rules, first-question and purchase rewards (each once), stats."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.credits.charging import CreditsPolicy
from services.credits.config import CreditsConfig
from services.credits.invites import BindOutcome, BindResult, RewardKind, bind_inviter, invite_stats
from services.credits.payments import complete_payment, create_invoice
from services.credits.refunds import apply_refund
from tests.integration.credits_factories import get_user, ledger_state, make_user

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def _bind(sessionmaker: Sessions, user_id: int, code: str, new: bool = True) -> BindResult:
    async with sessionmaker() as session:
        return await bind_inviter(session, user_id, code, new)


async def _code(sessionmaker: Sessions, user_id: int) -> str:
    return (await get_user(sessionmaker, user_id)).invite_code


async def test_binding_rules(sessionmaker: Sessions) -> None:
    a = await make_user(sessionmaker)
    b = await make_user(sessionmaker)
    c = await make_user(sessionmaker)
    bound = await _bind(sessionmaker, b, await _code(sessionmaker, a))
    assert (bound.outcome, bound.inviter_id, bound.invite_level) == (BindOutcome.BOUND, a, 1)
    assert bound.inviter_telegram_id == (await get_user(sessionmaker, a)).telegram_id
    # Re-binding with another code: refused whether or not the caller thinks the user is new.
    assert (await _bind(sessionmaker, b, await _code(sessionmaker, c))).outcome is BindOutcome.NOT_NEW
    assert (await _bind(sessionmaker, b, await _code(sessionmaker, c), new=False)).outcome is BindOutcome.NOT_NEW
    assert (await _bind(sessionmaker, a, await _code(sessionmaker, a))).outcome is BindOutcome.SELF
    assert (await _bind(sessionmaker, c, "zzzzzzzz")).outcome is BindOutcome.UNKNOWN_CODE
    assert (await _bind(sessionmaker, c, "bad code!")).outcome is BindOutcome.UNKNOWN_CODE
    # c ← b ← a: a can't be invited by c (or b), that would close a cycle.
    assert (await _bind(sessionmaker, c, await _code(sessionmaker, b))).invite_level == 2
    assert (await _bind(sessionmaker, a, await _code(sessionmaker, c))).outcome is BindOutcome.CYCLE
    assert (await _bind(sessionmaker, a, await _code(sessionmaker, b))).outcome is BindOutcome.CYCLE
    users = [await get_user(sessionmaker, u) for u in (a, b, c)]
    assert [(u.inviter_id, u.invite_level) for u in users] == [(None, 0), (a, 1), (b, 2)]


async def test_rewards_once_each_and_stats(sessionmaker: Sessions) -> None:
    config = CreditsConfig(invite_reward_credits=10, invite_purchase_percent=10)
    a = await make_user(sessionmaker)
    b = await make_user(sessionmaker)
    assert (await _bind(sessionmaker, b, await _code(sessionmaker, a))).outcome is BindOutcome.BOUND
    policy = CreditsPolicy(config)
    async with sessionmaker() as session:
        rewards = []
        for n in range(2):
            decision = await policy.authorize(session, b, f"q{n}", now=NOW)
            rewards.append((await policy.settle(session, decision, True)).invite_reward)
    assert rewards[0] is not None and rewards[0].credits == 10 and rewards[1] is None
    async with sessionmaker() as session:
        invoice = await create_invoice(session, b, package_code="standard", now=NOW)  # 200 + 20 bonus
        paid = [
            await complete_payment(session, invoice.payload, "ch-inv", invoice.amount, b, config=config, now=NOW)
            for _ in range(3)
        ]
        stats = await invite_stats(session, a)
    assert paid[0].invite_reward is not None
    assert (paid[0].invite_reward.kind, paid[0].invite_reward.credits) == (RewardKind.PURCHASE, 22)
    assert [p.invite_reward for p in paid[1:]] == [None, None]
    assert (stats.invited, stats.credits_earned, stats.invite_code) == (1, 32, await _code(sessionmaker, a))
    assert (await ledger_state(sessionmaker, a)).available == 32
    async with sessionmaker() as session:
        refund = await apply_refund(session, "ch-inv", NOW)
        after = await invite_stats(session, a)
    assert refund.inviter_reversed == 22
    assert (after.credits_earned, (await ledger_state(sessionmaker, a)).available) == (10, 10)


async def test_purchase_without_inviter_pays_nobody(sessionmaker: Sessions) -> None:
    b = await make_user(sessionmaker)
    async with sessionmaker() as session:
        invoice = await create_invoice(session, b, package_code="starter", now=NOW)
        paid = await complete_payment(session, invoice.payload, "ch-solo", invoice.amount, b, now=NOW)
        stats = await invite_stats(session, b)
    assert paid.invite_reward is None
    assert (stats.invited, stats.credits_earned) == (0, 0)
