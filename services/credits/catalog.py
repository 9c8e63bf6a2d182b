"""What is on sale (credit packages, plans) and a user's past payments: plain reads for /buy and
/paysupport (the sale itself is services.credits.payments)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories.payments import PackageRepository, PaymentRepository, PlanRepository
from services.credits.payments import ProductKind


@dataclass(frozen=True)
class PackageOffer:
    code: str
    title: str
    stars_price: int
    credits: int
    bonus: int
    recommended: bool


@dataclass(frozen=True)
class PlanOffer:
    code: str
    title: str
    price_stars: int
    duration_days: int
    daily_free_questions: int
    max_feeds: int
    max_alerts: int


@dataclass(frozen=True)
class Offers:
    packages: tuple[PackageOffer, ...]
    plans: tuple[PlanOffer, ...]


@dataclass(frozen=True)
class PaymentRecord:
    """One of a user's payments, for /paysupport and receipts."""

    payment_id: int
    kind: ProductKind
    product_code: str
    amount: int  # Stars
    credits: int
    status: str  # paid | refunded
    charge_id: str | None
    paid_at: datetime | None
    refunded_at: datetime | None


async def recent_payments(session: AsyncSession, user_id: int, limit: int = 5) -> tuple[PaymentRecord, ...]:
    """The user's paid and refunded payments, newest first (pending invoices are not listed)."""
    rows = await PaymentRepository(session).recent_for_user(user_id, limit)
    await session.commit()  # end the read: no connection held while the caller replies
    return tuple(
        PaymentRecord(
            payment_id=payment.id,
            kind=ProductKind.PLAN if payment.plan_code is not None else ProductKind.PACKAGE,
            product_code=payment.plan_code or package_code or "",
            amount=payment.amount,
            credits=payment.credits,
            status=payment.status,
            charge_id=payment.charge_id,
            paid_at=payment.paid_at,
            refunded_at=payment.refunded_at,
        )
        for payment, package_code in rows
    )


async def list_offers(session: AsyncSession) -> Offers:
    """Active packages and purchasable plans, in display order."""
    packages = await PackageRepository(session).active()
    plans = [plan for plan in await PlanRepository(session).listed() if plan.active and plan.price_stars > 0]
    await session.commit()  # end the read: no connection held while the caller replies
    return Offers(
        packages=tuple(
            PackageOffer(
                code=p.code,
                title=p.title,
                stars_price=p.stars_price,
                credits=p.credits + p.bonus,
                bonus=p.bonus,
                recommended=p.recommended,
            )
            for p in packages
        ),
        plans=tuple(
            PlanOffer(
                code=p.code,
                title=p.title,
                price_stars=p.price_stars,
                duration_days=p.duration_days,
                daily_free_questions=p.daily_free_questions,
                max_feeds=p.max_feeds,
                max_alerts=p.max_alerts,
            )
            for p in plans
        ),
    )
