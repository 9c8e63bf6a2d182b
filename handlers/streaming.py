"""Show a streamed answer in Telegram: one message edited at most every ~1 s (3 s in groups),
then the final text as safe HTML split at 4096, with a plain-text fallback."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import Message, ReplyParameters

from services.chat import Answer, ChatEvent, Delta, Done, Restart
from services.text import StreamPreview, html_to_plain, markdown_to_telegram_html, split_html

log = logging.getLogger(__name__)

PRIVATE_EDIT_INTERVAL = 1.0
GROUP_EDIT_INTERVAL = 3.0


class ChatWriter:
    """Sends and edits the answer's messages in one chat."""

    def __init__(self, bot: Bot, chat_id: int, reply_to: int | None) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.reply_to = reply_to
        self.current: Message | None = None
        self.shown = ""

    async def show(self, html: str) -> None:
        """Put `html` in the current message (sending it first if needed)."""
        if self.current is None:
            self.current = await self._send(html)
        elif html != self.shown:
            await self._edit(self.current, html)
        self.shown = html

    async def _send(self, html: str) -> Message:
        reply = ReplyParameters(message_id=self.reply_to, allow_sending_without_reply=True) if self.reply_to else None
        try:
            return await self.bot.send_message(self.chat_id, html, reply_parameters=reply)
        except TelegramBadRequest as exc:
            if "parse entities" not in str(exc):
                raise
            log.warning("Telegram refused our HTML (%s); sending plain text", exc)
            plain = html_to_plain(html)
            return await self.bot.send_message(self.chat_id, plain, parse_mode=None, reply_parameters=reply)

    async def _edit(self, message: Message, html: str) -> None:
        try:
            await self.bot.edit_message_text(html, chat_id=self.chat_id, message_id=message.message_id)
        except TelegramBadRequest as exc:
            text = str(exc)
            if "message is not modified" in text:
                return
            if "parse entities" not in text:
                raise
            log.warning("Telegram refused our HTML (%s); editing as plain text", exc)
            await self.bot.edit_message_text(
                html_to_plain(html), chat_id=self.chat_id, message_id=message.message_id, parse_mode=None
            )

    async def finish(self, parts: list[str]) -> None:
        """The final answer: the first part replaces the preview, the rest follow as new messages."""
        for index, part in enumerate(parts):
            if index == 0:
                await self.show(part)
            else:
                self.current = await self._send(part)
                self.shown = part


async def deliver(
    bot: Bot, chat_id: int, reply_to: int | None, events: AsyncGenerator[ChatEvent, None], *, group: bool
) -> tuple[Answer | None, bool]:
    """Stream the events into the chat. Returns (answer, delivered)."""
    interval = GROUP_EDIT_INTERVAL if group else PRIVATE_EDIT_INTERVAL
    writer = ChatWriter(bot, chat_id, reply_to)
    preview = StreamPreview(min_interval=interval)
    answer: Answer | None = None
    try:
        async with aclosing(events):
            async for event in events:
                if isinstance(event, Delta):
                    preview.feed(event.text)
                    html = preview.poll()
                    if html is not None:
                        await writer.show(html)
                elif isinstance(event, Restart):
                    preview = StreamPreview(min_interval=interval)
                elif isinstance(event, Done):
                    answer = event.answer
        if answer is None:
            return None, False
        await writer.finish(split_html(markdown_to_telegram_html(answer.text)))
    except TelegramAPIError as exc:
        log.warning("could not deliver an answer to chat %s: %s", chat_id, exc)
        return answer, False
    return answer, True
