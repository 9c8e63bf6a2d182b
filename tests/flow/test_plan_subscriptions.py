"""Plans as Telegram Stars subscriptions, through the production dispatcher and the fake Bot API:
first payment, renewals, cancellation (in Telegram and through /plan), a failed renewal (the Bot API
10.2 `subscription` update, or simply no payment), duplicate updates, refunds; the plan's dates and
one payment row per charge."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.scheduler import renew_plan_callback
from db.models import Payment, PlanSubscription
from services.i18n import Translations
from services.scheduling.plan_expiry import PlanExpiry
from standins.telegram import FakeTelegramServer, FakeUser, bad_request
from tests.backends import POSTGRES_ONLY
from tests.flow.admin_helpers import press_data
from tests.flow.payments_helpers import (
    db_user,
    payment_by_charge,
    renew,
    subscribe,
    texts_with,
    wait_text,
)
from tests.harness import RunningBot, running_bot

PERIOD = 2592000
PRO_BUTTON = "👑 Pro plan · 30 days · 600 ⭐"


@pytest.fixture
def operator(tg: FakeTelegramServer) -> FakeUser:
    return tg.add_user("Olga", "olga")


@pytest.fixture
async def calm_app(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any], operator: FakeUser
) -> AsyncIterator[RunningBot]:
    async with running_bot(settings_factory(throttle_enabled=False, admin_ids=[operator.id]), tg) as running:
        yield running


def paid_until(tg: FakeTelegramServer, user: FakeUser, payload: str) -> datetime:
    return datetime.fromtimestamp(tg.subscription(user, payload).expires_at, UTC)


async def plan_of(app: RunningBot, user: FakeUser) -> tuple[str, datetime | None]:
    row = await db_user(app, user.id)
    return row.plan, row.plan_expires_at


async def subscription_row(app: RunningBot, payload: str) -> PlanSubscription:
    async with app.resources.sessionmaker() as session:
        row = await session.scalar(select(PlanSubscription).where(PlanSubscription.invoice_payload == payload))
    assert row is not None
    return row


async def payments_of(app: RunningBot, user: FakeUser) -> list[Payment]:
    user_id = (await db_user(app, user.id)).id
    async with app.resources.sessionmaker() as session:
        rows = await session.scalars(select(Payment).where(Payment.user_id == user_id).order_by(Payment.id))
        return list(rows.all())


async def run_downgrade(app: RunningBot, at: datetime) -> int:
    jobs = PlanExpiry(
        sessionmaker=app.resources.sessionmaker,
        translations=Translations(),
        renew_callback=renew_plan_callback,
        clock=lambda: at,
    )
    return await jobs.downgrade()


async def plan_reply(tg: FakeTelegramServer, user: FakeUser) -> str:
    count = len(texts_with(tg, user, "Your plan"))
    await tg.send_command(user, "/plan")
    await tg.wait_until(lambda: len(texts_with(tg, user, "Your plan")) > count, 8.0, "the /plan answer")
    return texts_with(tg, user, "Your plan")[-1].plain_text


async def test_first_payment_starts_the_subscription(calm_app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann")
    charge, payload = await subscribe(tg, ann)
    (link,) = tg.calls_to("createInvoiceLink")
    assert link.params["subscription_period"] == PERIOD and link.params["currency"] == "XTR"
    assert link.params.get("provider_token", "") == "" and link.params["prices"][0]["amount"] == 250
    offer = await wait_text(tg, ann, "every 30 days, as a Telegram Stars subscription")
    assert offer.button_texts() == [["Subscribe for 250 ⭐"]]

    end = paid_until(tg, ann, payload)
    assert end - datetime.now(UTC) > timedelta(days=29, hours=23)
    assert await plan_of(calm_app, ann) == ("vip", end)
    sub = await subscription_row(calm_app, payload)
    assert (sub.plan_code, sub.expires_at, sub.state, sub.charge_id) == ("vip", end, "active", charge)
    (payment,) = await payments_of(calm_app, ann)
    assert (payment.status, payment.telegram_payment_charge_id, payment.amount) == ("paid", charge, 250)
    assert f"renews on {end:%Y-%m-%d %H:%M} UTC" in await plan_reply(tg, ann)


async def test_renewals_extend_to_the_new_expiration_and_repeats_change_nothing(
    calm_app: RunningBot, tg: FakeTelegramServer
) -> None:
    ann = tg.add_user("Ann")
    first, payload = await subscribe(tg, ann)
    first_update = next(u for u in tg.updates.pushed if "successful_payment" in u.get("message", {}))
    second = await renew(tg, ann, payload)
    end = paid_until(tg, ann, payload)
    receipt = texts_with(tg, ann, "Subscription renewed")[-1]
    assert f"now active until {end:%Y-%m-%d %H:%M} UTC" in receipt.plain_text
    assert await plan_of(calm_app, ann) == ("vip", end)
    assert (await subscription_row(calm_app, payload)).expires_at == end

    # Telegram delivers both payments again, one after another and all at once.
    renewal_update = [u for u in tg.updates.pushed if "successful_payment" in u.get("message", {})][-1]
    for update in (first_update, renewal_update, first_update, renewal_update):
        tg.push_update("message", update["message"])

    async def push() -> None:
        tg.push_update("message", renewal_update["message"])

    await asyncio.gather(*(push() for _ in range(5)))
    await calm_app.settle()

    payments = await payments_of(calm_app, ann)
    assert [p.telegram_payment_charge_id for p in payments] == [first, second]
    assert {p.status for p in payments} == {"paid"}
    assert len(texts_with(tg, ann, "Subscription renewed")) == 1
    assert len(texts_with(tg, ann, "Payment received")) == 1
    assert await plan_of(calm_app, ann) == ("vip", end)

    third = await renew(tg, ann, payload)
    assert third not in (first, second)
    assert await plan_of(calm_app, ann) == ("vip", end + timedelta(seconds=PERIOD))


async def test_canceled_in_telegram_stays_until_the_paid_end_then_the_expiry_job_ends_it(
    calm_app: RunningBot, tg: FakeTelegramServer
) -> None:
    ann = tg.add_user("Ann")
    _, payload = await subscribe(tg, ann)
    end = paid_until(tg, ann, payload)
    tg.cancel_subscription(ann, payload)
    notice = await wait_text(tg, ann, "subscription is canceled")
    assert f"Your plan stays until {end:%Y-%m-%d %H:%M} UTC." in notice.plain_text
    tg.cancel_subscription(ann, payload)  # delivered again: told once
    await calm_app.settle()
    assert len(texts_with(tg, ann, "subscription is canceled")) == 1
    sub = await subscription_row(calm_app, payload)
    assert (sub.state, sub.canceled_by, sub.expires_at) == ("canceled", "user", end)
    assert await plan_of(calm_app, ann) == ("vip", end)
    shown = await plan_reply(tg, ann)
    assert "canceled in Telegram" in shown and "Settings → My Stars" in shown
    assert texts_with(tg, ann, "Your plan")[-1].buttons() == []  # only the user can resume it, in Telegram

    # Re-enabled in Telegram: renews again.
    tg.reenable_subscription(ann, payload)
    await wait_text(tg, ann, "subscription is on again")
    assert (await subscription_row(calm_app, payload)).state == "active"
    tg.cancel_subscription(ann, payload)
    await calm_app.settle()

    assert tg.renew_subscription(ann, payload) is None  # canceled: Telegram charges nothing
    assert await run_downgrade(calm_app, end - timedelta(seconds=1)) == 0
    assert await plan_of(calm_app, ann) == ("vip", end)
    assert await run_downgrade(calm_app, end + timedelta(seconds=1)) == 1
    assert await plan_of(calm_app, ann) == ("free", None)
    assert "Plan: Free" in await plan_reply(tg, ann)
    assert len(await payments_of(calm_app, ann)) == 1


async def test_cancel_and_resume_renewal_through_plan(calm_app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann")
    charge, payload = await subscribe(tg, ann)
    end = paid_until(tg, ann, payload)
    await plan_reply(tg, ann)
    await tg.press_button(ann, "Cancel renewal")
    call = await tg.wait_for_call("editUserStarSubscription")
    assert call.ok and call.params["user_id"] == ann.id and call.params["telegram_payment_charge_id"] == charge
    assert call.params["is_canceled"] in (True, "true")
    view = texts_with(tg, ann, "Your plan")[-1]
    await tg.wait_until(lambda: "canceled: it won't renew" in view.plain_text, 8.0, "the edited /plan")
    assert f"the plan stays until {end:%Y-%m-%d %H:%M} UTC" in view.plain_text
    assert view.button_texts() == [["Resume renewal"]]
    assert tg.subscription(ann, payload).canceled_by_bot
    sub = await subscription_row(calm_app, payload)
    assert (sub.state, sub.canceled_by) == ("canceled", "bot")
    assert await plan_of(calm_app, ann) == ("vip", end)

    await tg.press_button(ann, "Resume renewal")
    await tg.wait_until(lambda: "renews on" in view.plain_text, 8.0, "the edited /plan")
    resume = tg.calls_to("editUserStarSubscription")[-1]
    assert resume.ok and resume.params["is_canceled"] in (False, "false")
    assert view.button_texts() == [["Cancel renewal"]]
    await renew(tg, ann, payload)
    assert await plan_of(calm_app, ann) == ("vip", end + timedelta(seconds=PERIOD))

    # Chinese.
    li = tg.add_user("Li", language_code="zh")
    await tg.send_command(li, "/plan")
    (reply,) = await tg.wait_for_messages(li, 1)
    assert "你的套餐" in reply.plain_text and "暂无订阅" in reply.plain_text


async def test_renewal_edit_refused_by_telegram_changes_nothing(calm_app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann")
    _, payload = await subscribe(tg, ann)
    await plan_reply(tg, ann)
    tg.inject_error(bad_request("SUBSCRIPTION_NOT_ACTIVE"), method="editUserStarSubscription")
    query = (await tg.press_button(ann, "Cancel renewal"))["callback_query"]["id"]
    answer = await tg.wait_callback_answer(query)
    assert answer.get("show_alert") and "didn't accept the change" in str(answer.get("text"))
    assert (await subscription_row(calm_app, payload)).state == "active"
    assert tg.subscription(ann, payload).renews


async def test_failed_renewal_ends_the_subscription_at_the_paid_end(
    calm_app: RunningBot, tg: FakeTelegramServer
) -> None:
    ann = tg.add_user("Ann")
    _, payload = await subscribe(tg, ann)
    end = paid_until(tg, ann, payload)
    tg.fail_subscription_renewal(ann, payload)
    notice = await wait_text(tg, ann, "didn't go through")
    assert f"Your plan stays until {end:%Y-%m-%d %H:%M} UTC" in notice.plain_text
    assert (await subscription_row(calm_app, payload)).state == "failed"
    assert await plan_of(calm_app, ann) == ("vip", end)
    assert "Subscription: VIP, ended." in await plan_reply(tg, ann)
    assert tg.renew_subscription(ann, payload) is None
    assert await run_downgrade(calm_app, end + timedelta(seconds=1)) == 1
    assert await plan_of(calm_app, ann) == ("free", None)

    # No renewal and no update at all (the bot missed it): the plan simply runs out at the paid end.
    bob = tg.add_user("Bob")
    _, bob_payload = await subscribe(tg, bob)
    bob_end = paid_until(tg, bob, bob_payload)
    assert await run_downgrade(calm_app, bob_end + timedelta(seconds=1)) == 1
    assert await plan_of(calm_app, bob) == ("free", None)
    assert (await subscription_row(calm_app, bob_payload)).state == "active"  # a late renewal would still count


async def test_refund_of_a_renewal_takes_its_period_back(
    calm_app: RunningBot, tg: FakeTelegramServer, operator: FakeUser
) -> None:
    ann = tg.add_user("Ann")
    _, payload = await subscribe(tg, ann)
    first_end = paid_until(tg, ann, payload)
    renewal = await renew(tg, ann, payload)
    await tg.send_command(operator, "/refund", renewal)
    reply = await wait_text(tg, operator, "Refunded 250 ⭐")
    assert f"Plan now: VIP until {first_end:%Y-%m-%d %H:%M} UTC" in reply.plain_text
    assert (await payment_by_charge(calm_app, renewal)).status == "refunded"
    assert await plan_of(calm_app, ann) == ("vip", first_end)
    assert (await subscription_row(calm_app, payload)).expires_at == first_end
    # ...and stops the renewal: no charge after a refund.
    assert "The subscription's renewal is stopped" in reply.plain_text
    assert tg.subscription(ann, payload).canceled_by_bot and tg.renew_subscription(ann, payload) is None
    assert (await subscription_row(calm_app, payload)).canceled_by == "bot"

    # Telegram refuses to stop it: the operator is warned; the refund stands.
    bob = tg.add_user("Bob")
    bob_charge, bob_payload = await subscribe(tg, bob)
    tg.inject_error(bad_request("SUBSCRIPTION_NOT_ACTIVE"), method="editUserStarSubscription")
    await tg.send_command(operator, "/refund", bob_charge)
    warned = await wait_text(tg, operator, "Telegram refused to stop the subscription's renewal")
    assert "Plan now: Free." in warned.plain_text
    assert (await payment_by_charge(calm_app, bob_charge)).status == "refunded"
    assert (await subscription_row(calm_app, bob_payload)).state == "active"


@POSTGRES_ONLY
async def test_a_renewal_delivered_concurrently_is_one_payment(calm_app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann")
    _, payload = await subscribe(tg, ann)
    update = tg.renew_subscription(ann, payload)
    assert update is not None
    for _ in range(9):
        tg.push_update("message", update["message"])
    await calm_app.settle()
    charge = update["message"]["successful_payment"]["telegram_payment_charge_id"]
    async with calm_app.resources.sessionmaker() as session:
        rows = await session.scalar(
            select(func.count()).select_from(Payment).where(Payment.telegram_payment_charge_id == charge)
        )
    assert rows == 1
    assert len(texts_with(tg, ann, "Subscription renewed")) == 1
    assert await plan_of(calm_app, ann) == ("vip", paid_until(tg, ann, payload))


async def test_unknown_or_foreign_subscription_updates_and_buttons_change_nothing(
    calm_app: RunningBot, tg: FakeTelegramServer
) -> None:
    ann, bob = tg.add_user("Ann"), tg.add_user("Bob")
    _, payload = await subscribe(tg, ann)
    await plan_reply(tg, bob)
    bob_messages = len(tg.bot_messages(bob))
    # Bob's client reports a state change of Ann's subscription, and one of no subscription at all.
    tg.push_update("subscription", {"user": bob.to_api(), "invoice_payload": payload, "state": "canceled"})
    tg.push_update("subscription", {"user": bob.to_api(), "invoice_payload": "cs1:nothing", "state": "failed"})
    tg.push_update("subscription", {"user": ann.to_api(), "invoice_payload": payload, "state": "paused"})
    # Bob presses a forged button for Ann's subscription.
    view = texts_with(tg, bob, "Your plan")[-1]
    sub = await subscription_row(calm_app, payload)
    answer = await tg.wait_callback_answer(await press_data(tg, bob, view, f"renew:cancel:{sub.id}"))
    assert answer.get("show_alert") and "out of date" in str(answer.get("text"))
    await calm_app.settle()
    assert len(tg.bot_messages(bob)) == bob_messages
    assert not tg.calls_to("editUserStarSubscription")
    sub = await subscription_row(calm_app, payload)
    assert (sub.state, sub.canceled_by) == ("active", None)
    assert tg.subscription(ann, payload).renews


async def test_ended_subscription_button_and_zh_notices(calm_app: RunningBot, tg: FakeTelegramServer) -> None:
    li = tg.add_user("Li", language_code="zh")
    await tg.send_command(li, "/buy")
    await wait_text(tg, li, "积分与套餐")
    await tg.press_button(li, "👑 VIP 套餐 · 30 天 · 250 ⭐")
    await wait_text(tg, li, "以 Telegram Stars 订阅方式付款")
    url = str(tg.bot_messages(li)[-1].buttons()[0][0]["url"])
    assert tg.bot_messages(li)[-1].button_texts() == [["订阅：250 ⭐"]]
    assert (await tg.wait_pre_checkout_answer(tg.pre_checkout_link(li, url))).ok
    update = tg.pay_link(li, url)
    payload = update["message"]["successful_payment"]["invoice_payload"]
    await wait_text(tg, li, "订阅每 30 天自动续订")
    await tg.send_command(li, "/plan")
    await wait_text(tg, li, "你的套餐")
    tg.fail_subscription_renewal(li, payload)
    await wait_text(tg, li, "续订付款未成功")
    pressed = await tg.press_button(li, "取消续订")  # the /plan view from before the failure
    answer = await tg.wait_callback_answer(pressed["callback_query"]["id"])
    assert answer.get("show_alert") and "此订阅已结束" in str(answer.get("text"))
    assert not tg.calls_to("editUserStarSubscription")


async def test_an_upgrade_stops_the_older_subscriptions_renewal(calm_app: RunningBot, tg: FakeTelegramServer) -> None:
    ann, bob = tg.add_user("Ann"), tg.add_user("Bob")
    vip_charge, vip_payload = await subscribe(tg, ann)
    vip_end = paid_until(tg, ann, vip_payload)
    _, pro_payload = await subscribe(tg, ann, PRO_BUTTON)
    notice = await wait_text(tg, ann, "subscription replaces")
    assert f"VIP won't renew any more (it stays paid until {vip_end:%Y-%m-%d %H:%M} UTC)" in notice.plain_text
    (call,) = tg.calls_to("editUserStarSubscription")
    assert call.params["telegram_payment_charge_id"] == vip_charge
    assert tg.renew_subscription(ann, vip_payload) is None  # no longer charged for VIP
    assert (await subscription_row(calm_app, vip_payload)).canceled_by == "bot"
    assert await plan_of(calm_app, ann) == ("pro", paid_until(tg, ann, pro_payload))

    # Telegram refuses the cancellation: the user is asked to cancel it themselves; nothing recorded.
    _, bob_vip = await subscribe(tg, bob)
    tg.inject_error(bad_request("SUBSCRIPTION_NOT_ACTIVE"), method="editUserStarSubscription")
    await subscribe(tg, bob, PRO_BUTTON)
    await wait_text(tg, bob, "couldn't stop the renewal of your VIP subscription")
    assert (await subscription_row(calm_app, bob_vip)).state == "active"
