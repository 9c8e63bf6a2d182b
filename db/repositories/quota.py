"""The daily free quota: questions counted per user per UTC day, and the slots reserved against it.

Never commits. Taking a slot is one conditional UPDATE of the day's counter (`questions < quota`),
so concurrent questions can't exceed the quota; the `quota_slots` row records the reservation with
an expiry, and settling it is a conditional `held → …` UPDATE, so it happens exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import DailyUsage, QuotaSlot
from db.repositories.dialect import insert_ignore

_NO_SYNC: dict[str, Any] = {"synchronize_session": False}


@dataclass(frozen=True)
class SlotRow:
    id: int
    user_id: int
    day: date
    status: str
    reference_id: str
    expires_at: datetime


_SLOT_COLUMNS = tuple(getattr(QuotaSlot, name) for name in SlotRow.__dataclass_fields__)


class UsageRepository:
    """Questions per user per UTC day; the quota check is one conditional UPDATE."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _increment(self, user_id: int, day: date, limit: int | None) -> int | None:
        where = (DailyUsage.user_id == user_id) & (DailyUsage.day == day)
        if limit is not None:
            where = where & (DailyUsage.questions < limit)
        statement = (
            update(DailyUsage)
            .where(where)
            .values(questions=DailyUsage.questions + 1)
            .returning(DailyUsage.questions)
            .execution_options(**_NO_SYNC)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def increment(self, user_id: int, day: date, limit: int | None = None) -> int | None:
        """Count one question (only while below `limit`); the new count, or None at the limit."""
        if limit is not None and limit <= 0:
            return None
        count = await self._increment(user_id, day, limit)
        if count is not None:
            return count
        values = {"user_id": user_id, "day": day, "questions": 1}
        inserted = insert_ignore(self.session, DailyUsage, values, "user_id", "day").returning(DailyUsage.questions)
        count = (await self.session.execute(inserted)).scalar_one_or_none()
        if count is not None:
            return count
        # Someone else created today's row meanwhile (or it is at the limit): one more conditional try.
        return await self._increment(user_id, day, limit)

    async def decrement(self, user_id: int, day: date) -> bool:
        statement = (
            update(DailyUsage)
            .where(DailyUsage.user_id == user_id, DailyUsage.day == day, DailyUsage.questions > 0)
            .values(questions=DailyUsage.questions - 1)
            .execution_options(**_NO_SYNC)
        )
        result = await self.session.execute(statement)
        return bool(getattr(result, "rowcount", 0))

    async def questions(self, user_id: int, day: date) -> int:
        statement = select(DailyUsage.questions).where(DailyUsage.user_id == user_id, DailyUsage.day == day)
        return int((await self.session.execute(statement)).scalar_one_or_none() or 0)


class QuotaSlotRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(
        self, user_id: int, day: date, reference_id: str, expires_at: datetime, now: datetime
    ) -> int | None:
        """Record a held slot; None when the reference already has one (nothing inserted)."""
        values = {
            "user_id": user_id,
            "day": day,
            "status": "held",
            "reference_id": reference_id,
            "expires_at": expires_at,
            "created_at": now,
        }
        statement = insert_ignore(self.session, QuotaSlot, values, "reference_id").returning(QuotaSlot.id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def _one(self, condition: ColumnElement[bool]) -> SlotRow | None:
        statement = select(*_SLOT_COLUMNS).where(condition)
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else SlotRow(*row)

    async def get(self, slot_id: int) -> SlotRow | None:
        return await self._one(QuotaSlot.id == slot_id)

    async def by_reference(self, reference_id: str) -> SlotRow | None:
        return await self._one(QuotaSlot.reference_id == reference_id)

    async def settle(self, slot_id: int, status: str, now: datetime) -> tuple[int, date] | None:
        """held → `status`, exactly once; (user_id, day) when this call made the change."""
        statement = (
            update(QuotaSlot)
            .where(QuotaSlot.id == slot_id, QuotaSlot.status == "held")
            .values(status=status, settled_at=now)
            .returning(QuotaSlot.user_id, QuotaSlot.day)
            .execution_options(**_NO_SYNC)
        )
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else (row[0], row[1])

    async def extend(self, slot_id: int, expires_at: datetime) -> bool:
        """A slot still held expires at `expires_at` instead; False once it is settled."""
        statement = (
            update(QuotaSlot)
            .where(QuotaSlot.id == slot_id, QuotaSlot.status == "held")
            .values(expires_at=expires_at)
            .returning(QuotaSlot.id)
            .execution_options(**_NO_SYNC)
        )
        return (await self.session.execute(statement)).one_or_none() is not None

    async def expired_ids(self, now: datetime, limit: int) -> list[int]:
        statement = (
            select(QuotaSlot.id)
            .where(QuotaSlot.status == "held", QuotaSlot.expires_at <= now)
            .order_by(QuotaSlot.id)
            .limit(limit)
        )
        return list((await self.session.execute(statement)).scalars())
