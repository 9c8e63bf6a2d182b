"""Plan subscriptions (Telegram Stars): one row per subscription, keyed by its first invoice's
payload. Never commits. Changes are conditional UPDATEs, so a repeated update changes nothing twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import PlanSubscription, User
from db.repositories.dialect import insert_ignore

_NO_SYNC: dict[str, Any] = {"synchronize_session": False}


@dataclass(frozen=True)
class SubscriptionRow:
    id: int
    user_id: int
    plan_code: str
    invoice_payload: str
    charge_id: str
    expires_at: datetime
    state: str  # active | canceled | failed
    canceled_by: str | None  # user | bot
    telegram_id: int


_COLUMNS = (
    PlanSubscription.id,
    PlanSubscription.user_id,
    PlanSubscription.plan_code,
    PlanSubscription.invoice_payload,
    PlanSubscription.charge_id,
    PlanSubscription.expires_at,
    PlanSubscription.state,
    PlanSubscription.canceled_by,
    User.telegram_id,
)


class SubscriptionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self, *, user_id: int, plan_code: str, payload: str, charge_id: str, expires_at: datetime, now: datetime
    ) -> bool:
        """A new subscription (its first payment); False when this payload has one already."""
        values = {
            "user_id": user_id,
            "plan_code": plan_code,
            "invoice_payload": payload,
            "charge_id": charge_id,
            "expires_at": expires_at,
            "state": "active",
            "canceled_by": None,
            "created_at": now,
            "updated_at": now,
        }
        statement = insert_ignore(self.session, PlanSubscription, values).returning(PlanSubscription.id)
        return (await self.session.execute(statement)).scalar_one_or_none() is not None

    async def _one(self, condition: ColumnElement[bool]) -> SubscriptionRow | None:
        statement = select(*_COLUMNS).join(User, User.id == PlanSubscription.user_id).where(condition)
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else SubscriptionRow(*row)

    async def by_payload(self, payload: str) -> SubscriptionRow | None:
        return await self._one(PlanSubscription.invoice_payload == payload)

    async def get(self, subscription_id: int) -> SubscriptionRow | None:
        return await self._one(PlanSubscription.id == subscription_id)

    async def latest_for_user(self, user_id: int) -> SubscriptionRow | None:
        """The user's subscription that runs longest (ties: the newest)."""
        statement = (
            select(*_COLUMNS)
            .join(User, User.id == PlanSubscription.user_id)
            .where(PlanSubscription.user_id == user_id)
            .order_by(PlanSubscription.expires_at.desc(), PlanSubscription.id.desc())
            .limit(1)
        )
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else SubscriptionRow(*row)

    async def renewing_for_user(self, user_id: int, now: datetime, *, except_payload: str) -> list[SubscriptionRow]:
        """The user's other subscriptions that still renew (active, paid period not over)."""
        statement = (
            select(*_COLUMNS)
            .join(User, User.id == PlanSubscription.user_id)
            .where(
                PlanSubscription.user_id == user_id,
                PlanSubscription.state == "active",
                PlanSubscription.expires_at > now,
                PlanSubscription.invoice_payload != except_payload,
            )
            .order_by(PlanSubscription.id)
        )
        return [SubscriptionRow(*row) for row in (await self.session.execute(statement)).all()]

    async def set_period(self, subscription_id: int, expires_at: datetime, state: str, now: datetime) -> None:
        """The paid period now ends at `expires_at` (a renewal, a refund), in `state`."""
        await self.session.execute(
            update(PlanSubscription)
            .where(PlanSubscription.id == subscription_id)
            .values(expires_at=expires_at, state=state, updated_at=now)
            .execution_options(**_NO_SYNC)
        )

    async def set_state(
        self, subscription_id: int, state: str, canceled_by: str | None, now: datetime, *, only_from: tuple[str, ...]
    ) -> bool:
        """state/canceled_by changed, if the row is in one of `only_from` and differs; True when changed."""
        statement = (
            update(PlanSubscription)
            .where(
                PlanSubscription.id == subscription_id,
                PlanSubscription.state.in_(only_from),
                (PlanSubscription.state != state) | PlanSubscription.canceled_by.is_distinct_from(canceled_by),
            )
            .values(state=state, canceled_by=canceled_by, updated_at=now)
            .returning(PlanSubscription.id)
            .execution_options(**_NO_SYNC)
        )
        return (await self.session.execute(statement)).scalar_one_or_none() is not None
