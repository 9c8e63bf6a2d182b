"""A faithful fake of the Telegram Bot API (HTTP), for the test suite and the console mode.

Usage::

    async with FakeTelegramServer() as server:          # 127.0.0.1, random port
        bot = make_bot(server)                           # real aiogram Bot -> server.base_url
        ann = server.add_user("Ann", "ann", language_code="en")
        await server.send_command(ann, "/start")         # pushes a `message` update
        (reply,) = await server.wait_for_messages(ann, 1)
        assert reply.plain_text == "Welcome!"
        await server.press_button(ann, "📈 BTC")         # pushes a `callback_query` update
        assert server.count_429 == 0

What the bot did is in `server.calls` (every request: method, decoded params, status, answer) and in
the chats' messages (`server.bot_messages(chat)`: current text, buttons, photo bytes, edit history).
Errors, limits and formatting rules follow the real Bot API (see the modules' docstrings).
"""

from .chats import FakeChat, FakeMessage, FakeUser, MessageVersion
from .client import make_bot
from .entities import HtmlParseError, ParsedText, detect_entities, html_to_text, parse_html, utf16_len
from .errors import ApiError, FakeTelegramUsageError, bad_request, forbidden, server_error, too_many_requests
from .files import StoredFile, image_size, make_png
from .limits import ManualClock, RateLimiter, RateLimits
from .server import FakeTelegramServer
from .state import BotEvent, Call, CallbackQueryRecord, InvoiceLink, Payment, PreCheckoutRecord, StarSubscription
from .updates import WebhookConfig, WebhookDelivery

__all__ = [
    "ApiError",
    "BotEvent",
    "Call",
    "CallbackQueryRecord",
    "FakeChat",
    "FakeMessage",
    "FakeTelegramServer",
    "FakeTelegramUsageError",
    "FakeUser",
    "HtmlParseError",
    "InvoiceLink",
    "ManualClock",
    "MessageVersion",
    "ParsedText",
    "Payment",
    "PreCheckoutRecord",
    "RateLimiter",
    "RateLimits",
    "StarSubscription",
    "StoredFile",
    "WebhookConfig",
    "WebhookDelivery",
    "bad_request",
    "detect_entities",
    "forbidden",
    "html_to_text",
    "image_size",
    "make_bot",
    "make_png",
    "parse_html",
    "server_error",
    "too_many_requests",
    "utf16_len",
]
