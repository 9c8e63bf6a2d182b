"""Credit holds: reserve before the work (a debit), capture after success (keep it), release after a
failure (a credit back, `used` shrinks). Settling is a conditional `held → …` UPDATE, so a hold is
captured or released exactly once whatever the concurrency; the sweeper releases holds a crash left
behind once they expire.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import utcnow
from db.repositories.credits import AccountEffect, HoldRepository
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
    """Debit `amount` and record a hold (no commit); the same reference returns the same hold id.
    Raises InsufficientCredits with nothing changed."""
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


async def reserve(
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
    """Reserve credits before expensive work; commits and returns the hold id."""
    hold_id = await reserve_in_tx(
        session, user_id, amount, reference_id, ttl, category=category, description=description, now=now
    )
    await session.commit()
    return hold_id


async def _current(holds: HoldRepository, hold_id: int) -> HoldResult:
    row = await holds.get(hold_id)
    status = HoldStatus(row.status) if row is not None else HoldStatus.NOT_FOUND
    return HoldResult(hold_id, status, changed=False)


async def capture_in_tx(session: AsyncSession, hold_id: int, now: datetime | None = None) -> HoldResult:
    holds = HoldRepository(session)
    if await holds.settle(hold_id, HoldStatus.CAPTURED.value, now or utcnow()) is not None:
        return HoldResult(hold_id, HoldStatus.CAPTURED, changed=True)
    return await _current(holds, hold_id)


async def release_in_tx(session: AsyncSession, hold_id: int, now: datetime | None = None) -> HoldResult:
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
    return HoldResult(hold_id, HoldStatus.RELEASED, changed=True)


async def capture(session: AsyncSession, hold_id: int, now: datetime | None = None) -> HoldResult:
    """Keep the reserved credits (idempotent; a released hold stays released). Commits."""
    result = await capture_in_tx(session, hold_id, now)
    await session.commit()
    return result


async def release(session: AsyncSession, hold_id: int, now: datetime | None = None) -> HoldResult:
    """Give the reserved credits back (idempotent; a captured hold stays captured). Commits."""
    result = await release_in_tx(session, hold_id, now)
    await session.commit()
    return result


async def sweep_expired_holds(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime | None = None, *, batch: int = 100
) -> int:
    """Release every hold still `held` after its expiry, one transaction per hold; the count released."""
    now = now or utcnow()
    released = 0
    async with sessionmaker() as session:
        while True:
            ids = await HoldRepository(session).expired_ids(now, batch)
            await session.commit()
            if not ids:
                return released
            for hold_id in ids:
                result = await release_in_tx(session, hold_id, now)
                await session.commit()
                released += int(result.changed)
