"""/refund for operators: refundStarPayment + ledger reversal, idempotent, refused after spending
unless forced, audited; invisible to everyone else."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import select

from db.models import AuditLog
from services.credits.ledger import debit
from standins.telegram import FakeTelegramServer, FakeUser
from tests.flow.payments_helpers import (
    STARTER_BUTTON,
    VIP_BUTTON,
    available_credits,
    buy_and_pay,
    db_user,
    payment_by_charge,
    subscribe,
)
from tests.harness import RunningBot, running_bot


@pytest.fixture
def operator(tg: FakeTelegramServer) -> FakeUser:
    return tg.add_user("Olga", "olga")


@pytest.fixture
async def admin_app(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any], operator: FakeUser
) -> AsyncIterator[RunningBot]:
    async with running_bot(settings_factory(throttle_enabled=False, admin_ids=[operator.id]), tg) as running:
        yield running


async def command_reply(tg: FakeTelegramServer, user: FakeUser, text: str) -> str:
    count = len(tg.bot_messages(user))
    command, _, args = text.partition(" ")
    await tg.send_command(user, command, args or None)
    return (await tg.wait_for_messages(user, count + 1))[-1].plain_text


async def audit_rows(app: RunningBot) -> list[AuditLog]:
    async with app.resources.sessionmaker() as session:
        statement = select(AuditLog).where(AuditLog.action == "refund").order_by(AuditLog.id)
        return list((await session.scalars(statement)).all())


async def test_refund_reverses_credits_and_inviter_reward_once(
    admin_app: RunningBot, tg: FakeTelegramServer, operator: FakeUser
) -> None:
    ivy, ann = tg.add_user("Ivy"), tg.add_user("Ann")
    await tg.send_command(ivy, "/start")
    await tg.wait_for_messages(ivy, 1)
    await tg.send_command(ann, "/start", (await db_user(admin_app, ivy.id)).invite_code)
    await tg.wait_for_messages(ann, 1)
    charge = await buy_and_pay(tg, ann)
    assert await available_credits(admin_app, ivy.id) == 22

    reply = await command_reply(tg, operator, f"/refund {charge}")
    assert reply.startswith(f"✅ Refunded 200 ⭐ to user {ann.id}")
    assert "Credits taken back: 220 of 220. User's balance now: 0." in reply
    assert "Inviter's reward taken back: 22 credits." in reply
    (call,) = tg.calls_to("refundStarPayment")
    assert int(call.params["user_id"]) == ann.id and call.params["telegram_payment_charge_id"] == charge
    assert tg.state.payments[charge].refunded
    payment = await payment_by_charge(admin_app, charge)
    assert payment.status == "refunded" and payment.refunded_at is not None
    assert await available_credits(admin_app, ann.id) == 0
    assert await available_credits(admin_app, ivy.id) == 0

    again = await command_reply(tg, operator, f"/refund {charge}")
    assert again == f"↩️ Payment {charge} was already refunded. Nothing changed."
    assert len(tg.calls_to("refundStarPayment")) == 1
    rows = await audit_rows(admin_app)
    assert [(r.actor_telegram_id, r.target) for r in rows] == [(operator.id, charge)] * 2
    assert rows[0].details is not None and rows[0].details.startswith("outcome=refunded")
    assert rows[1].details is not None and rows[1].details.startswith("outcome=already_refunded")
    # The user sees Telegram's refund notice only: no "I understand text messages" hint for it.
    assert not [m for m in tg.bot_messages(ann) if "I understand text messages" in m.plain_text]


async def test_refund_after_spending_needs_force(
    admin_app: RunningBot, tg: FakeTelegramServer, operator: FakeUser
) -> None:
    ann = tg.add_user("Ann")
    charge = await buy_and_pay(tg, ann, STARTER_BUTTON)
    user = await db_user(admin_app, ann.id)
    async with admin_app.resources.sessionmaker() as session:
        await debit(session, user.id, 10, category="chat", reference_id="test:spent")

    refused = await command_reply(tg, operator, f"/refund {charge}")
    assert "Not refunded: the user has already spent 10 of the 50 credits" in refused
    assert f"/refund {charge} force" in refused
    assert not tg.calls_to("refundStarPayment")
    assert (await payment_by_charge(admin_app, charge)).status == "paid"

    forced = await command_reply(tg, operator, f"/refund {charge} force")
    assert forced.startswith("✅ Refunded 50 ⭐")
    assert "Credits taken back: 40 of 50. User's balance now: 0." in forced
    assert "10 credits had been spent and were not taken back." in forced
    assert len(tg.calls_to("refundStarPayment")) == 1
    assert (await payment_by_charge(admin_app, charge)).status == "refunded"
    assert [r.details.split()[0] for r in await audit_rows(admin_app) if r.details] == [
        "outcome=credits_spent",
        "outcome=refunded",
    ]


async def test_refund_of_a_plan_and_one_telegram_already_refunded(
    admin_app: RunningBot, tg: FakeTelegramServer, operator: FakeUser
) -> None:
    ann = tg.add_user("Ann")
    charge, _ = await subscribe(tg, ann, VIP_BUTTON)
    tg.state.payments[charge].refunded = True  # refunded at Telegram, never recorded by us
    reply = await command_reply(tg, operator, f"/refund {charge}")
    assert reply.startswith("✅ Refunded 250 ⭐") and "Plan now: Free." in reply
    (call,) = tg.calls_to("refundStarPayment")
    assert call.status == 400 and "CHARGE_ALREADY_REFUNDED" in str(call.response)
    assert (await payment_by_charge(admin_app, charge)).status == "refunded"
    assert (await db_user(admin_app, ann.id)).plan == "free"


async def test_refund_usage_and_unknown_charge(
    admin_app: RunningBot, tg: FakeTelegramServer, operator: FakeUser
) -> None:
    assert (await command_reply(tg, operator, "/refund")).startswith("Usage: /refund charge_id")
    assert (await command_reply(tg, operator, "/refund abc please")).startswith("Usage:")
    assert await command_reply(tg, operator, "/refund stxnNOPE") == "No payment with charge ID stxnNOPE."
    assert not tg.calls_to("refundStarPayment")
    assert len(await audit_rows(admin_app)) == 1


async def test_refund_is_invisible_to_non_admins(admin_app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann")
    charge = await buy_and_pay(tg, ann)
    reply = await command_reply(tg, ann, f"/refund {charge}")
    assert reply == "I don't know that command. Send /help to see what I can do."
    assert not tg.calls_to("refundStarPayment")
    assert (await payment_by_charge(admin_app, charge)).status == "paid"
    assert await available_credits(admin_app, ann.id) == 220
    assert await audit_rows(admin_app) == []
