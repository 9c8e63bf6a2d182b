"""Free-quota slots: reserved like holds (counted in daily usage), settled once, swept when they expire."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import DailyUsage, QuotaSlot
from services.credits import holds
from services.credits.charging import ChargeDecision, ChargeMode, CreditsPolicy
from services.credits.config import CreditsConfig
from services.credits.errors import ReferenceConflict
from services.credits.holds import HoldStatus, SlotResult
from tests.backends import POSTGRES_ONLY
from tests.integration.credits_factories import committed, gather_bounded, get_user, make_user

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
TTL = timedelta(minutes=10)


async def _usage(sessionmaker: Sessions, user_id: int, day: date = TODAY) -> int:
    async with sessionmaker() as session:
        value = await session.scalar(
            select(DailyUsage.questions).where(DailyUsage.user_id == user_id, DailyUsage.day == day)
        )
        return int(value or 0)


async def _slots(sessionmaker: Sessions, user_id: int) -> dict[str, str]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(QuotaSlot.reference_id, QuotaSlot.status).where(QuotaSlot.user_id == user_id)
        )
        return {reference: status for reference, status in rows}


async def _reserve(sessionmaker: Sessions, user_id: int, reference: str, *, quota: int = 5, now: datetime = NOW):  # type: ignore[no-untyped-def]
    async with sessionmaker() as session:
        return await committed(
            session, holds.reserve_slot_in_tx(session, user_id, now.date(), quota, reference, TTL, now)
        )


async def test_reserve_counts_the_question_and_release_gives_it_back(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    slot = await _reserve(sessionmaker, user_id, "a")
    assert slot is not None and slot.used == 1
    assert await _usage(sessionmaker, user_id) == 1
    async with sessionmaker() as session:
        released = await committed(session, holds.release_slot_in_tx(session, slot.slot_id, NOW))
        again = await committed(session, holds.release_slot_in_tx(session, slot.slot_id, NOW))
        capture_after = await committed(session, holds.capture_slot_in_tx(session, slot.slot_id, NOW))
    assert (released.status, released.changed) == (HoldStatus.RELEASED, True)
    assert (again.status, again.changed) == (HoldStatus.RELEASED, False)
    assert (capture_after.status, capture_after.changed) == (HoldStatus.RELEASED, False)
    assert await _usage(sessionmaker, user_id) == 0
    assert await _slots(sessionmaker, user_id) == {"a": "released"}


async def test_capture_keeps_it_counted_and_a_reference_counts_once(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    other = await make_user(sessionmaker)
    slot = await _reserve(sessionmaker, user_id, "b")
    same = await _reserve(sessionmaker, user_id, "b")
    assert slot is not None and same is not None
    assert (same.slot_id, same.used) == (slot.slot_id, 1)
    with pytest.raises(ReferenceConflict):
        await _reserve(sessionmaker, other, "b")
    async with sessionmaker() as session:
        captured = await committed(session, holds.capture_slot_in_tx(session, slot.slot_id, NOW))
        again = await committed(session, holds.capture_slot_in_tx(session, slot.slot_id, NOW))
        release_after = await committed(session, holds.release_slot_in_tx(session, slot.slot_id, NOW))
        missing = await committed(session, holds.capture_slot_in_tx(session, 424242, NOW))
    assert (captured.changed, again.changed, release_after.status) == (True, False, HoldStatus.CAPTURED)
    assert missing.status is HoldStatus.NOT_FOUND
    assert await _usage(sessionmaker, user_id) == 1
    assert await _usage(sessionmaker, other) == 0


async def test_no_slot_beyond_the_quota(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    taken = [await _reserve(sessionmaker, user_id, f"q{n}", quota=2) for n in range(3)]
    assert [slot is not None for slot in taken] == [True, True, False]
    assert await _reserve(sessionmaker, user_id, "zero", quota=0) is None
    assert await _usage(sessionmaker, user_id) == 2
    assert set(await _slots(sessionmaker, user_id)) == {"q0", "q1"}


async def test_sweeper_releases_expired_slots_only(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    old = await _reserve(sessionmaker, user_id, "old", now=NOW - timedelta(minutes=30))
    await _reserve(sessionmaker, user_id, "fresh", now=NOW - timedelta(minutes=5))
    old_captured = await _reserve(sessionmaker, user_id, "old-captured", now=NOW - timedelta(hours=1))
    assert old is not None and old_captured is not None
    async with sessionmaker() as session:
        await committed(session, holds.capture_slot_in_tx(session, old_captured.slot_id, NOW - timedelta(minutes=59)))
    assert await _usage(sessionmaker, user_id) == 3
    assert await holds.sweep_expired_holds(sessionmaker, NOW) == 1
    assert await _slots(sessionmaker, user_id) == {"old": "released", "fresh": "held", "old-captured": "captured"}
    assert await holds.sweep_expired_holds(sessionmaker, NOW) == 0
    assert await _usage(sessionmaker, user_id) == 2
    async with sessionmaker() as session:
        late = await committed(session, holds.capture_slot_in_tx(session, old.slot_id, NOW))
    assert (late.status, late.changed) == (HoldStatus.RELEASED, False)


async def test_a_slot_swept_on_another_day_gives_back_its_own_day(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    late_evening = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
    await _reserve(sessionmaker, user_id, "evening", now=late_evening)
    await _reserve(sessionmaker, user_id, "morning", now=late_evening + timedelta(minutes=5))  # March 2nd
    assert await holds.sweep_expired_holds(sessionmaker, late_evening + timedelta(minutes=12)) == 1
    assert await _usage(sessionmaker, user_id, date(2026, 3, 1)) == 0
    assert await _usage(sessionmaker, user_id, date(2026, 3, 2)) == 1


async def test_policy_expiry_comes_from_the_config(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    policy = CreditsPolicy(CreditsConfig(hold_ttl=timedelta(seconds=75)))
    async with sessionmaker() as session:
        decision = await policy.authorize(session, user_id, "ttl", now=NOW)
    assert decision.mode is ChargeMode.FREE_QUOTA and decision.slot_id is not None
    async with sessionmaker() as session:
        expires = await session.scalar(select(QuotaSlot.expires_at).where(QuotaSlot.id == decision.slot_id))
    assert expires == NOW + timedelta(seconds=75)
    assert await holds.sweep_expired_holds(sessionmaker, NOW + timedelta(seconds=74)) == 0
    assert await holds.sweep_expired_holds(sessionmaker, NOW + timedelta(seconds=75)) == 1
    assert await _usage(sessionmaker, user_id) == 0
    assert (await get_user(sessionmaker, user_id)).dialog_count == 0


@POSTGRES_ONLY
async def test_concurrent_settles_and_sweeps_release_each_slot_once(sessionmaker: Sessions) -> None:
    """Quota slots taken concurrently never exceed the quota; releasing them while the sweeper runs
    gives each back exactly once (a double release would uncount an answered question)."""
    user_id = await make_user(sessionmaker)  # free plan: 5 free questions
    policy = CreditsPolicy(CreditsConfig(hold_ttl=TTL))

    def ask(n: int):  # type: ignore[no-untyped-def]
        async def call() -> ChargeDecision:
            async with sessionmaker() as session:
                return await policy.authorize(session, user_id, f"c{n}", now=NOW)

        return call

    decisions = await gather_bounded(20, [ask(n) for n in range(20)])
    free = [d for d in decisions if isinstance(d, ChargeDecision) and d.mode is ChargeMode.FREE_QUOTA]
    assert len(free) == 5 and await _usage(sessionmaker, user_id) == 5
    answered, failed = free[:2], free[2:]

    def settle(decision: ChargeDecision, success: bool):  # type: ignore[no-untyped-def]
        async def call() -> SlotResult | None:
            async with sessionmaker() as session:
                return (await policy.settle(session, decision, success)).slot

        return call

    async def sweep() -> int:
        return await holds.sweep_expired_holds(sessionmaker, NOW + TTL)

    for decision in answered:
        assert (await settle(decision, True)()).changed  # type: ignore[union-attr]
    # Now everything at once: the failed answers give their slots back while the sweeper finds them
    # expired, and the answered ones are settled again either way (no-ops).
    calls = [settle(d, False) for d in failed for _ in range(3)]
    calls += [settle(d, success) for d in answered for success in (True, False)]
    calls += [sweep] * 4
    results = await gather_bounded(20, calls)
    assert not [r for r in results if isinstance(r, BaseException)], results
    changed = [r for r in results if isinstance(r, SlotResult) and r.changed]
    swept = sum(r for r in results if isinstance(r, int))
    assert len(changed) + swept == 3
    assert all(r.status is HoldStatus.RELEASED for r in changed)
    assert await _usage(sessionmaker, user_id) == 2
    assert (await get_user(sessionmaker, user_id)).dialog_count == 2
    assert sorted((await _slots(sessionmaker, user_id)).values()) == ["captured"] * 2 + ["released"] * 3
