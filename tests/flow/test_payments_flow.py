"""Stars payments through the production dispatcher and the fake Bot API: /buy → invoice →
pre-checkout → successful_payment → receipt, idempotent on the charge id; refusals; /paysupport."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import func, select, update

from db.models import CreditPackage, CreditTransaction, Payment, User
from standins.telegram import FakeTelegramServer
from tests.flow.payments_helpers import (
    STANDARD_BUTTON,
    STARTER_BUTTON,
    VIP_BUTTON,
    available_credits,
    buy_and_pay,
    invoices,
    pay,
    payment_by_charge,
    request_invoice,
    subscribe,
    wait_text,
)
from tests.harness import RunningBot, running_bot


@pytest.fixture
async def calm_app(tg: FakeTelegramServer, settings_factory: Callable[..., Any]) -> AsyncIterator[RunningBot]:
    async with running_bot(settings_factory(throttle_enabled=False), tg) as running:
        yield running


async def test_buy_pay_receipt_then_balance(calm_app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann", "ann")
    await tg.send_command(ann, "/buy")
    menu = await wait_text(tg, ann, "Credits and plans")
    assert menu.button_texts() == [
        [STARTER_BUTTON],
        [STANDARD_BUTTON],
        ["Premium · 575 credits · 500 ⭐"],
        ["Pro · 1,200 credits · 1,000 ⭐"],
        [VIP_BUTTON],
        ["👑 Pro plan · 30 days · 600 ⭐"],
    ]
    assert "Standard: 220 credits (incl. 20 bonus) for 200 ⭐ 🔥 best value" in menu.plain_text
    assert "Terms: you pay in Telegram Stars" in menu.plain_text

    await tg.press_button(ann, STANDARD_BUTTON)
    await tg.wait_until(lambda: bool(invoices(tg, ann)), 8.0, "an invoice")
    (invoice,) = invoices(tg, ann)
    assert invoice.invoice is not None
    assert invoice.invoice["currency"] == "XTR" and invoice.invoice["total_amount"] == 200
    assert invoice.invoice["title"] == "Standard: 220 credits"
    (call,) = tg.calls_to("sendInvoice")
    assert call.params.get("provider_token", "") == "" and len(call.params["prices"]) == 1
    async with calm_app.resources.sessionmaker() as session:
        payment = await session.scalar(select(Payment).where(Payment.invoice_payload == invoice.invoice_payload))
    assert payment is not None and payment.status == "pending" and payment.credits == 220

    charge = await pay(tg, ann, invoice)
    receipt = await wait_text(tg, ann, "Payment received")
    assert "+220 credits. Your balance: 220 credits." in receipt.plain_text
    assert (await payment_by_charge(calm_app, charge)).status == "paid"

    await tg.send_command(ann, "/balance")
    balance = await wait_text(tg, ann, "💼 Your balance")
    assert "Plan: Free" in balance.plain_text
    assert "Free questions left today: 5 of 5" in balance.plain_text
    assert "Credits: 220" in balance.plain_text
    assert "+220 · purchase · " in balance.plain_text


async def test_same_successful_payment_ten_times_credits_once(app: RunningBot, tg: FakeTelegramServer) -> None:
    """Default settings (flood control on): payment service messages are never throttled away."""
    ann = tg.add_user("Ann")
    invoice = await request_invoice(tg, ann)
    charge = await pay(tg, ann, invoice)
    await wait_text(tg, ann, "Payment received")
    first = next(u for u in tg.updates.pushed if "successful_payment" in u.get("message", {}))
    for _ in range(9):  # Telegram delivering the same update again, one after another
        tg.push_update("message", first["message"])

    async def push() -> None:
        tg.push_update("message", first["message"])

    await asyncio.gather(*(push() for _ in range(10)))  # ...and all at once
    second_invoice = await request_invoice(tg, ann, STARTER_BUTTON)  # a later update: the repeats are done
    assert second_invoice.invoice_payload != invoice.invoice_payload
    await tg.wait_until(lambda: app.resources.inflight.count == 0, 8.0, "all updates handled")

    receipts = [m for m in tg.bot_messages(ann) if "Payment received" in m.plain_text]
    assert len(receipts) == 1
    assert not [m for m in tg.bot_messages(ann) if "too fast" in m.plain_text]
    assert await available_credits(app, ann.id) == 220
    async with app.resources.sessionmaker() as session:
        purchases = await session.scalar(
            select(func.count())
            .select_from(CreditTransaction)
            .where(CreditTransaction.reference_id == f"purchase:{charge}")
        )
    assert purchases == 1


async def test_pre_checkout_refused_when_package_was_disabled(calm_app: RunningBot, tg: FakeTelegramServer) -> None:
    li = tg.add_user("Li", language_code="zh")
    ann = tg.add_user("Ann")
    await tg.send_command(li, "/buy")
    await wait_text(tg, li, "积分与套餐")
    await tg.press_button(li, "🔥 标准包 · 220 积分 · 200 ⭐")
    await tg.wait_until(lambda: bool(invoices(tg, li)), 8.0, "an invoice")
    zh_invoice = invoices(tg, li)[-1]
    en_invoice = await request_invoice(tg, ann)
    async with calm_app.resources.sessionmaker() as session:
        await session.execute(update(CreditPackage).where(CreditPackage.code == "standard").values(active=False))
        await session.commit()

    answer = await tg.wait_pre_checkout_answer(tg.pre_checkout(ann, en_invoice))
    assert answer.ok is False
    assert answer.error_message == "Sorry, this item is no longer on sale. Send /buy to see what is."
    zh_answer = await tg.wait_pre_checkout_answer(tg.pre_checkout(li, zh_invoice))
    assert zh_answer.ok is False and zh_answer.error_message == "抱歉，该商品已下架。发送 /buy 查看在售商品。"
    (call,) = [
        c for c in tg.calls_to("answerPreCheckoutQuery") if c.params.get("error_message", "").startswith("Sorry")
    ]
    assert call.params["ok"] in (False, "false")

    # The package is gone from /buy, and an old button for it answers with an alert, no invoice.
    await tg.send_command(ann, "/buy")
    await tg.wait_until(lambda: len([m for m in tg.bot_messages(ann) if "Credits and plans" in m.plain_text]) == 2)
    old_menu, menu = [m for m in tg.bot_messages(ann) if "Credits and plans" in m.plain_text]
    assert STANDARD_BUTTON not in [text for row in menu.button_texts() for text in row]
    before = len(tg.calls_to("sendInvoice"))
    await tg.press_button(ann, STANDARD_BUTTON, message_id=old_menu.message_id)
    await tg.wait_for_call("answerCallbackQuery", lambda c: "no longer on sale" in str(c.params.get("text")))
    assert len(tg.calls_to("sendInvoice")) == before


async def test_pre_checkout_refusals_wrong_user_paid_and_banned(calm_app: RunningBot, tg: FakeTelegramServer) -> None:
    ann, bob = tg.add_user("Ann"), tg.add_user("Bob")
    invoice = await request_invoice(tg, ann)
    await tg.send_command(bob, "/start")
    await wait_text(tg, bob, "Hi, Bob")
    # Bob pays Ann's (forwarded) invoice.
    answer = await tg.wait_pre_checkout_answer(tg.pre_checkout(bob, invoice))
    assert (
        not answer.ok and answer.error_message == "This invoice was made for another user. Send /buy to get your own."
    )
    await pay(tg, ann, invoice)
    await wait_text(tg, ann, "Payment received")
    answer = await tg.wait_pre_checkout_answer(tg.pre_checkout(ann, invoice))
    assert not answer.ok and answer.error_message is not None and "already paid" in answer.error_message
    # A banned user's pre-checkout is refused with a reason, not left to time out.
    second = await request_invoice(tg, ann, STARTER_BUTTON)
    async with calm_app.resources.sessionmaker() as session:
        await session.execute(update(User).where(User.telegram_id == ann.id).values(banned=True))
        await session.commit()
    answer = await tg.wait_pre_checkout_answer(tg.pre_checkout(ann, second))
    assert not answer.ok and answer.error_message is not None and "suspended" in answer.error_message


async def test_plan_purchase_is_a_stars_subscription(calm_app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann")
    await subscribe(tg, ann, VIP_BUTTON)
    receipt = await wait_text(tg, ann, "Payment received")
    assert "Your VIP plan is active until 20" in receipt.plain_text
    assert "It renews every 30 days until you cancel it: see /plan." in receipt.plain_text
    await tg.send_command(ann, "/balance")
    balance = await wait_text(tg, ann, "💼 Your balance")
    assert "Plan: VIP until 20" in balance.plain_text
    assert "Free questions left today: 30 of 30" in balance.plain_text
    assert not tg.calls_to("sendInvoice")  # plans go through invoice links only


async def test_paysupport_lists_recent_payments_and_forwards_requests(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any]
) -> None:
    operator = tg.add_user("Olga", "olga")
    async with running_bot(settings_factory(throttle_enabled=False, admin_ids=[operator.id]), tg) as running:
        ann = tg.add_user("Ann", "ann")
        await tg.send_command(ann, "/paysupport")
        empty = await wait_text(tg, ann, "Help with payments")
        assert "You haven't made any payments yet." in empty.plain_text
        charge = await buy_and_pay(tg, ann)
        await tg.send_command(ann, "/paysupport")
        await tg.wait_until(lambda: len([m for m in tg.bot_messages(ann) if "Help with payments" in m.plain_text]) == 2)
        support = [m for m in tg.bot_messages(ann) if "Help with payments" in m.plain_text][-1]
        assert "Your recent payments" in support.plain_text
        assert "Standard, 220 credits, 200 ⭐, paid" in support.plain_text
        assert charge in support.plain_text

        await tg.send_command(ann, "/paysupport", "credits <missing> & late")
        await wait_text(tg, ann, "sent to our operators")
        (forwarded,) = await tg.wait_for_messages(operator, 1)
        assert "Payment support request" in forwarded.plain_text
        assert "credits <missing> & late" in forwarded.plain_text and "@ann" in forwarded.plain_text
        assert charge in forwarded.plain_text
        assert running.resources.closed is False


async def test_credits_commands_in_a_group_point_to_the_private_chat(
    calm_app: RunningBot, tg: FakeTelegramServer
) -> None:
    ann = tg.add_user("Ann")
    group = tg.add_group("Traders", ann, members=[ann])
    await tg.send_command(ann, "/balance", chat=group, with_username=True)
    (reply,) = await tg.wait_for_messages(group, 1)
    assert "private chat" in reply.plain_text
    assert reply.buttons()[0][0]["url"] == "https://t.me/coinsight_bot"
    async with calm_app.resources.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 0
