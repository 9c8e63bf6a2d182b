"""Refunds in two steps around Telegram's `refundStarPayment`:

1. `prepare_refund` (read-only) says whether the refund may go ahead and what it will take back;
2. the handler calls `refundStarPayment`; if that fails, nothing was changed;
3. `apply_refund` (only after Telegram refunded) marks the payment refunded and reverses the
   ledger (debit category "refund", reference `refund:<charge_id>`) as far as the credits are unspent
   — the money is already back with the user, so it never refuses; `paid → refunded` is a
   conditional UPDATE, so a repeated call is a no-op (`already_refunded`).

Refunded plans lose the purchased days (back to free if nothing remains; a subscription's paid
period is shortened alike, and /refund stops its renewal: handlers/admin.py); the inviter's share of
the purchase is taken back as far as it is unspent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import utcnow
from db.repositories.credits import AccountUserRepository, LedgerRepository
from db.repositories.payments import PaymentRepository, PaymentRow, PlanRepository
from services.credits.invites import purchase_reversal_reference, reverse_purchase_reward_in_tx
from services.credits.ledger import take_up_to_in_tx
from services.credits.plans import FREE, effective_plan_code
from services.credits.subscriptions import shorten_for_refund_in_tx

REFUND_CATEGORY = "refund"


def refund_reference(charge_id: str) -> str:
    return f"refund:{charge_id}"


class RefundStatus(StrEnum):
    OK = "ok"  # prepare: go ahead
    REFUNDED = "refunded"  # apply: done now
    ALREADY_REFUNDED = "already_refunded"
    UNKNOWN_PAYMENT = "unknown_payment"
    NOT_PAID = "not_paid"
    CREDITS_SPENT = "credits_spent"  # prepare: some purchased credits are spent; use force=True


@dataclass(frozen=True)
class RefundCheck:
    ok: bool
    status: RefundStatus
    charge_id: str
    payment_id: int | None = None
    user_id: int | None = None
    telegram_user_id: int | None = None  # refundStarPayment's user_id
    amount: int = 0  # Stars going back
    credits: int = 0  # credits the payment gave
    debit: int = 0  # credits that will be taken back
    shortfall: int = 0  # credits already spent, not taken back
    plan_code: str | None = None


@dataclass(frozen=True)
class RefundResult:
    status: RefundStatus
    charge_id: str
    payment_id: int | None = None
    user_id: int | None = None
    debited: int = 0
    shortfall: int = 0
    balance_after: int | None = None
    plan_code: str | None = None  # the user's plan afterwards (plan refunds)
    plan_expires_at: datetime | None = None
    inviter_reversed: int = 0


async def prepare_refund(session: AsyncSession, charge_id: str, force: bool = False) -> RefundCheck:
    """May this payment be refunded? Read-only, and the read transaction is ended before returning,
    so the caller holds no connection while it asks Telegram to refund. Refuses with `credits_spent`
    when the user no longer has all the purchased credits, unless `force` (then only what is
    available is taken back)."""
    try:
        return await _check_refund(session, charge_id, force)
    finally:
        await session.commit()


async def _check_refund(session: AsyncSession, charge_id: str, force: bool) -> RefundCheck:
    payment = await PaymentRepository(session).by_charge(charge_id)
    if payment is None:
        return RefundCheck(ok=False, status=RefundStatus.UNKNOWN_PAYMENT, charge_id=charge_id)
    user = await AccountUserRepository(session).brief(payment.user_id)
    base = RefundCheck(
        ok=False,
        status=RefundStatus.OK,
        charge_id=charge_id,
        payment_id=payment.id,
        user_id=payment.user_id,
        telegram_user_id=user.telegram_id if user else None,
        amount=payment.amount,
        credits=payment.credits,
        plan_code=payment.plan_code,
    )
    if payment.status == "refunded":
        return _with(base, RefundStatus.ALREADY_REFUNDED)
    if payment.status != "paid":
        return _with(base, RefundStatus.NOT_PAID)
    debit, shortfall = 0, 0
    if payment.credits > 0:
        account = await LedgerRepository(session).account(payment.user_id)
        available = account.available if account else 0
        debit = min(payment.credits, available)
        shortfall = payment.credits - debit
    if shortfall and not force:
        return _with(base, RefundStatus.CREDITS_SPENT, debit, shortfall)
    return _with(base, RefundStatus.OK, debit, shortfall, ok=True)


def _with(
    base: RefundCheck, status: RefundStatus, debit: int = 0, shortfall: int = 0, *, ok: bool = False
) -> RefundCheck:
    return replace(base, ok=ok, status=status, debit=debit, shortfall=shortfall)


async def _shorten_plan(
    session: AsyncSession, payment: PaymentRow, now: datetime
) -> tuple[str | None, datetime | None]:
    users = AccountUserRepository(session)
    user = await users.lock(payment.user_id)
    if user is None:
        return None, None
    current = effective_plan_code(user.plan, user.plan_expires_at, now)
    if current != payment.plan_code or user.plan_expires_at is None:
        return current, user.plan_expires_at if current != FREE else None
    plan = await PlanRepository(session).get(payment.plan_code)
    days = plan.duration_days if plan else 30
    await shorten_for_refund_in_tx(session, payment, days, now)
    expires = user.plan_expires_at - timedelta(days=days)
    if expires <= now:
        await users.set_plan(payment.user_id, FREE, None)
        return FREE, None
    await users.set_plan(payment.user_id, current, expires)
    return current, expires


async def apply_refund(session: AsyncSession, charge_id: str, now: datetime | None = None) -> RefundResult:
    """Record a refund Telegram has made: payment refunded, ledger reversed as far as possible.
    Idempotent. Commits."""
    now = now or utcnow()
    payments = PaymentRepository(session)
    payment = await payments.mark_refunded(charge_id, now)
    if payment is None:
        existing = await payments.by_charge(charge_id)
        await session.commit()
        if existing is None:
            return RefundResult(status=RefundStatus.UNKNOWN_PAYMENT, charge_id=charge_id)
        status = RefundStatus.ALREADY_REFUNDED if existing.status == "refunded" else RefundStatus.NOT_PAID
        return RefundResult(status=status, charge_id=charge_id, payment_id=existing.id, user_id=existing.user_id)
    debited, balance_after = 0, None
    plan_code, plan_expires = None, None
    if payment.credits > 0:
        entry = await take_up_to_in_tx(
            session,
            payment.user_id,
            payment.credits,
            category=REFUND_CATEGORY,
            reference_id=refund_reference(charge_id),
            description=f"payment:{payment.id}",
        )
        if entry is not None:
            debited, balance_after = entry.amount, entry.balance_after
        else:
            account = await LedgerRepository(session).account(payment.user_id)
            balance_after = account.available if account else 0
    if payment.plan_code is not None:
        plan_code, plan_expires = await _shorten_plan(session, payment, now)
    reversed_reward = await reverse_purchase_reward_in_tx(session, charge_id)
    await session.commit()
    return RefundResult(
        status=RefundStatus.REFUNDED,
        charge_id=charge_id,
        payment_id=payment.id,
        user_id=payment.user_id,
        debited=debited,
        shortfall=payment.credits - debited,
        balance_after=balance_after,
        plan_code=plan_code,
        plan_expires_at=plan_expires,
        inviter_reversed=reversed_reward,
    )


async def refund_summary(session: AsyncSession, charge_id: str) -> RefundResult:
    """What a completed refund reversed, read back from the ledger (for a refund recorded by another
    update, e.g. Telegram's refunded_payment notice racing the admin's /refund). Read-only."""
    payment = await PaymentRepository(session).by_charge(charge_id)
    if payment is None:
        return RefundResult(status=RefundStatus.UNKNOWN_PAYMENT, charge_id=charge_id)
    if payment.status != "refunded":
        return RefundResult(
            status=RefundStatus.NOT_PAID, charge_id=charge_id, payment_id=payment.id, user_id=payment.user_id
        )
    ledger = LedgerRepository(session)
    entry = await ledger.transaction_by_reference(refund_reference(charge_id))
    reward = await ledger.transaction_by_reference(purchase_reversal_reference(charge_id))
    debited = entry.amount if entry is not None else 0
    balance_after = entry.balance_after if entry is not None else None
    if entry is None and payment.credits > 0:
        account = await ledger.account(payment.user_id)
        balance_after = account.available if account else 0
    plan_code, plan_expires = None, None
    if payment.plan_code is not None:
        user = await AccountUserRepository(session).brief(payment.user_id)
        if user is not None:
            plan_code = effective_plan_code(user.plan, user.plan_expires_at, utcnow())
            plan_expires = user.plan_expires_at if plan_code != FREE else None
    return RefundResult(
        status=RefundStatus.ALREADY_REFUNDED,
        charge_id=charge_id,
        payment_id=payment.id,
        user_id=payment.user_id,
        debited=debited,
        shortfall=payment.credits - debited,
        balance_after=balance_after,
        plan_code=plan_code,
        plan_expires_at=plan_expires,
        inviter_reversed=reward.amount if reward is not None else 0,
    )
