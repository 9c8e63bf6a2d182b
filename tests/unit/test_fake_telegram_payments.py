"""Telegram Stars payments through the fake Bot API: invoice, pre-checkout, payment, refund."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import LabeledPrice

from standins.telegram import FakeTelegramServer, ManualClock, make_bot


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def server(clock: ManualClock) -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(clock=clock) as srv:
        yield srv


@pytest.fixture
async def bot(server: FakeTelegramServer) -> AsyncIterator[Bot]:
    client = make_bot(server)
    yield client
    await client.session.close()


async def send_stars_invoice(bot: Bot, chat_id: int, payload: str = "pkg:100:u1", amount: int = 50):
    return await bot.send_invoice(
        chat_id=chat_id,
        title="100 credits",
        description="Credits for analyses",
        payload=payload,
        currency="XTR",
        prices=[LabeledPrice(label="100 credits", amount=amount)],
    )


async def test_stars_purchase_and_refund(server, bot):
    ann = server.add_user("Ann", "ann")
    invoice_message = await send_stars_invoice(bot, ann.id)
    assert invoice_message.invoice is not None
    assert (invoice_message.invoice.currency, invoice_message.invoice.total_amount) == ("XTR", 50)
    assert server.bot_messages(ann)[0].readable() == "[invoice: 100 credits — 50 XTR]"

    query_id = server.pre_checkout(ann, "pkg:100:u1")
    (update,) = await bot.get_updates()
    query = update.pre_checkout_query
    assert query is not None and query.id == query_id
    assert (query.currency, query.total_amount, query.invoice_payload) == ("XTR", 50, "pkg:100:u1")
    assert query.from_user.id == ann.id
    assert await bot.answer_pre_checkout_query(query.id, ok=True) is True
    answer = await server.wait_pre_checkout_answer(query_id, timeout=1)
    assert answer.ok is True and answer.error_message is None
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_pre_checkout_query(query.id, ok=True)

    paid = server.successful_payment(ann, "pkg:100:u1")
    (paid_update,) = await bot.get_updates(offset=update.update_id + 1)
    payment = paid_update.message.successful_payment
    assert payment is not None
    assert (payment.currency, payment.total_amount, payment.invoice_payload) == ("XTR", 50, "pkg:100:u1")
    charge_id = payment.telegram_payment_charge_id
    assert charge_id == paid["message"]["successful_payment"]["telegram_payment_charge_id"]
    assert payment.provider_payment_charge_id == ""

    assert await bot.refund_star_payment(user_id=ann.id, telegram_payment_charge_id=charge_id) is True
    assert server.state.payments[charge_id].refunded is True
    with pytest.raises(TelegramBadRequest) as twice:
        await bot.refund_star_payment(user_id=ann.id, telegram_payment_charge_id=charge_id)
    assert twice.value.message == "Bad Request: CHARGE_ALREADY_REFUNDED"
    with pytest.raises(TelegramBadRequest, match=r"^Telegram server says - Bad Request: CHARGE_NOT_FOUND$"):
        await bot.refund_star_payment(user_id=ann.id, telegram_payment_charge_id="stxn-unknown")
    # Telegram tells the bot about the refund with a refunded_payment message.
    (refund_update,) = await bot.get_updates(offset=paid_update.update_id + 1)
    assert refund_update.message.refunded_payment is not None
    assert refund_update.message.refunded_payment.telegram_payment_charge_id == charge_id


async def test_pre_checkout_rejection_and_timeout(server, bot, clock):
    ann = server.add_user("Ann")
    await send_stars_invoice(bot, ann.id, payload="plan:vip")
    first = server.pre_checkout(ann, "plan:vip")
    with pytest.raises(TelegramBadRequest, match='parameter "error_message" is required'):
        await bot.answer_pre_checkout_query(first, ok=False)
    await bot.answer_pre_checkout_query(first, ok=False, error_message="Sold out")
    rejected = await server.wait_pre_checkout_answer(first)
    assert (rejected.ok, rejected.error_message) == (False, "Sold out")
    late = server.pre_checkout(ann, server.bot_messages(ann)[0])
    clock.advance(10.5)
    with pytest.raises(TelegramBadRequest, match="query is too old and response timeout expired"):
        await bot.answer_pre_checkout_query(late, ok=True)


async def test_invoice_validation(server, bot):
    ann = server.add_user("Ann")
    with pytest.raises(TelegramBadRequest, match="STARS_INVOICE_INVALID"):
        await bot.send_invoice(
            chat_id=ann.id,
            title="t",
            description="d",
            payload="p",
            currency="XTR",
            provider_token="284685063:TEST:abc",
            prices=[LabeledPrice(label="x", amount=5)],
        )
    with pytest.raises(TelegramBadRequest, match="STARS_INVOICE_INVALID"):
        await bot.send_invoice(
            chat_id=ann.id,
            title="t",
            description="d",
            payload="p",
            currency="XTR",
            prices=[LabeledPrice(label="a", amount=5), LabeledPrice(label="b", amount=5)],
        )
    with pytest.raises(TelegramBadRequest, match="PAYMENT_PROVIDER_INVALID"):
        await bot.send_invoice(
            chat_id=ann.id,
            title="t",
            description="d",
            payload="p",
            currency="USD",
            prices=[LabeledPrice(label="x", amount=500)],
        )
    with pytest.raises(TelegramBadRequest, match='parameter "payload" is required'):
        await bot.send_invoice(
            chat_id=ann.id,
            title="t",
            description="d",
            payload="",
            currency="XTR",
            prices=[LabeledPrice(label="x", amount=5)],
        )
    assert server.bot_messages(ann) == []
    with pytest.raises(LookupError, match="the bot sent no invoice"):
        server.pre_checkout(ann, "never-sent")
