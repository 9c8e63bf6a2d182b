"""Update delivery of the fake Bot API: getUpdates, a real Dispatcher polling, webhooks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiogram.filters import Command, CommandStart
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, ChatMemberUpdated, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from standins.telegram import FakeTelegramServer, make_bot


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(webhook_retry_delay=0.01) as srv:
        yield srv


@pytest.fixture
async def bot(server: FakeTelegramServer) -> AsyncIterator[Bot]:
    client = make_bot(server)
    yield client
    await client.session.close()


def build_router() -> Router:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        payload = (message.text or "").partition(" ")[2]
        name = message.from_user.first_name if message.from_user else "?"
        markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="📈 BTC", callback_data="coin:BTC")]])
        await message.answer(f"Welcome, <b>{name}</b>! {payload}".strip(), reply_markup=markup)

    @router.callback_query(F.data.startswith("coin:"))
    async def coin(query: CallbackQuery) -> None:
        symbol = (query.data or "").split(":", 1)[1]
        await query.answer(f"Loading {symbol}…")
        assert isinstance(query.message, Message)
        await query.message.edit_text(f"<b>{symbol}</b>: 64 000 USDT")

    @router.message(Command("echo"))
    async def echo(message: Message) -> SendMessage:
        # Returned methods are sent as the webhook's reply (Telegram executes them).
        return SendMessage(chat_id=message.chat.id, text=f"echo: {message.text}")

    @router.my_chat_member()
    async def membership(event: ChatMemberUpdated) -> None:
        if event.new_chat_member.status in ("member", "administrator") and event.chat.type != "private":
            assert event.bot is not None
            await event.bot.send_message(event.chat.id, "Thanks for adding me!")

    return router


@pytest.fixture
async def polling(server: FakeTelegramServer, bot: Bot) -> AsyncIterator[Dispatcher]:
    dispatcher = Dispatcher()
    dispatcher.include_router(build_router())
    task = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False))
    await server.wait_until(lambda: server.updates.waiting > 0, what="the dispatcher's long poll")
    yield dispatcher
    await dispatcher.stop_polling()
    await asyncio.wait_for(task, 5)


async def test_get_updates_offset_semantics(server, bot):
    ann = server.add_user("Ann")
    for text in ("one", "two", "three"):
        await server.send_message(ann, text)
    updates = await bot.get_updates()
    assert [u.message.text for u in updates] == ["one", "two", "three"]
    first = updates[0].update_id
    assert [u.update_id for u in updates] == [first, first + 1, first + 2]
    # Not confirmed yet: the same updates again; limit applies.
    assert [u.update_id for u in await bot.get_updates(limit=2)] == [first, first + 1]
    # offset confirms everything below it, for good.
    assert [u.message.text for u in await bot.get_updates(offset=first + 2)] == ["three"]
    assert [u.message.text for u in await bot.get_updates(offset=first)] == ["three"]
    assert await bot.get_updates(offset=first + 3) == []
    # A negative offset keeps only the last N.
    for text in ("a", "b", "c"):
        await server.send_message(ann, text)
    assert [u.message.text for u in await bot.get_updates(offset=-1)] == ["c"]
    assert [u.message.text for u in await bot.get_updates()] == ["c"]


async def test_long_poll_wakes_when_an_update_arrives(server, bot):
    ann = server.add_user("Ann")
    poll = asyncio.create_task(bot.get_updates(timeout=600))
    await server.wait_until(lambda: server.updates.waiting == 1)
    await server.send_message(ann, "wake up")
    updates = await asyncio.wait_for(poll, 60)  # woken by the update, not by its 10-minute timeout
    assert [u.message.text for u in updates] == ["wake up"]
    # With nothing pending, a short timeout returns an empty list.
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=1) == []


async def test_message_entities_like_telegram(server, bot):
    ann = server.add_user("Ann")
    await server.send_message(ann, "/price@coinsight_test_bot $BTC ask @somebody")
    (update,) = await bot.get_updates()
    entities = [(e.type, e.offset, e.length) for e in update.message.entities]
    assert entities == [("bot_command", 0, 25), ("cashtag", 26, 4), ("mention", 35, 9)]


async def test_allowed_updates_filter_new_updates(server, bot):
    ann = server.add_user("Ann")
    assert await bot.get_updates(allowed_updates=["callback_query"]) == []
    upd = await server.send_message(ann, "ignored")
    assert "update_id" not in upd
    assert await bot.get_updates() == []
    await bot.get_updates(allowed_updates=[])  # back to the default set
    assert "update_id" in await server.send_message(ann, "seen")


async def test_dispatcher_polling_round_trip_with_an_inline_button(server, bot, polling):
    ann = server.add_user("Ann", "ann")
    await server.send_command(ann, "/start", payload="ref42")
    (welcome,) = await server.wait_for_messages(ann, 1)
    assert welcome.plain_text == "Welcome, Ann! ref42"
    assert welcome.button_texts() == [["📈 BTC"]]
    update = await server.press_button(ann, "📈 BTC")
    answer = await server.wait_callback_answer(update["callback_query"]["id"])
    assert answer["text"] == "Loading BTC…" and answer["show_alert"] is False
    await server.wait_until(lambda: server.bot_messages(ann)[0].edit_date is not None)
    edited = server.bot_messages(ann)[0]
    assert edited.plain_text == "BTC: 64 000 USDT"
    assert edited.reply_markup is None
    assert [c.method for c in server.calls if c.method != "getUpdates"] == [
        "getMe",
        "sendMessage",
        "answerCallbackQuery",
        "editMessageText",
    ]
    # Answering twice is an error, as with Telegram.
    with pytest.raises(TelegramBadRequest, match="query is too old and response timeout expired"):
        await bot.answer_callback_query(update["callback_query"]["id"])


async def test_answer_unknown_callback_query(bot):
    with pytest.raises(TelegramBadRequest) as error:
        await bot.answer_callback_query("123", text="hi")
    assert error.value.message == ("Bad Request: query is too old and response timeout expired or query ID is invalid")


async def test_press_button_errors_are_clear(server, bot):
    ann = server.add_user("Ann")
    await bot.send_message(ann.id, "no buttons")
    with pytest.raises(LookupError, match="no inline button 'Buy'"):
        await server.press_button(ann, "Buy")


async def test_group_privacy_mode_and_bot_added(server, polling):
    owner = server.add_user("Owner", "owner")
    group = server.add_group("Traders", owner, bot_status="left")
    server.bot_added_to_group(group, owner)
    (thanks,) = await server.wait_for_messages(group, 1)
    assert thanks.plain_text == "Thanks for adding me!"
    chatter = await server.send_message(owner, "just chatting", chat=group)
    assert "update_id" not in chatter  # privacy mode: not delivered to the bot
    command = await server.send_command(owner, "/start", chat=group, with_username=True)
    assert "update_id" in command
    messages = await server.wait_for_messages(group, 2)
    assert messages[1].plain_text == "Welcome, Owner!"


async def test_get_updates_conflicts_while_a_webhook_is_set(server, bot):
    await bot.set_webhook("http://127.0.0.1:9/hook")
    with pytest.raises(TelegramConflictError) as conflict:
        await bot.get_updates()
    assert conflict.value.message == (
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
    )
    info = await bot.get_webhook_info()
    assert info.url == "http://127.0.0.1:9/hook"
    await bot.delete_webhook()
    assert await bot.get_updates() == []
    assert (await bot.get_webhook_info()).url == ""


async def test_a_newer_get_updates_terminates_the_waiting_one(server, bot):
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await server.wait_until(lambda: server.updates.waiting == 1)
    second = asyncio.create_task(bot.get_updates(timeout=1))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 3)
    second.cancel()


async def webhook_app(dispatcher: Dispatcher, bot: Bot, secret: str) -> tuple[web.AppRunner, str]:
    app = web.Application()
    SimpleRequestHandler(dispatcher=dispatcher, bot=bot, secret_token=secret, handle_in_background=False).register(
        app, path="/hook"
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/hook"


async def test_webhook_delivery_with_secret_header(server, bot):
    dispatcher = Dispatcher()
    dispatcher.include_router(build_router())
    runner, url = await webhook_app(dispatcher, bot, "s3cret-token")
    try:
        await bot.set_webhook(url, secret_token="s3cret-token", drop_pending_updates=True)
        ann = server.add_user("Ann")
        await server.send_command(ann, "/start")
        (welcome,) = await server.wait_for_messages(ann, 1)
        assert welcome.plain_text.startswith("Welcome, Ann!")
        # A method returned by the handler comes back in the webhook response and is executed.
        await server.send_command(ann, "/echo", payload="hi")
        messages = await server.wait_for_messages(ann, 2)
        assert messages[1].plain_text == "echo: /echo hi"
        assert [d.status for d in server.webhook_deliveries] == [200, 200]
        assert server.updates.pending == []
        # The aiogram handler checks the secret header.
        update = {"update_id": 999, "message": server.chat_messages(ann)[0].to_api()}
        assert await server.post_to_webhook(update, secret="wrong") == 401
        assert await server.post_to_webhook(update, secret=None) == 401
    finally:
        await runner.cleanup()


async def test_failed_webhook_deliveries_are_retried(server, bot):
    attempts: list[str | None] = []

    async def flaky(request: web.Request) -> web.Response:
        attempts.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        return web.Response(status=500 if len(attempts) < 3 else 200)

    app = web.Application()
    app.router.add_post("/hook", flaky)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        await bot.set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/hook", secret_token="abc")
        await server.send_message(server.add_user("Ann"), "hello")
        await server.wait_until(lambda: any(d.ok for d in server.webhook_deliveries))
        assert [(d.attempt, d.status) for d in server.webhook_deliveries] == [(1, 500), (2, 500), (3, 200)]
        assert attempts == ["abc", "abc", "abc"]
        info = await bot.get_webhook_info()
        assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        assert info.pending_update_count == 0
    finally:
        await runner.cleanup()
