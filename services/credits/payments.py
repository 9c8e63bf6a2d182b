"""Selling credits and plans for Telegram Stars (XTR): offers → invoice → pre-checkout → payment.

`complete_payment` is idempotent on the charge id: the `pending → paid` transition is one
conditional UPDATE, so however many times (and however concurrently) Telegram delivers the same
successful_payment, one call credits the ledger (reference `purchase:<charge_id>`) or extends the
plan, and only that call gets `first=True` (send the receipt only then).

Plans are Telegram Stars subscriptions (services.credits.subscriptions): the invoice asks for
`subscription_period`; each renewal is a new charge on the same payload, recorded as its own paid
payment (the "second charge" path below) and carrying the plan to the new expiration date.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import utcnow
from db.repositories.credits import AccountEffect, AccountUserRepository, LedgerRepository
from db.repositories.payments import CheckoutView, PackageRepository, PaymentRepository, PaymentRow, PlanRepository
from services.credits.config import DEFAULT_CONFIG, CreditsConfig
from services.credits.errors import HigherPlanActive, NotOnSale, UnknownUser, UserBanned
from services.credits.invites import InviteReward, reward_purchase_in_tx
from services.credits.ledger import apply_in_tx
from services.credits.plans import FREE, effective_plan_code, extend_plan_in_tx, plan_info
from services.credits.subscriptions import (
    CLONE_SEPARATOR,
    SUBSCRIPTION_PERIOD_SECONDS,
    SubscriptionCharge,
    SubscriptionView,
    apply_charge_in_tx,
    superseded_in_tx,
)

log = logging.getLogger(__name__)

PAYLOAD_PREFIX = "cs1:"
PURCHASE_CATEGORY = "purchase"


def purchase_reference(charge_id: str) -> str:
    return f"purchase:{charge_id}"


class ProductKind(StrEnum):
    PACKAGE = "package"
    PLAN = "plan"


@dataclass(frozen=True)
class Invoice:
    payment_id: int
    payload: str  # unique, ≤ 128 bytes (Telegram's limit)
    kind: ProductKind
    product_code: str
    title: str  # the product's name from the database (handlers may localize by product_code)
    description_key: str  # locale key; params: credits, bonus, days, title
    currency: str
    amount: int  # Stars
    credits: int  # incl. bonus (0 for plans)
    bonus: int
    days: int  # plan duration (0 for packages)
    subscription_period: int | None = None  # seconds, for plans: sold as a Stars subscription


class PreCheckoutReason(StrEnum):
    OK = "ok"
    UNKNOWN_INVOICE = "unknown_invoice"
    WRONG_USER = "wrong_user"  # someone else's invoice (forwarded)
    ALREADY_PAID = "already_paid"
    NOT_ON_SALE = "not_on_sale"  # the package/plan was deactivated after the invoice was sent
    BANNED = "banned"
    AMOUNT_MISMATCH = "amount_mismatch"  # also a currency other than the invoice's
    HIGHER_PLAN_ACTIVE = "higher_plan_active"  # a higher plan became active after the invoice was sent
    UNAVAILABLE = "unavailable"  # the database could not be read in time: refuse now, the user may retry


@dataclass(frozen=True)
class PreCheckoutResult:
    ok: bool
    reason: PreCheckoutReason


class PaymentOutcome(StrEnum):
    CREDITED = "credited"
    PLAN_EXTENDED = "plan_extended"
    UNKNOWN_INVOICE = "unknown_invoice"  # money arrived for no invoice we know: alert operators


@dataclass(frozen=True)
class PaymentResult:
    first: bool  # True for exactly one call per charge: send the receipt only then
    outcome: PaymentOutcome
    payment_id: int | None = None
    user_id: int | None = None
    amount: int = 0  # Stars
    credits: int = 0
    balance_after: int | None = None
    plan_code: str | None = None
    plan_expires_at: datetime | None = None
    invite_reward: InviteReward | None = None  # the inviter was paid by this call (notify them)
    subscription: bool = False  # a charge of a plan subscription
    renewal: bool = False  # ...and not its first one
    superseded: tuple[SubscriptionView, ...] = ()  # the user's other renewing subscriptions: cancel them


def new_payload() -> str:
    return PAYLOAD_PREFIX + secrets.token_urlsafe(18)


async def create_invoice(
    session: AsyncSession,
    user_id: int,
    *,
    package_code: str | None = None,
    plan_code: str | None = None,
    config: CreditsConfig = DEFAULT_CONFIG,
    now: datetime | None = None,
) -> Invoice:
    """Record a pending payment and return what `send_invoice` needs. Commits.
    Raises NotOnSale, UserBanned, UnknownUser, HigherPlanActive (a lower plan while a higher is on)."""
    if (package_code is None) == (plan_code is None):
        raise ValueError("give exactly one of package_code and plan_code")
    now = now or utcnow()
    user = await AccountUserRepository(session).brief(user_id)
    if user is None:
        raise UnknownUser(user_id)
    if user.banned:
        raise UserBanned(f"user {user_id} is banned")
    payments = PaymentRepository(session)
    payload = new_payload()
    if package_code is not None:
        package = await PackageRepository(session).by_code(package_code)
        if package is None or not package.active:
            raise NotOnSale(f"package:{package_code}")
        credits = package.credits + package.bonus
        payment_id = await payments.create(
            user_id=user_id,
            package_id=package.id,
            plan_code=None,
            currency=config.currency,
            amount=package.stars_price,
            credits=credits,
            payload=payload,
            now=now,
        )
        await session.commit()
        return Invoice(
            payment_id=payment_id,
            payload=payload,
            kind=ProductKind.PACKAGE,
            product_code=package.code,
            title=package.title,
            description_key="invoice-package-description",
            currency=config.currency,
            amount=package.stars_price,
            credits=credits,
            bonus=package.bonus,
            days=0,
        )
    assert plan_code is not None
    plans = PlanRepository(session)
    plan = await plans.get(plan_code)
    if plan is None or not plan.active or plan.price_stars <= 0 or plan.code == FREE:
        raise NotOnSale(f"plan:{plan_code}")
    current_code = effective_plan_code(user.plan, user.plan_expires_at, now)
    current = await plans.get(current_code)
    if current is not None and current.code != plan.code and current.sort > plan.sort:
        raise HigherPlanActive(current.code, plan.code)
    payment_id = await payments.create(
        user_id=user_id,
        package_id=None,
        plan_code=plan.code,
        currency=config.currency,
        amount=plan.price_stars,
        credits=0,
        payload=payload,
        now=now,
    )
    await session.commit()
    info = plan_info(plan)
    return Invoice(
        payment_id=payment_id,
        payload=payload,
        kind=ProductKind.PLAN,
        product_code=info.code,
        title=info.title,
        description_key="invoice-plan-description",
        currency=config.currency,
        amount=info.price_stars,
        credits=0,
        bonus=0,
        days=info.duration_days,
        subscription_period=SUBSCRIPTION_PERIOD_SECONDS,
    )


async def check_pre_checkout(
    session: AsyncSession,
    payload: str,
    user_id: int,
    currency: str,
    total_amount: int,
    now: datetime | None = None,
) -> PreCheckoutResult:
    """Answer pre_checkout_query: one read, no writes. `user_id` is our users.id of the payer.

    A database error is an answer too (`UNAVAILABLE`): the query must be answered within 10 s, so it
    is refused with a reason rather than left to time out."""
    now = now or utcnow()
    try:
        view = await PaymentRepository(session).checkout_view(payload)
        await session.commit()  # end the read: no connection held while the caller answers Telegram
    except SQLAlchemyError:
        log.exception("pre-checkout of %r: database error", payload)
        return PreCheckoutResult(ok=False, reason=PreCheckoutReason.UNAVAILABLE)
    if view is None:
        return PreCheckoutResult(ok=False, reason=PreCheckoutReason.UNKNOWN_INVOICE)
    payment = view.payment
    reason = PreCheckoutReason.OK
    if payment.user_id != user_id:
        reason = PreCheckoutReason.WRONG_USER
    elif view.user_banned:
        reason = PreCheckoutReason.BANNED
    elif payment.status not in ("pending", "failed"):
        reason = PreCheckoutReason.ALREADY_PAID
    elif currency != payment.currency or total_amount != payment.amount:
        reason = PreCheckoutReason.AMOUNT_MISMATCH
    elif not view.on_sale:
        reason = PreCheckoutReason.NOT_ON_SALE
    elif payment.plan_code is not None and _higher_plan_active(view, now):
        reason = PreCheckoutReason.HIGHER_PLAN_ACTIVE
    return PreCheckoutResult(ok=reason is PreCheckoutReason.OK, reason=reason)


def _higher_plan_active(view: CheckoutView, now: datetime) -> bool:
    current = effective_plan_code(view.user_plan, view.user_plan_expires_at, now)
    if current == FREE or current == view.payment.plan_code:
        return False
    return (view.user_plan_rank or 0) > (view.plan_rank or 0)


async def _fulfil(
    session: AsyncSession,
    payment: PaymentRow,
    charge_id: str,
    config: CreditsConfig,
    now: datetime,
    *,
    payload: str,
    subscription: SubscriptionCharge | None,
) -> PaymentResult:
    if payment.plan_code is not None and subscription is not None:
        change = await apply_charge_in_tx(session, payment, payload, subscription, purchase_reference(charge_id), now)
        superseded = await superseded_in_tx(session, payment.user_id, payload, now) if subscription.first else ()
        return PaymentResult(
            first=True,
            outcome=PaymentOutcome.PLAN_EXTENDED,
            payment_id=payment.id,
            user_id=payment.user_id,
            amount=payment.amount,
            plan_code=change.plan_code,
            plan_expires_at=change.expires_at,
            subscription=True,
            renewal=not subscription.first,
            superseded=superseded,
        )
    if payment.plan_code is not None:
        plan = await PlanRepository(session).get(payment.plan_code)
        days = plan.duration_days if plan is not None else 30
        change = await extend_plan_in_tx(
            session, payment.user_id, payment.plan_code, days, purchase_reference(charge_id), now
        )
        return PaymentResult(
            first=True,
            outcome=PaymentOutcome.PLAN_EXTENDED,
            payment_id=payment.id,
            user_id=payment.user_id,
            amount=payment.amount,
            plan_code=change.plan_code,
            plan_expires_at=change.expires_at,
        )
    entry = await apply_in_tx(
        session,
        AccountEffect.GRANT,
        payment.credits,
        category=PURCHASE_CATEGORY,
        reference_id=purchase_reference(charge_id),
        description=f"payment:{payment.id}",
        user_id=payment.user_id,
        now=now,
    )
    reward = await reward_purchase_in_tx(session, payment.user_id, charge_id, payment.credits, config)
    return PaymentResult(
        first=True,
        outcome=PaymentOutcome.CREDITED,
        payment_id=payment.id,
        user_id=payment.user_id,
        amount=payment.amount,
        credits=payment.credits,
        balance_after=entry.balance_after,
        invite_reward=reward,
    )


async def _replay(session: AsyncSession, payment: PaymentRow) -> PaymentResult:
    """The result of an already completed payment, for a repeated delivery (first=False)."""
    if payment.plan_code is not None:
        user = await AccountUserRepository(session).brief(payment.user_id)
        return PaymentResult(
            first=False,
            outcome=PaymentOutcome.PLAN_EXTENDED,
            payment_id=payment.id,
            user_id=payment.user_id,
            amount=payment.amount,
            plan_code=user.plan if user else payment.plan_code,
            plan_expires_at=user.plan_expires_at if user else None,
            subscription=CLONE_SEPARATOR in payment.invoice_payload,
        )
    entry = await LedgerRepository(session).transaction_by_reference(purchase_reference(payment.charge_id or ""))
    return PaymentResult(
        first=False,
        outcome=PaymentOutcome.CREDITED,
        payment_id=payment.id,
        user_id=payment.user_id,
        amount=payment.amount,
        credits=payment.credits,
        balance_after=entry.balance_after if entry else None,
    )


async def complete_payment(
    session: AsyncSession,
    payload: str,
    telegram_payment_charge_id: str,
    total_amount: int,
    user_id: int,
    *,
    config: CreditsConfig = DEFAULT_CONFIG,
    now: datetime | None = None,
    subscription: SubscriptionCharge | None = None,
) -> PaymentResult:
    """Handle successful_payment: mark paid, credit/extend, reward the inviter; idempotent on the
    charge id. Commits. `user_id` is our users.id of the payer; `subscription` for a recurring
    payment (first or renewal)."""
    if not telegram_payment_charge_id:
        raise ValueError("telegram_payment_charge_id is required")
    now = now or utcnow()
    payments = PaymentRepository(session)
    charge_id = telegram_payment_charge_id
    payment = await payments.mark_paid(payload, charge_id, now)
    if payment is None:
        recorded = await payments.by_charge(charge_id)
        if recorded is not None:
            result = await _replay(session, recorded)
            await session.commit()
            return result
        invoice = await payments.by_payload(payload)
        if invoice is None:
            log.error(
                "payment %s of %s XTR by user %s for unknown invoice %r", charge_id, total_amount, user_id, payload
            )
            await session.commit()
            return PaymentResult(
                first=False, outcome=PaymentOutcome.UNKNOWN_INVOICE, user_id=user_id, amount=total_amount
            )
        # A second charge for an invoice that is already paid: it is real money, record and honour it.
        suffix = hashlib.sha256(charge_id.encode()).hexdigest()[:16]
        clone_payload = f"{payload[:100]}{CLONE_SEPARATOR}{suffix}"
        payment_id = await payments.insert_paid(
            invoice, user_id=user_id, payload=clone_payload, charge_id=charge_id, now=now
        )
        payment = await payments.by_charge(charge_id)
        assert payment is not None
        if payment_id is None:
            result = await _replay(session, payment)
            await session.commit()
            return result
    if total_amount != payment.amount:
        log.warning(
            "payment %s: charged %s XTR, invoice %s was for %s", charge_id, total_amount, payload, payment.amount
        )
    result = await _fulfil(session, payment, charge_id, config, now, payload=payload, subscription=subscription)
    await session.commit()
    return result
