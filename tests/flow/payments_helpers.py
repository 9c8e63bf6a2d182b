"""Shared steps of the credits/payments/invites flow tests: a user buys through the fake Telegram."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Payment, User
from standins.telegram import FakeMessage, FakeTelegramServer, FakeUser
from tests.harness import RunningBot

STANDARD_BUTTON = "🔥 Standard · 220 credits · 200 ⭐"
STARTER_BUTTON = "Starter · 50 credits · 50 ⭐"
VIP_BUTTON = "👑 VIP plan · 30 days · 250 ⭐"


async def wait_text(tg: FakeTelegramServer, user: FakeUser, needle: str, timeout: float = 8.0) -> FakeMessage:
    """The newest bot message in the user's chat whose text contains `needle` (waits for it)."""

    def find() -> FakeMessage | None:
        for message in reversed(tg.bot_messages(user)):
            if needle in message.plain_text:
                return message
        return None

    await tg.wait_until(lambda: find() is not None, timeout, f"a message with {needle!r}")
    found = find()
    assert found is not None
    return found


def offer_menus(tg: FakeTelegramServer, user: FakeUser) -> list[FakeMessage]:
    return [
        m for m in tg.bot_messages(user) if m.find_button(STARTER_BUTTON) or m.find_button("入门包 · 50 积分 · 50 ⭐")
    ]


def invoices(tg: FakeTelegramServer, user: FakeUser) -> list[FakeMessage]:
    return [m for m in tg.bot_messages(user) if m.invoice is not None]


async def request_invoice(tg: FakeTelegramServer, user: FakeUser, button: str = STANDARD_BUTTON) -> FakeMessage:
    """/buy, then press a product button; returns the invoice message the bot sent."""
    count = len(invoices(tg, user))
    menus = len(offer_menus(tg, user))
    await tg.send_command(user, "/buy")
    await tg.wait_until(lambda: len(offer_menus(tg, user)) > menus, 8.0, "the /buy menu")
    await tg.press_button(user, button)
    await tg.wait_until(lambda: len(invoices(tg, user)) > count, 8.0, "an invoice")
    return invoices(tg, user)[-1]


async def pay(tg: FakeTelegramServer, user: FakeUser, invoice: FakeMessage, charge_id: str | None = None) -> str:
    """Confirm (pre-checkout answered ok), then Telegram's successful_payment; returns the charge id."""
    query_id = tg.pre_checkout(user, invoice)
    answer = await tg.wait_pre_checkout_answer(query_id)
    assert answer.ok, answer.error_message
    assert invoice.invoice_payload is not None
    update = tg.successful_payment(user, invoice.invoice_payload, charge_id=charge_id)
    charge = update["message"]["successful_payment"]["telegram_payment_charge_id"]
    assert isinstance(charge, str)
    return charge


def receipts(tg: FakeTelegramServer, user: FakeUser) -> list[FakeMessage]:
    return [m for m in tg.bot_messages(user) if "Payment received" in m.plain_text or "付款成功" in m.plain_text]


async def buy_and_pay(tg: FakeTelegramServer, user: FakeUser, button: str = STANDARD_BUTTON) -> str:
    """/buy → button → invoice → pay; waits for the receipt; returns the charge id."""
    count = len(receipts(tg, user))
    invoice = await request_invoice(tg, user, button)
    charge = await pay(tg, user, invoice)
    await tg.wait_until(lambda: len(receipts(tg, user)) > count, 8.0, "a receipt")
    return charge


async def db_user(app: RunningBot, telegram_id: int) -> User:
    async with app.resources.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    assert user is not None
    return user


async def payment_by_charge(app: RunningBot, charge_id: str) -> Payment:
    async with app.resources.sessionmaker() as session:
        payment = await session.scalar(select(Payment).where(Payment.telegram_payment_charge_id == charge_id))
    assert payment is not None
    return payment


async def available_credits(app: RunningBot, telegram_id: int) -> int:
    from services.credits.ledger import balance

    user = await db_user(app, telegram_id)
    async with app.resources.sessionmaker() as session:
        return (await balance(session, user.id, recent=0)).available


# ----------------------------------------------------------------------------------------- plan subscriptions
SUBSCRIBE_VIP = "Subscribe for 250 ⭐"


def subscription_offers(tg: FakeTelegramServer, user: FakeUser) -> list[FakeMessage]:
    """The bot's messages carrying a Telegram invoice link button (plans: Stars subscriptions)."""
    return [
        m
        for m in tg.bot_messages(user)
        if any(str(b.get("url", "")).startswith("https://t.me/$") for row in m.buttons() for b in row)
    ]


async def request_subscription(tg: FakeTelegramServer, user: FakeUser, button: str = VIP_BUTTON) -> str:
    """/buy, then press a plan's button; returns the invoice link the bot's offer opens."""
    count = len(subscription_offers(tg, user))
    menus = len(offer_menus(tg, user))
    await tg.send_command(user, "/buy")
    await tg.wait_until(lambda: len(offer_menus(tg, user)) > menus, 8.0, "the /buy menu")
    await tg.press_button(user, button)
    await tg.wait_until(lambda: len(subscription_offers(tg, user)) > count, 8.0, "a subscription offer")
    (row,) = subscription_offers(tg, user)[-1].buttons()
    return str(row[0]["url"])


def texts_with(tg: FakeTelegramServer, user: FakeUser, needle: str) -> list[FakeMessage]:
    return [m for m in tg.bot_messages(user) if needle in m.plain_text]


async def subscribe(tg: FakeTelegramServer, user: FakeUser, button: str = VIP_BUTTON) -> tuple[str, str]:
    """Subscribe to a plan through its invoice link (pre-checkout ok, first recurring payment);
    waits for the receipt; returns (charge id, invoice payload)."""
    count = len(receipts(tg, user))
    url = await request_subscription(tg, user, button)
    answer = await tg.wait_pre_checkout_answer(tg.pre_checkout_link(user, url))
    assert answer.ok, answer.error_message
    update = tg.pay_link(user, url)
    await tg.wait_until(lambda: len(receipts(tg, user)) > count, 8.0, "a receipt")
    paid = update["message"]["successful_payment"]
    return str(paid["telegram_payment_charge_id"]), str(paid["invoice_payload"])


async def renew(tg: FakeTelegramServer, user: FakeUser, payload: str) -> str:
    """Telegram charges the next period; waits for the renewal receipt; returns the charge id."""
    count = len(texts_with(tg, user, "Subscription renewed"))
    update = tg.renew_subscription(user, payload)
    assert update is not None, "the subscription does not renew"
    await tg.wait_until(lambda: len(texts_with(tg, user, "Subscription renewed")) > count, 8.0, "a renewal receipt")
    return str(update["message"]["successful_payment"]["telegram_payment_charge_id"])
