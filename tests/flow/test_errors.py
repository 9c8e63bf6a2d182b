"""A handler that raises: the user gets the localized error reply and the bot keeps serving."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from sqlalchemy import text

from standins.telegram import FakeTelegramServer
from tests.harness import running_bot


class Boom(RuntimeError):
    pass


async def explode(message: Message) -> None:
    raise Boom("database exploded: password=hunter2")


async def broken_sql(message: Message, session: Any) -> None:
    await session.execute(text("SELECT * FROM no_such_table"))


def failing_router() -> Router:
    router = Router(name="test-failing")
    router.message.register(explode, Command("boom"))
    router.message.register(broken_sql, Command("sql"))
    return router


async def test_error_reply_is_localized_and_bot_keeps_serving(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any], caplog: Any
) -> None:
    # The production dispatcher, plus one router whose handlers fail for real.
    async with running_bot(settings_factory(), tg, [failing_router()]):
        ann = tg.add_user("Ann", language_code="en")
        li = tg.add_user("Li", language_code="zh")
        await tg.send_command(ann, "/boom")
        await tg.send_command(li, "/sql")
        (en,) = await tg.wait_for_messages(ann, 1)
        (zh,) = await tg.wait_for_messages(li, 1)
        assert en.plain_text == "⚠️ Something went wrong on my side. Please try again in a moment."
        assert zh.plain_text == "⚠️ 我这边出了点问题，请稍后再试。"
        assert "hunter2" not in en.plain_text and "no_such_table" not in zh.plain_text
        await tg.send_command(ann, "/help")
        messages = await tg.wait_for_messages(ann, 2)
        assert messages[-1].plain_text.startswith("What I can do")
    assert any("Boom" in r.getMessage() or r.exc_info for r in caplog.records if r.name == "coinsight.errors")
