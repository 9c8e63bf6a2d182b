"""A chat action ("typing…") that fails is logged and answered False, never raised (bot/outgoing.py):
aiogram's ChatActionSender sends it from a task nobody awaits, where an error ended as "Task
exception was never retrieved". Messages still raise. The real aiogram Bot against the stand-in."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.utils.chat_action import ChatActionSender

from standins.telegram import FakeTelegramServer


async def test_a_chat_action_to_a_user_who_blocked_the_bot_is_false_not_an_error(
    tg: FakeTelegramServer, bot: Bot
) -> None:
    ann = tg.add_user("Ann")
    tg.block_bot(ann)
    assert await bot.send_chat_action(ann.id, "typing") is False
    assert [call.status for call in tg.calls_to("sendChatAction")] == [403]
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(ann.id, "hi")  # a message still fails as before


async def test_chat_action_sender_leaves_no_unretrieved_task_error(tg: FakeTelegramServer, bot: Bot) -> None:
    ann = tg.add_user("Ann")
    tg.block_bot(ann)
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        async with ChatActionSender.typing(bot=bot, chat_id=ann.id, initial_sleep=0):
            await tg.wait_until(lambda: bool(tg.calls_to("sendChatAction")), what="the chat action")
        gc.collect()  # an unretrieved task error is reported when the task is collected
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    assert reported == []
