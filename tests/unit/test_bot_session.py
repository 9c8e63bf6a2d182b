"""The Bot's session on the wire (bot/outgoing.py BotSession), against a bare HTTP server on 127.0.0.1:
calls without files go as one JSON body, calls with files as aiogram's multipart, a dropped
connection is aiogram's network error."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramNetworkError
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web

from bot.outgoing import BotSession

TOKEN = "42:" + "A" * 35
MESSAGE = {"message_id": 7, "date": 0, "chat": {"id": 5, "type": "private"}, "text": "hi"}


@dataclass
class Seen:
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)  # method, content type, body
    drop: bool = False


@pytest.fixture
async def api() -> AsyncIterator[tuple[Seen, str]]:
    seen = Seen()

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        seen.requests.append((request.match_info["method"], request.content_type, body))
        if seen.drop:
            assert request.transport is not None
            request.transport.close()
        return web.json_response({"ok": True, "result": MESSAGE})

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield seen, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def make_bot(base: str) -> Bot:
    session = BotSession(api=TelegramAPIServer.from_base(base))
    return Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


async def test_a_call_without_files_is_one_json_body(api: tuple[Seen, str]) -> None:
    seen, base = api
    bot = make_bot(base)
    try:
        markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="价格 & more", callback_data="p")]])
        sent = await bot.send_message(5, "<b>BTC</b> 价格 ✓ a+b=c&d", reply_markup=markup)
    finally:
        await bot.session.close()
    assert sent.message_id == 7
    [(method, content_type, body)] = seen.requests
    assert (method, content_type) == ("sendMessage", "application/json")
    values: dict[str, Any] = json.loads(body)  # aiogram's values, as in its forms (the Bot API reads both alike)
    assert values["chat_id"] == "5" and values["text"] == "<b>BTC</b> 价格 ✓ a+b=c&d"
    assert values["parse_mode"] == "HTML"  # the Bot's default, resolved as aiogram does
    assert json.loads(values["reply_markup"]) == {"inline_keyboard": [[{"text": "价格 & more", "callback_data": "p"}]]}


async def test_a_call_with_a_file_is_aiograms_multipart(api: tuple[Seen, str]) -> None:
    seen, base = api
    bot = make_bot(base)
    try:
        await bot.send_photo(5, BufferedInputFile(b"\x89PNG fake", filename="chart.png"), caption="BTC 4h")
    finally:
        await bot.session.close()
    [(method, content_type, body)] = seen.requests
    assert (method, content_type) == ("sendPhoto", "multipart/form-data")
    assert b"\x89PNG fake" in body and b"BTC 4h" in body


async def test_a_dropped_connection_is_a_network_error(api: tuple[Seen, str]) -> None:
    seen, base = api
    seen.drop = True
    bot = make_bot(base)
    try:
        with pytest.raises(TelegramNetworkError):
            await bot.send_message(5, "hello")
    finally:
        await bot.session.close()
    assert [method for method, _, _ in seen.requests] == ["sendMessage"]
