"""Plans sold as Telegram Stars subscriptions (one charge every 30 days until canceled).

- First payment (successful_payment with is_first_recurring): the subscription is recorded and the
  plan runs until Telegram's `subscription_expiration_date`.
- Each renewal (is_recurring, not first: same invoice payload, new charge id) moves the end of the
  paid period, and the plan's expiry, to the new expiration date.
- A new subscription replaces the user's others: their renewal is canceled (the caller does it
  through editUserStarSubscription), their paid periods stand.
- Canceled (by the user in Telegram: the `subscription` update; by the user through /plan: the bot's
  `editUserStarSubscription`) or failed (the `subscription` update "failed", or simply no renewal by
  the expiration date): the plan stays until the paid period ends; then the plan-expiry job
  (services/scheduling/plan_expiry.py) takes it down like any other expired plan.

Each charge is a payment row (UNIQUE charge id: services.credits.payments); this module only moves
dates and states, under the user's row lock, so concurrent updates of one user apply one by one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import utcnow
from db.repositories.credits import AccountUserRepository, AuditRepository
from db.repositories.payments import PaymentRepository, PaymentRow, PlanRepository
from db.repositories.subscriptions import SubscriptionRepository, SubscriptionRow
from services.credits.errors import UnknownUser
from services.credits.plans import FREE, PLAN_EXTEND_ACTION, PlanChange, effective_plan_code

log = logging.getLogger(__name__)

SUBSCRIPTION_PERIOD_SECONDS = 2592000  # Telegram accepts only 30 days
SUBSCRIPTION_PERIOD = timedelta(seconds=SUBSCRIPTION_PERIOD_SECONDS)
CLONE_SEPARATOR = "#"  # a renewal's payment row: "<subscription payload>#<charge hash>" (payments.py)


@dataclass(frozen=True)
class SubscriptionCharge:
    """What a recurring successful_payment says about its subscription."""

    expires_at: datetime  # subscription_expiration_date
    first: bool  # is_first_recurring


def subscription_charge(
    is_recurring: bool | None, is_first_recurring: bool | None, expiration_date: int | None
) -> SubscriptionCharge | None:
    """The subscription part of a successful_payment (None for a one-off payment)."""
    if not is_recurring or expiration_date is None:
        return None
    return SubscriptionCharge(datetime.fromtimestamp(expiration_date, UTC), bool(is_first_recurring))


def subscription_payload(payment_payload: str) -> str:
    """The subscription's payload of a payment row (a renewal's row carries a suffix)."""
    return payment_payload.split(CLONE_SEPARATOR, 1)[0]


async def apply_charge_in_tx(
    session: AsyncSession,
    payment: PaymentRow,
    payload: str,
    charge: SubscriptionCharge,
    reference: str,
    now: datetime,
) -> PlanChange:
    """A paid period of the subscription `payload` (first or renewal): record it and carry the
    plan to the new end. No commit (the payment's unit of work)."""
    assert payment.plan_code is not None
    users = AccountUserRepository(session)
    user = await users.lock(payment.user_id)
    if user is None:
        raise UnknownUser(payment.user_id)
    subscriptions = SubscriptionRepository(session)
    existing = await subscriptions.by_payload(payload)
    if existing is None:
        await subscriptions.create(
            user_id=payment.user_id,
            plan_code=payment.plan_code,
            payload=payload,
            charge_id=payment.charge_id or "",
            expires_at=charge.expires_at,
            now=now,
        )
        paid_until = charge.expires_at
    else:
        paid_until = max(existing.expires_at, charge.expires_at)
        state = "active" if existing.state == "failed" else existing.state
        await subscriptions.set_period(existing.id, paid_until, state, now)
    current = effective_plan_code(user.plan, user.plan_expires_at, now)
    current_expires = user.plan_expires_at if current != FREE else None
    plan_code, expires = current, current_expires
    if current == payment.plan_code:
        if current_expires is not None:  # a plan without expiry (an admin's) stays so
            expires = max(current_expires, paid_until)
    elif current == FREE or await _rank(session, current) <= await _rank(session, payment.plan_code):
        plan_code, expires = payment.plan_code, paid_until
    # else: a higher plan is on; this subscription's period is recorded, the plan is left alone
    if (plan_code, expires) != (current, current_expires):
        await users.set_plan(payment.user_id, plan_code, expires)
    details = (
        f"user={payment.user_id} {current}->{plan_code} subscription={'first' if charge.first else 'renewal'} "
        f"expires={expires.isoformat() if expires else None}"
    )
    await AuditRepository(session).add(PLAN_EXTEND_ACTION, reference, details, now=now)
    return PlanChange(
        user_id=payment.user_id,
        plan_code=plan_code,
        expires_at=expires,
        previous_plan=current,
        previous_expires_at=current_expires,
        applied=True,
    )


async def superseded_in_tx(
    session: AsyncSession, user_id: int, payload: str, now: datetime
) -> tuple[SubscriptionView, ...]:
    """After a first payment of `payload`: the user's other subscriptions that still renew. The new
    plan replaces them, so the caller cancels their renewal (editUserStarSubscription) and tells the
    user; their paid periods stand. No commit."""
    rows = await SubscriptionRepository(session).renewing_for_user(user_id, now, except_payload=payload)
    return tuple(_view(row, now) for row in rows)


async def _rank(session: AsyncSession, code: str) -> int:
    plan = await PlanRepository(session).get(code)
    return plan.sort if plan is not None else 0


async def shorten_for_refund_in_tx(session: AsyncSession, payment: PaymentRow, days: int, now: datetime) -> None:
    """A refunded charge of a subscription takes its period off the subscription too. No commit."""
    subscriptions = SubscriptionRepository(session)
    subscription = await subscriptions.by_payload(subscription_payload(payment.invoice_payload))
    if subscription is None:
        return
    await subscriptions.set_period(
        subscription.id, subscription.expires_at - timedelta(days=days), subscription.state, now
    )


# ------------------------------------------------------------------------------ state changes
class SubscriptionEvent(StrEnum):
    CANCELED = "canceled"  # by the user in Telegram (the `subscription` update)
    ACTIVE = "active"  # re-enabled by the user in Telegram
    FAILED = "failed"  # the renewal charge failed


# event → (new state, canceled_by, states it may come from)
_TRANSITIONS: dict[SubscriptionEvent, tuple[str, str | None, tuple[str, ...]]] = {
    SubscriptionEvent.CANCELED: ("canceled", "user", ("active", "canceled")),
    SubscriptionEvent.ACTIVE: ("active", None, ("canceled",)),
    SubscriptionEvent.FAILED: ("failed", None, ("active", "canceled")),
}


@dataclass(frozen=True)
class SubscriptionView:
    """One subscription, for /plan and the notices."""

    id: int
    user_id: int
    telegram_id: int
    plan_code: str
    charge_id: str
    paid_until: datetime  # end of the paid period: the plan runs until then
    state: str  # active | canceled | failed
    canceled_by: str | None  # user | bot
    over: bool  # the paid period is over (the plan is too)
    ended: bool  # over, or the subscription failed: nothing renews

    @property
    def renews(self) -> bool:
        return self.state == "active" and not self.ended


def _view(row: SubscriptionRow, now: datetime) -> SubscriptionView:
    return SubscriptionView(
        id=row.id,
        user_id=row.user_id,
        telegram_id=row.telegram_id,
        plan_code=row.plan_code,
        charge_id=row.charge_id,
        paid_until=row.expires_at,
        state=row.state,
        canceled_by=row.canceled_by,
        over=row.expires_at <= now,
        ended=row.state == "failed" or row.expires_at <= now,
    )


@dataclass(frozen=True)
class SubscriptionChange:
    changed: bool  # False: a repeated or out-of-order update; nothing to tell
    subscription: SubscriptionView


async def subscription_updated(
    session: AsyncSession,
    payload: str,
    telegram_user_id: int,
    event: SubscriptionEvent,
    now: datetime | None = None,
) -> SubscriptionChange | None:
    """Telegram's `subscription` update. None for a subscription we don't know (or someone else's).
    The plan keeps its end date (the end of the paid period). Commits."""
    now = now or utcnow()
    subscriptions = SubscriptionRepository(session)
    row = await subscriptions.by_payload(payload)
    if row is None or row.telegram_id != telegram_user_id:
        await session.commit()
        log.warning("subscription update %s for unknown invoice %r of user %s", event, payload, telegram_user_id)
        return None
    await AccountUserRepository(session).lock(row.user_id)  # one change of this user's plan at a time
    state, canceled_by, allowed = _TRANSITIONS[event]
    changed = await subscriptions.set_state(row.id, state, canceled_by, now, only_from=allowed)
    fresh = await subscriptions.get(row.id)
    await session.commit()
    assert fresh is not None
    return SubscriptionChange(changed=changed, subscription=_view(fresh, now))


async def current_subscription(
    session: AsyncSession, user_id: int, now: datetime | None = None
) -> SubscriptionView | None:
    """The user's subscription that runs longest, if any. Ends the read (commits)."""
    row = await SubscriptionRepository(session).latest_for_user(user_id)
    await session.commit()
    return None if row is None else _view(row, now or utcnow())


async def renewing_subscription_of_charge(
    session: AsyncSession, charge_id: str, now: datetime | None = None
) -> SubscriptionView | None:
    """The subscription a charge paid for, if it still renews (e.g. to stop it after a refund).
    Ends the read (commits)."""
    payment = await PaymentRepository(session).by_charge(charge_id)
    row = None
    if payment is not None and payment.plan_code is not None:
        row = await SubscriptionRepository(session).by_payload(subscription_payload(payment.invoice_payload))
    await session.commit()
    view = None if row is None else _view(row, now or utcnow())
    return view if view is not None and view.renews else None


class EditRefusal(StrEnum):
    NOT_FOUND = "not_found"  # not this user's subscription
    ENDED = "ended"  # over or failed: nothing to renew
    CANCELED_IN_TELEGRAM = "canceled_in_telegram"  # only the user can re-enable it, in Telegram
    UNCHANGED = "unchanged"  # already so (a double tap)


@dataclass(frozen=True)
class EditCheck:
    refusal: EditRefusal | None
    subscription: SubscriptionView | None

    @property
    def ok(self) -> bool:
        return self.refusal is None


async def prepare_renewal_edit(
    session: AsyncSession, user_id: int, subscription_id: int, cancel: bool, now: datetime | None = None
) -> EditCheck:
    """May the bot cancel (or resume) this subscription's renewal for this user? Read-only; ends the
    read before the caller calls editUserStarSubscription."""
    now = now or utcnow()
    row = await SubscriptionRepository(session).get(subscription_id)
    await session.commit()
    if row is None or row.user_id != user_id:
        return EditCheck(EditRefusal.NOT_FOUND, None)
    view = _view(row, now)
    if view.ended:
        return EditCheck(EditRefusal.ENDED, view)
    if not cancel and view.canceled_by == "user":
        return EditCheck(EditRefusal.CANCELED_IN_TELEGRAM, view)
    if view.renews == (not cancel):
        return EditCheck(EditRefusal.UNCHANGED, view)
    return EditCheck(None, view)


async def record_renewal_edit(
    session: AsyncSession, subscription_id: int, cancel: bool, now: datetime | None = None
) -> SubscriptionView | None:
    """Telegram accepted editUserStarSubscription: record it. Commits."""
    now = now or utcnow()
    subscriptions = SubscriptionRepository(session)
    if cancel:
        await subscriptions.set_state(subscription_id, "canceled", "bot", now, only_from=("active",))
    else:
        await subscriptions.set_state(subscription_id, "active", None, now, only_from=("canceled",))
    row = await subscriptions.get(subscription_id)
    await session.commit()
    return None if row is None else _view(row, now)
