"""Charging policy: free quota, then credits, else denied; settle counts or gives back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import DailyUsage
from services.credits.charging import ChargeDecision, ChargeMode, CreditsPolicy, DenyReason
from services.credits.config import CreditsConfig
from services.credits.holds import HoldStatus
from services.credits.invites import RewardKind
from tests.backends import POSTGRES_ONLY
from tests.charge_policies import AllowAllPolicy
from tests.integration.credits_factories import gather_bounded, get_user, ledger_state, make_user

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


TODAY = NOW.date()


async def _usage(sessionmaker: Sessions, user_id: int, day: date = TODAY) -> int:
    async with sessionmaker() as session:
        value = await session.scalar(
            select(DailyUsage.questions).where(DailyUsage.user_id == user_id, DailyUsage.day == day)
        )
        return int(value or 0)


async def _ask(sessionmaker: Sessions, policy: CreditsPolicy, user_id: int, ref: str) -> ChargeDecision:
    async with sessionmaker() as session:
        return await policy.authorize(session, user_id, ref, now=NOW)


async def _settle(sessionmaker: Sessions, policy: CreditsPolicy, decision: ChargeDecision, ok: bool):  # type: ignore[no-untyped-def]
    async with sessionmaker() as session:
        return await policy.settle(session, decision, ok)


async def test_free_quota_then_credits_then_denied(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker, credits=2)  # free plan: 5 free questions, 1 credit each after
    policy = CreditsPolicy()
    free = []
    for n in range(5):
        decision = await _ask(sessionmaker, policy, user_id, f"f{n}")
        free.append(decision)
        await _settle(sessionmaker, policy, decision, True)
    assert [d.mode for d in free] == [ChargeMode.FREE_QUOTA] * 5
    assert [d.free_left for d in free] == [4, 3, 2, 1, 0]
    paid = await _ask(sessionmaker, policy, user_id, "p1")
    assert (paid.allowed, paid.mode, paid.cost, paid.plan_code) == (True, ChargeMode.CREDITS, 1, "free")
    assert paid.hold_id is not None
    settled = await _settle(sessionmaker, policy, paid, True)
    assert (settled.counted, settled.hold.status, settled.dialog_count) == (True, HoldStatus.CAPTURED, 6)
    failed = await _ask(sessionmaker, policy, user_id, "p2")
    assert failed.mode is ChargeMode.CREDITS
    result = await _settle(sessionmaker, policy, failed, False)
    assert (result.counted, result.hold.status) == (False, HoldStatus.RELEASED)
    assert (await ledger_state(sessionmaker, user_id)).available == 1
    last = await _ask(sessionmaker, policy, user_id, "p3")
    await _settle(sessionmaker, policy, last, True)
    denied = await _ask(sessionmaker, policy, user_id, "p4")
    assert (denied.allowed, denied.mode, denied.reason, denied.hold_id) == (
        False,
        ChargeMode.DENIED,
        DenyReason.NO_CREDITS,
        None,
    )
    assert denied.available == 0
    assert (await _settle(sessionmaker, policy, denied, True)).counted is False
    state = await ledger_state(sessionmaker, user_id)
    assert (state.available, state.used) == (0, 2)
    assert await _usage(sessionmaker, user_id) == 7
    assert (await get_user(sessionmaker, user_id)).dialog_count == 7


async def test_failed_free_question_gives_the_slot_back(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    policy = CreditsPolicy()
    decision = await _ask(sessionmaker, policy, user_id, "a")
    assert await _usage(sessionmaker, user_id) == 1
    result = await _settle(sessionmaker, policy, decision, False)
    assert result.counted is False
    assert await _usage(sessionmaker, user_id) == 0
    assert (await get_user(sessionmaker, user_id)).dialog_count == 0


async def test_quota_follows_the_effective_plan_and_day(sessionmaker: Sessions) -> None:
    vip = await make_user(sessionmaker, plan="vip", plan_expires_at=NOW + timedelta(days=1))
    expired = await make_user(sessionmaker, plan="vip", plan_expires_at=NOW - timedelta(seconds=1))
    policy = CreditsPolicy()
    for n in range(30):
        assert (await _ask(sessionmaker, policy, vip, f"v{n}")).mode is ChargeMode.FREE_QUOTA
    assert (await _ask(sessionmaker, policy, vip, "v30")).reason is DenyReason.NO_CREDITS
    for n in range(5):
        decision = await _ask(sessionmaker, policy, expired, f"e{n}")
        assert (decision.mode, decision.plan_code) == (ChargeMode.FREE_QUOTA, "free")
    assert (await _ask(sessionmaker, policy, expired, "e5")).allowed is False
    async with sessionmaker() as session:
        tomorrow = await policy.authorize(session, expired, "next-day", now=NOW + timedelta(days=1))
    assert (tomorrow.mode, tomorrow.day, tomorrow.free_left) == (ChargeMode.FREE_QUOTA, date(2026, 3, 2), 4)


async def test_banned_and_unknown_users_are_denied(sessionmaker: Sessions) -> None:
    banned = await make_user(sessionmaker, banned=True, credits=10)
    policy = CreditsPolicy()
    assert (await _ask(sessionmaker, policy, banned, "b")).reason is DenyReason.BANNED
    assert (await _ask(sessionmaker, policy, 999_999, "u")).reason is DenyReason.UNKNOWN_USER
    assert await _usage(sessionmaker, banned) == 0


async def test_allow_all_records_usage(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    policy = AllowAllPolicy()
    async with sessionmaker() as session:
        for n in range(8):
            decision = await policy.authorize(session, user_id, f"x{n}", now=NOW)
            assert (decision.allowed, decision.mode) == (True, ChargeMode.UNMETERED)
            await policy.settle(session, decision, n != 7)
    assert await _usage(sessionmaker, user_id) == 7
    assert (await get_user(sessionmaker, user_id)).dialog_count == 7
    assert (await ledger_state(sessionmaker, user_id)).transactions == 0


async def test_first_answered_question_rewards_the_inviter_once(sessionmaker: Sessions) -> None:
    inviter = await make_user(sessionmaker)
    invitee = await make_user(sessionmaker, inviter_id=inviter, invite_level=1)
    policy = CreditsPolicy(CreditsConfig(invite_reward_credits=15))
    failed = await _ask(sessionmaker, policy, invitee, "q0")
    assert (await _settle(sessionmaker, policy, failed, False)).invite_reward is None
    assert (await ledger_state(sessionmaker, inviter)).available == 0
    first = await _settle(sessionmaker, policy, await _ask(sessionmaker, policy, invitee, "q1"), True)
    second = await _settle(sessionmaker, policy, await _ask(sessionmaker, policy, invitee, "q2"), True)
    assert first.invite_reward is not None
    assert (first.invite_reward.kind, first.invite_reward.inviter_id, first.invite_reward.credits) == (
        RewardKind.FIRST_QUESTION,
        inviter,
        15,
    )
    assert first.invite_reward.inviter_telegram_id == (await get_user(sessionmaker, inviter)).telegram_id
    assert second.invite_reward is None
    state = await ledger_state(sessionmaker, inviter)
    assert (state.available, state.transactions) == (15, 1)


@POSTGRES_ONLY
async def test_concurrent_questions_cannot_exceed_the_free_quota(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker, credits=3)  # 5 free + 3 paid possible
    policy = CreditsPolicy()

    def ask(n: int):  # type: ignore[no-untyped-def]
        return lambda: _ask(sessionmaker, policy, user_id, f"c{n}")

    decisions = await gather_bounded(25, [ask(n) for n in range(40)])
    assert all(isinstance(d, ChargeDecision) for d in decisions), decisions
    modes = [d.mode for d in decisions if isinstance(d, ChargeDecision)]
    assert (modes.count(ChargeMode.FREE_QUOTA), modes.count(ChargeMode.CREDITS), modes.count(ChargeMode.DENIED)) == (
        5,
        3,
        32,
    )
    assert await _usage(sessionmaker, user_id) == 5
    assert (await ledger_state(sessionmaker, user_id)).available == 0
