"""Plans: expiry falls back to free, extension arithmetic, status, expiry reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.credits import plans
from services.credits.charging import CreditsPolicy
from services.credits.errors import NotOnSale, UnknownUser
from tests.integration.credits_factories import committed, get_user, make_user

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


async def test_expired_plan_reads_as_free_and_downgrade_persists(sessionmaker: Sessions) -> None:
    expired = await make_user(sessionmaker, plan="pro", plan_expires_at=NOW - timedelta(minutes=1))
    active = await make_user(sessionmaker, plan="vip", plan_expires_at=NOW + DAY)
    forever = await make_user(sessionmaker, plan="vip")
    async with sessionmaker() as session:
        status = await plans.plan_status(session, expired, NOW)
        assert (status.plan.code, status.expired, status.expires_at, status.free_left) == ("free", True, None, 5)
        assert (await plans.effective_plan(session, active, NOW)).code == "vip"
        assert (await plans.effective_plan(session, forever, NOW)).code == "vip"
        with pytest.raises(UnknownUser):
            await plans.effective_plan(session, 999_999, NOW)
        assert await plans.downgrade_expired_plans(session, NOW) == 1
        assert await plans.downgrade_expired_plans(session, NOW) == 0
    user = await get_user(sessionmaker, expired)
    assert (user.plan, user.plan_expires_at) == ("free", None)
    assert (await get_user(sessionmaker, active)).plan == "vip"
    async with sessionmaker() as session:
        assert await plans.downgrade_expired_plans(session, NOW + 2 * DAY, user_id=forever) == 0
        assert await plans.downgrade_expired_plans(session, NOW + 2 * DAY, user_id=active) == 1


async def test_extend_plan_arithmetic(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    async with sessionmaker() as session:
        first = await committed(session, plans.extend_plan_in_tx(session, user_id, "vip", 30, "r1", NOW))
        # Same plan, still running: from the current expiry.
        second = await committed(session, plans.extend_plan_in_tx(session, user_id, "vip", 10, "r2", NOW + 5 * DAY))
        replay = await committed(session, plans.extend_plan_in_tx(session, user_id, "vip", 10, "r2", NOW + 6 * DAY))
        # Upgrade: switches plan, from now.
        upgrade = await committed(session, plans.extend_plan_in_tx(session, user_id, "pro", 30, "r3", NOW + 7 * DAY))
        # Same plan after it expired: from now again.
        late = await committed(session, plans.extend_plan_in_tx(session, user_id, "pro", 30, "r4", NOW + 100 * DAY))
        with pytest.raises(NotOnSale):
            await committed(session, plans.extend_plan_in_tx(session, user_id, "gold", 30, "r5", NOW))
        with pytest.raises(ValueError):
            await committed(session, plans.extend_plan_in_tx(session, user_id, "vip", 0, "r6", NOW))
    assert (first.previous_plan, first.plan_code, first.expires_at) == ("free", "vip", NOW + 30 * DAY)
    assert (second.expires_at, second.previous_expires_at) == (NOW + 40 * DAY, NOW + 30 * DAY)
    assert (replay.applied, replay.expires_at) == (False, NOW + 40 * DAY)
    assert (upgrade.previous_plan, upgrade.plan_code, upgrade.expires_at) == ("vip", "pro", NOW + 37 * DAY)
    assert (late.previous_plan, late.expires_at) == ("free", NOW + 130 * DAY)
    user = await get_user(sessionmaker, user_id)
    assert (user.plan, user.plan_expires_at) == ("pro", NOW + 130 * DAY)


async def test_plan_status_counts_todays_questions(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker, plan="vip", plan_expires_at=NOW + DAY)
    policy = CreditsPolicy()
    async with sessionmaker() as session:
        for n in range(3):
            decision = await policy.authorize(session, user_id, f"q{n}", now=NOW)
            await policy.settle(session, decision, True)
        status = await plans.plan_status(session, user_id, NOW)
        same_day = await plans.plan_status(session, user_id, NOW + timedelta(hours=11, minutes=59))
        tomorrow = await plans.plan_status(session, user_id, NOW + timedelta(hours=12))
    assert (status.plan.code, status.questions_today, status.free_left, status.dialog_count) == ("vip", 3, 27, 3)
    assert status.expires_at == NOW + DAY
    assert (same_day.questions_today, same_day.free_left) == (3, 27)
    assert (tomorrow.questions_today, tomorrow.free_left, tomorrow.dialog_count) == (0, 30, 3)  # new UTC day


async def test_expiry_reminders_once_per_expiry(sessionmaker: Sessions) -> None:
    soon = await make_user(sessionmaker, plan="vip", plan_expires_at=NOW + 2 * DAY)
    await make_user(sessionmaker, plan="vip", plan_expires_at=NOW + 4 * DAY)  # outside the window
    await make_user(sessionmaker, plan="pro", plan_expires_at=NOW - DAY)  # already expired
    await make_user(sessionmaker, plan="pro", plan_expires_at=NOW + DAY, banned=True)
    edge = await make_user(sessionmaker, plan="pro", plan_expires_at=NOW + 3 * DAY)
    async with sessionmaker() as session:
        due = await plans.users_due_for_expiry_reminder(session, NOW)
        assert [(r.user_id, r.plan_code) for r in due] == [(soon, "vip"), (edge, "pro")]
        await plans.mark_expiry_reminded(session, soon, due[0].expires_at, NOW)
        assert [r.user_id for r in await plans.users_due_for_expiry_reminder(session, NOW)] == [edge]
        # A renewal moves the expiry: the next one is reminded again.
        await committed(session, plans.extend_plan_in_tx(session, soon, "vip", 30, "renew", NOW))
        later = NOW + 30 * DAY
        assert [r.user_id for r in await plans.users_due_for_expiry_reminder(session, later)] == [soon]
