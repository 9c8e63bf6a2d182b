"""Reservations taken before the work and settled after it: credit holds and free-quota slots.

A credit hold is a debit on reserve, kept on capture (success) and credited back on release
(failure: `used` shrinks). A free-quota slot counts the question in the day's usage on reserve (one
conditional UPDATE, so concurrent questions can't exceed the quota), stays counted on capture and
is uncounted on release. Settling either is a conditional `held → …` UPDATE, so it happens exactly
once whatever the concurrency, and both expire: the sweeper releases what a crash left behind.

Nothing here commits: the service owning the unit of work (`CreditsPolicy`, the sweeper) does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import utcnow
from db.repositories.credits import AccountEffect, HoldRepository
from db.repositories.quota import QuotaSlotRepository, UsageRepository
from services.credits.errors import ReferenceConflict
from services.credits.ledger import apply_in_tx

HOLD_DEBIT_PREFIX = "hold:"
HOLD_RELEASE_PREFIX = "hold-release:"


class HoldStatus(StrEnum):
    HELD = "held"
    CAPTURED = "captured"
    RELEASED = "released"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class HoldResult:
    hold_id: int
    status: HoldStatus  # the hold's status after the call
    changed: bool  # True only for the call that captured/released it


async def reserve_in_tx(
    session: AsyncSession,
    user_id: int,
    amount: int,
    reference_id: str,
    ttl: timedelta,
    *,
    category: str = "chat",
    description: str = "",
    now: datetime | None = None,
) -> int:
    """Debit `amount` and record a hold expiring after `ttl`; the same reference returns the same
    hold id. Raises InsufficientCredits with nothing changed."""
    now = now or utcnow()
    entry = await apply_in_tx(
        session,
        AccountEffect.SPEND,
        amount,
        category=category,
        reference_id=HOLD_DEBIT_PREFIX + reference_id,
        description=description,
        user_id=user_id,
        now=now,
    )
    holds = HoldRepository(session)
    if entry.applied:
        hold_id = await holds.insert(entry.account_id, amount, reference_id, now + ttl, now)
        if hold_id is not None:
            return hold_id
    existing = await holds.by_reference(reference_id)
    if existing is None or existing.user_id != user_id:
        raise ReferenceConflict(reference_id)
    return existing.id


async def _current(holds: HoldRepository, hold_id: int) -> HoldResult:
    row = await holds.get(hold_id)
    status = HoldStatus(row.status) if row is not None else HoldStatus.NOT_FOUND
    return HoldResult(hold_id=hold_id, status=status, changed=False)


async def capture_in_tx(session: AsyncSession, hold_id: int, now: datetime | None = None) -> HoldResult:
    """Keep the reserved credits (idempotent; a released hold stays released)."""
    holds = HoldRepository(session)
    if await holds.settle(hold_id, HoldStatus.CAPTURED.value, now or utcnow()) is not None:
        return HoldResult(hold_id=hold_id, status=HoldStatus.CAPTURED, changed=True)
    return await _current(holds, hold_id)


async def release_in_tx(session: AsyncSession, hold_id: int, now: datetime | None = None) -> HoldResult:
    """Give the reserved credits back (idempotent; a captured hold stays captured)."""
    now = now or utcnow()
    holds = HoldRepository(session)
    settled = await holds.settle(hold_id, HoldStatus.RELEASED.value, now)
    if settled is None:
        return await _current(holds, hold_id)
    account_id, amount = settled
    await apply_in_tx(
        session,
        AccountEffect.RESTORE,
        amount,
        category="hold_release",
        reference_id=f"{HOLD_RELEASE_PREFIX}{hold_id}",
        account_id=account_id,
        now=now,
    )
    return HoldResult(hold_id=hold_id, status=HoldStatus.RELEASED, changed=True)


@dataclass(frozen=True)
class Slot:
    slot_id: int
    used: int  # the day's questions, this one included


@dataclass(frozen=True)
class SlotResult:
    slot_id: int
    status: HoldStatus  # the slot's status after the call
    changed: bool  # True only for the call that captured/released it


async def reserve_slot_in_tx(
    session: AsyncSession, user_id: int, day: date, quota: int, reference_id: str, ttl: timedelta, now: datetime
) -> Slot | None:
    """Take one of the day's `quota` free questions as a slot expiring after `ttl`; None when they
    are used up. The same reference returns its slot (counted once)."""
    slots, usage = QuotaSlotRepository(session), UsageRepository(session)
    existing = await slots.by_reference(reference_id)
    if existing is None:
        used = await usage.increment(user_id, day, limit=quota)
        if used is None:
            return None
        slot_id = await slots.insert(user_id, day, reference_id, now + ttl, now)
        if slot_id is not None:
            return Slot(slot_id=slot_id, used=used)
        await usage.decrement(user_id, day)  # the same reference won a race meanwhile: count it once
        existing = await slots.by_reference(reference_id)
    if existing is None or existing.user_id != user_id:
        raise ReferenceConflict(reference_id)
    return Slot(slot_id=existing.id, used=await usage.questions(user_id, existing.day))


async def _slot_now(slots: QuotaSlotRepository, slot_id: int) -> SlotResult:
    row = await slots.get(slot_id)
    status = HoldStatus(row.status) if row is not None else HoldStatus.NOT_FOUND
    return SlotResult(slot_id=slot_id, status=status, changed=False)


async def capture_slot_in_tx(session: AsyncSession, slot_id: int, now: datetime | None = None) -> SlotResult:
    """The question was answered: the slot stays counted (idempotent; a released slot stays released)."""
    slots = QuotaSlotRepository(session)
    if await slots.settle(slot_id, HoldStatus.CAPTURED.value, now or utcnow()) is not None:
        return SlotResult(slot_id=slot_id, status=HoldStatus.CAPTURED, changed=True)
    return await _slot_now(slots, slot_id)


async def release_slot_in_tx(session: AsyncSession, slot_id: int, now: datetime | None = None) -> SlotResult:
    """Give the free question back to its day (idempotent; a captured slot stays captured)."""
    slots = QuotaSlotRepository(session)
    settled = await slots.settle(slot_id, HoldStatus.RELEASED.value, now or utcnow())
    if settled is None:
        return await _slot_now(slots, slot_id)
    user_id, day = settled
    await UsageRepository(session).decrement(user_id, day)
    return SlotResult(slot_id=slot_id, status=HoldStatus.RELEASED, changed=True)


async def renew_in_tx(session: AsyncSession, hold_id: int, ttl: timedelta, now: datetime | None = None) -> bool:
    """The hold expires `ttl` from now instead (a question still waiting for its turn keeps its
    reservation); False once it is settled."""
    return await HoldRepository(session).extend(hold_id, (now or utcnow()) + ttl)


async def renew_slot_in_tx(session: AsyncSession, slot_id: int, ttl: timedelta, now: datetime | None = None) -> bool:
    """The free-quota slot expires `ttl` from now instead; False once it is settled."""
    return await QuotaSlotRepository(session).extend(slot_id, (now or utcnow()) + ttl)


async def sweep_expired_holds(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime | None = None, *, batch: int = 100
) -> int:
    """Release every credit hold and free-quota slot still held after its expiry, one transaction
    each (commits); the number released."""
    now = now or utcnow()
    released = 0
    async with sessionmaker() as session:
        for expired, release in (
            (HoldRepository(session).expired_ids, release_in_tx),
            (QuotaSlotRepository(session).expired_ids, release_slot_in_tx),
        ):
            while ids := await expired(now, batch):
                await session.commit()
                for item_id in ids:
                    result = await release(session, item_id, now)
                    await session.commit()
                    released += int(result.changed)
            await session.commit()
    return released
