"""services.credits.subscriptions on both backends: which plan a subscription charge leaves the user
on (same plan, a lower one, a higher one on, an operator's plan without expiry) and the state
transitions of the `subscription` update, each applied once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.credits.payments import complete_payment, create_invoice
from services.credits.subscriptions import (
    SubscriptionCharge,
    SubscriptionEvent,
    current_subscription,
    prepare_renewal_edit,
    record_renewal_edit,
    subscription_updated,
)
from tests.integration.credits_factories import get_user, make_user

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PERIOD = timedelta(days=30)


async def pay(
    sessionmaker: Sessions, user_id: int, plan: str, charge: str, expires: datetime, *, first: bool = True
) -> tuple[str, datetime | None]:
    async with sessionmaker() as session:
        invoice = await create_invoice(session, user_id, plan_code=plan, now=NOW)
    assert invoice.subscription_period == 2592000
    async with sessionmaker() as session:
        result = await complete_payment(
            session,
            invoice.payload,
            charge,
            invoice.amount,
            user_id,
            now=NOW,
            subscription=SubscriptionCharge(expires, first),
        )
    assert result.first and result.subscription and result.renewal is (not first)
    return invoice.payload, result.plan_expires_at


async def test_which_plan_a_subscription_charge_leaves(sessionmaker: Sessions) -> None:
    # Same plan bought earlier for longer: the later end stays.
    longer = await make_user(sessionmaker, plan="vip", plan_expires_at=NOW + 2 * PERIOD)
    await pay(sessionmaker, longer, "vip", "c-longer", NOW + PERIOD)
    assert (await get_user(sessionmaker, longer)).plan_expires_at == NOW + 2 * PERIOD
    # An operator's VIP without expiry stays without expiry.
    forever = await make_user(sessionmaker, plan="vip", plan_expires_at=None)
    await pay(sessionmaker, forever, "vip", "c-forever", NOW + PERIOD)
    assert (await get_user(sessionmaker, forever)).plan_expires_at is None
    # Upgrade VIP → Pro: Pro until the Pro subscription's end.
    upgrade = await make_user(sessionmaker, plan="vip", plan_expires_at=NOW + 2 * PERIOD)
    await pay(sessionmaker, upgrade, "pro", "c-upgrade", NOW + PERIOD)
    user = await get_user(sessionmaker, upgrade)
    assert (user.plan, user.plan_expires_at) == ("pro", NOW + PERIOD)


async def test_a_lower_plans_renewal_leaves_a_higher_plan_alone(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    payload, _ = await pay(sessionmaker, user_id, "vip", "c-vip-1", NOW + PERIOD)
    await pay(sessionmaker, user_id, "pro", "c-pro-1", NOW + PERIOD + timedelta(days=1))
    async with sessionmaker() as session:  # the VIP subscription renews while Pro is on
        result = await complete_payment(
            session,
            payload,
            "c-vip-2",
            250,
            user_id,
            now=NOW,
            subscription=SubscriptionCharge(NOW + 2 * PERIOD, False),
        )
    assert result.first and result.renewal and result.plan_code == "pro"
    user = await get_user(sessionmaker, user_id)
    assert (user.plan, user.plan_expires_at) == ("pro", NOW + PERIOD + timedelta(days=1))
    async with sessionmaker() as session:
        latest = await current_subscription(session, user_id, NOW)
    assert latest is not None and latest.plan_code == "vip" and latest.paid_until == NOW + 2 * PERIOD


async def test_subscription_update_transitions_apply_once(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    telegram_id = (await get_user(sessionmaker, user_id)).telegram_id
    payload, _ = await pay(sessionmaker, user_id, "vip", "c1", NOW + PERIOD)

    async def event(kind: SubscriptionEvent, who: int = telegram_id) -> tuple[bool, str] | None:
        async with sessionmaker() as session:
            change = await subscription_updated(session, payload, who, kind, NOW)
        return None if change is None else (change.changed, change.subscription.state)

    assert await event(SubscriptionEvent.CANCELED, who=telegram_id + 1) is None  # someone else's
    assert await event(SubscriptionEvent.ACTIVE) == (False, "active")  # not canceled: nothing to do
    assert await event(SubscriptionEvent.CANCELED) == (True, "canceled")
    assert await event(SubscriptionEvent.CANCELED) == (False, "canceled")
    assert await event(SubscriptionEvent.ACTIVE) == (True, "active")
    # The bot cancels; the user's own cancellation then takes it over (only they can undo it).
    async with sessionmaker() as session:
        mine = await current_subscription(session, user_id, NOW)
    assert mine is not None and mine.renews
    async with sessionmaker() as session:
        check = await prepare_renewal_edit(session, user_id, mine.id, True, NOW)
    assert check.ok and check.subscription is not None
    async with sessionmaker() as session:
        view = await record_renewal_edit(session, check.subscription.id, True, NOW)
    assert view is not None and (view.state, view.canceled_by) == ("canceled", "bot")
    assert await event(SubscriptionEvent.CANCELED) == (True, "canceled")
    async with sessionmaker() as session:
        refused = await prepare_renewal_edit(session, user_id, check.subscription.id, False, NOW)
    assert refused.refusal is not None and refused.refusal.value == "canceled_in_telegram"
    assert await event(SubscriptionEvent.FAILED) == (True, "failed")
    assert await event(SubscriptionEvent.FAILED) == (False, "failed")
    assert await event(SubscriptionEvent.ACTIVE) == (False, "failed")  # a failed one is over
    user = await get_user(sessionmaker, user_id)
    assert (user.plan, user.plan_expires_at) == ("vip", NOW + PERIOD)  # the paid period stands
