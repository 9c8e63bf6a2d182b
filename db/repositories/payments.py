"""Payments (Telegram Stars invoices) and the catalog (credit packages, plans). Never commits.

Status changes are conditional UPDATEs (`pending → paid`, `paid → refunded`) so exactly one caller
makes each transition, however often Telegram delivers the update.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import CreditPackage, Payment, Plan, User
from db.repositories.dialect import insert_ignore

_NO_SYNC: dict[str, Any] = {"synchronize_session": False}


@dataclass(frozen=True)
class PaymentRow:
    id: int
    user_id: int
    package_id: int | None
    plan_code: str | None
    currency: str
    amount: int
    credits: int
    status: str
    invoice_payload: str
    charge_id: str | None
    paid_at: datetime | None
    refunded_at: datetime | None


_PAYMENT_COLUMNS = (
    Payment.id,
    Payment.user_id,
    Payment.package_id,
    Payment.plan_code,
    Payment.currency,
    Payment.amount,
    Payment.credits,
    Payment.status,
    Payment.invoice_payload,
    Payment.telegram_payment_charge_id,
    Payment.paid_at,
    Payment.refunded_at,
)


@dataclass(frozen=True)
class CheckoutView:
    """A payment with what pre-checkout must know, read in one query."""

    payment: PaymentRow
    on_sale: bool  # its package (or plan) is still active and priced
    user_banned: bool
    telegram_id: int
    plan_rank: int | None  # plans.sort of the plan being bought
    user_plan: str  # the user's stored plan, its expiry and rank
    user_plan_expires_at: datetime | None
    user_plan_rank: int | None


def _payment(row: Any) -> PaymentRow:
    return PaymentRow(*row)


class PaymentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self,
        *,
        user_id: int,
        package_id: int | None,
        plan_code: str | None,
        currency: str,
        amount: int,
        credits: int,
        payload: str,
        now: datetime,
    ) -> int:
        payment = Payment(
            user_id=user_id,
            package_id=package_id,
            plan_code=plan_code,
            currency=currency,
            amount=amount,
            credits=credits,
            status="pending",
            invoice_payload=payload,
            created_at=now,
        )
        self.session.add(payment)
        await self.session.flush()
        return payment.id

    async def _one(self, condition: ColumnElement[bool]) -> PaymentRow | None:
        row = (await self.session.execute(select(*_PAYMENT_COLUMNS).where(condition))).one_or_none()
        return None if row is None else _payment(row)

    async def by_payload(self, payload: str) -> PaymentRow | None:
        return await self._one(Payment.invoice_payload == payload)

    async def by_charge(self, charge_id: str) -> PaymentRow | None:
        return await self._one(Payment.telegram_payment_charge_id == charge_id)

    async def checkout_view(self, payload: str) -> CheckoutView | None:
        current_plan = aliased(Plan)
        statement = (
            select(
                *_PAYMENT_COLUMNS,
                CreditPackage.active,
                Plan.active & (Plan.price_stars > 0),
                Plan.sort,
                User.banned,
                User.telegram_id,
                User.plan,
                User.plan_expires_at,
                current_plan.sort,
            )
            .join(User, User.id == Payment.user_id)
            .outerjoin(CreditPackage, CreditPackage.id == Payment.package_id)
            .outerjoin(Plan, Plan.code == Payment.plan_code)
            .outerjoin(current_plan, current_plan.code == User.plan)
            .where(Payment.invoice_payload == payload)
        )
        row = (await self.session.execute(statement)).one_or_none()
        if row is None:
            return None
        values: tuple[Any, ...] = tuple(row)
        payment = _payment(values[: len(_PAYMENT_COLUMNS)])
        package_ok, plan_ok, plan_rank, banned, telegram_id, user_plan, expires, user_rank = values[
            len(_PAYMENT_COLUMNS) :
        ]
        return CheckoutView(
            payment=payment,
            on_sale=bool(package_ok) if payment.package_id is not None else bool(plan_ok),
            user_banned=bool(banned),
            telegram_id=int(telegram_id),
            plan_rank=plan_rank,
            user_plan=user_plan,
            user_plan_expires_at=expires,
            user_plan_rank=user_rank,
        )

    async def mark_paid(self, payload: str, charge_id: str, now: datetime) -> PaymentRow | None:
        """pending/failed → paid with the charge id; the row when this call made the transition."""
        statement = (
            update(Payment)
            .where(Payment.invoice_payload == payload, Payment.status.in_(("pending", "failed")))
            .values(status="paid", telegram_payment_charge_id=charge_id, paid_at=now)
            .returning(*_PAYMENT_COLUMNS)
            .execution_options(**_NO_SYNC)
        )
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else _payment(row)

    async def insert_paid(
        self, source: PaymentRow, *, user_id: int, payload: str, charge_id: str, now: datetime
    ) -> int | None:
        """A second charge against an already paid invoice: record it as its own paid payment
        (None when that charge is already recorded)."""
        values = {
            "user_id": user_id,
            "package_id": source.package_id,
            "plan_code": source.plan_code,
            "currency": source.currency,
            "amount": source.amount,
            "credits": source.credits,
            "status": "paid",
            "invoice_payload": payload,
            "telegram_payment_charge_id": charge_id,
            "paid_at": now,
            "created_at": now,
        }
        statement = insert_ignore(self.session, Payment, values).returning(Payment.id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def recent_for_user(
        self, user_id: int, limit: int, statuses: tuple[str, ...] = ("paid", "refunded")
    ) -> list[tuple[PaymentRow, str | None]]:
        """A user's payments in `statuses`, newest first, each with its package's code (None for plans)."""
        statement = (
            select(*_PAYMENT_COLUMNS, CreditPackage.code)
            .outerjoin(CreditPackage, CreditPackage.id == Payment.package_id)
            .where(Payment.user_id == user_id, Payment.status.in_(statuses))
            .order_by(Payment.created_at.desc(), Payment.id.desc())
            .limit(limit)
        )
        rows = (await self.session.execute(statement)).all()
        return [(_payment(tuple(row)[: len(_PAYMENT_COLUMNS)]), row[-1]) for row in rows]

    async def mark_refunded(self, charge_id: str, now: datetime) -> PaymentRow | None:
        """paid → refunded; the row when this call made the transition."""
        statement = (
            update(Payment)
            .where(Payment.telegram_payment_charge_id == charge_id, Payment.status == "paid")
            .values(status="refunded", refunded_at=now)
            .returning(*_PAYMENT_COLUMNS)
            .execution_options(**_NO_SYNC)
        )
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else _payment(row)


class PackageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_code(self, code: str) -> CreditPackage | None:
        return await self.session.scalar(select(CreditPackage).where(CreditPackage.code == code))

    async def get(self, package_id: int) -> CreditPackage | None:
        return await self.session.get(CreditPackage, package_id)

    async def active(self) -> list[CreditPackage]:
        statement = (
            select(CreditPackage).where(CreditPackage.active.is_(True)).order_by(CreditPackage.sort, CreditPackage.id)
        )
        return list((await self.session.execute(statement)).scalars())


class PlanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, code: str) -> Plan | None:
        return await self.session.get(Plan, code)

    async def listed(self) -> list[Plan]:
        return list((await self.session.execute(select(Plan).order_by(Plan.sort))).scalars())
