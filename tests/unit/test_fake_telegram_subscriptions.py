"""Telegram Stars subscriptions through the fake Bot API: createInvoiceLink with subscription_period,
the first and the recurring payments, the user's cancel / re-enable, a failed renewal (the Bot API
10.2 `subscription` update) and editUserStarSubscription — read back through the real aiogram Bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import LabeledPrice

from standins.telegram import FakeTelegramServer, make_bot

NOW = 1_800_000_000
PERIOD = 2592000


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(wall_clock=lambda: NOW) as srv:
        yield srv


@pytest.fixture
async def bot(server: FakeTelegramServer) -> AsyncIterator[Bot]:
    client = make_bot(server)
    yield client
    await client.session.close()


async def link(bot: Bot, *, period: int | None = PERIOD, amount: int = 250, currency: str = "XTR") -> str:
    return await bot.create_invoice_link(
        title="VIP plan",
        description="30 days",
        payload="sub:vip:u1",
        currency=currency,
        prices=[LabeledPrice(label="VIP", amount=amount)],
        provider_token="" if currency == "XTR" else "provider",
        subscription_period=period,
    )


async def test_subscription_link_payments_and_states(server: FakeTelegramServer, bot: Bot) -> None:
    ann = server.add_user("Ann")
    url = await link(bot)
    query_id = server.pre_checkout_link(ann, url)
    (update,) = await bot.get_updates()
    assert update.pre_checkout_query is not None and update.pre_checkout_query.id == query_id
    assert update.pre_checkout_query.invoice_payload == "sub:vip:u1"
    await bot.answer_pre_checkout_query(query_id, ok=True)

    server.pay_link(ann, url, charge_id="c1")
    (update,) = await bot.get_updates(offset=update.update_id + 1)
    assert update.message is not None and update.message.successful_payment is not None
    first = update.message.successful_payment
    assert (first.is_recurring, first.is_first_recurring) == (True, True)
    assert first.subscription_expiration_date == NOW + PERIOD and first.telegram_payment_charge_id == "c1"

    renewal = server.renew_subscription(ann, "sub:vip:u1", charge_id="c2")
    assert renewal is not None
    (update,) = await bot.get_updates(offset=update.update_id + 1)
    assert update.message is not None and update.message.successful_payment is not None
    second = update.message.successful_payment
    assert (second.is_recurring, second.is_first_recurring) == (True, None)
    assert second.subscription_expiration_date == NOW + 2 * PERIOD and second.invoice_payload == "sub:vip:u1"

    server.cancel_subscription(ann, "sub:vip:u1")
    server.reenable_subscription(ann, "sub:vip:u1")
    server.fail_subscription_renewal(ann, "sub:vip:u1")
    updates = await bot.get_updates(offset=update.update_id + 1)
    states = [(u.subscription.state, u.subscription.user.id) for u in updates if u.subscription is not None]
    assert states == [("canceled", ann.id), ("active", ann.id), ("failed", ann.id)]
    assert server.renew_subscription(ann, "sub:vip:u1") is None  # failed: no more charges
    with pytest.raises(TelegramBadRequest, match="SUBSCRIPTION_NOT_ACTIVE"):
        await bot.edit_user_star_subscription(user_id=ann.id, telegram_payment_charge_id="c1", is_canceled=True)
    # Both charges are refundable payments.
    assert await bot.refund_star_payment(user_id=ann.id, telegram_payment_charge_id="c2") is True


async def test_bot_cancels_and_resumes_renewal(server: FakeTelegramServer, bot: Bot) -> None:
    ann, bob = server.add_user("Ann"), server.add_user("Bob")
    url = await link(bot)
    server.pay_link(ann, url, charge_id="c1")
    assert await bot.edit_user_star_subscription(user_id=ann.id, telegram_payment_charge_id="c1", is_canceled=True)
    assert server.renew_subscription(ann, "sub:vip:u1") is None  # canceled by the bot: not charged
    assert await bot.edit_user_star_subscription(user_id=ann.id, telegram_payment_charge_id="c1", is_canceled=False)
    assert server.renew_subscription(ann, "sub:vip:u1", charge_id="c2") is not None
    # Any charge of the subscription names it; another user's or an unknown charge does not.
    assert await bot.edit_user_star_subscription(user_id=ann.id, telegram_payment_charge_id="c2", is_canceled=True)
    for user_id, charge in ((bob.id, "c1"), (ann.id, "nope")):
        with pytest.raises(TelegramBadRequest, match="CHARGE_NOT_FOUND"):
            await bot.edit_user_star_subscription(user_id=user_id, telegram_payment_charge_id=charge, is_canceled=True)
    # The user's own cancellation is theirs: the bot's "resume" does not undo it.
    server.cancel_subscription(ann, "sub:vip:u1")
    assert await bot.edit_user_star_subscription(user_id=ann.id, telegram_payment_charge_id="c1", is_canceled=False)
    assert server.renew_subscription(ann, "sub:vip:u1") is None


async def test_subscription_link_is_validated(bot: Bot) -> None:
    for kwargs in ({"period": 86400}, {"currency": "USD"}):
        with pytest.raises(TelegramBadRequest, match="SUBSCRIPTION_PERIOD_INVALID"):
            await link(bot, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(TelegramBadRequest, match="STARS_INVOICE_INVALID"):
        await link(bot, amount=10001)
    assert (await link(bot, period=None)).startswith("https://t.me/$")  # a one-off link
