"""Show a streamed answer in Telegram, stoppable by the user who asked.

Private chats: a message draft (`sendMessageDraft`, Bot API 9.5+) with a "thinking" placeholder at
once, updated as the answer grows (at most every ~1 s, through the outgoing limiter like every call),
with the draft's own stop button (`can_stop`, Bot API 10.3); the final answer is then sent as real
messages (drafts are temporary). Groups: one message edited at most every ~3 s, with an inline Stop
button until the final text replaces it. The final text is safe HTML split at 4096, with a
plain-text fallback.

A stop (the draft's button: a `stopped_message_generation` update; the inline button: a callback)
sets the answer's event; the stream is then cancelled where it waits — the model's HTTP request
ends at once — and the text received so far is sent, marked as stopped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup, Message, ReplyParameters
from aiogram.utils.chat_action import ChatActionSender
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import StopCallback
from services.chat import Answer, ChatEvent, Delta, Done, Restart
from services.chat.stops import RunningAnswer
from services.i18n import Translator
from services.text import (
    StreamPreview,
    close_dangling_markdown,
    escape,
    html_to_plain,
    markdown_to_telegram_html,
    split_html,
)

log = logging.getLogger(__name__)

PRIVATE_EDIT_INTERVAL = 1.0
GROUP_EDIT_INTERVAL = 3.0
DRAFT_REFRESH = 20.0  # a draft shows for ~30 s: one that has not changed for this long is sent again
# The placeholder draft is paced like every message; when the limiter holds it longer than this (a burst
# of questions: ~30 messages/s for the whole bot), "typing…" shows meanwhile (chat actions are not paced).
DRAFT_WAIT = 0.5


def stop_keyboard(t: Translator, running: RunningAnswer) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t("stream-stop-button"), callback_data=StopCallback(a=running.answer_id))
    return builder.as_markup()


def _parse_error(exc: TelegramBadRequest) -> bool:
    return "parse entities" in str(exc)


class ChatWriter:
    """Sends and edits the answer's messages in one chat (groups; `markup` is the Stop button)."""

    def __init__(self, bot: Bot, chat_id: int, reply_to: int | None, markup: InlineKeyboardMarkup | None) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.reply_to = reply_to
        self.markup = markup
        self.current: Message | None = None
        self.shown = ""

    async def show(self, html: str) -> None:
        """Put `html` in the current message (sending it first if needed)."""
        if self.current is None:
            self.current = await self._send(html, self.markup)
        elif html != self.shown:
            await self._edit(self.current, html, self.markup)
        self.shown = html

    async def refresh(self) -> None:
        """Nothing to do: a message does not expire."""

    async def _send(self, html: str, markup: InlineKeyboardMarkup | None = None) -> Message:
        reply = ReplyParameters(message_id=self.reply_to, allow_sending_without_reply=True) if self.reply_to else None
        try:
            return await self.bot.send_message(self.chat_id, html, reply_parameters=reply, reply_markup=markup)
        except TelegramBadRequest as exc:
            if not _parse_error(exc):
                raise
            log.warning("Telegram refused our HTML (%s); sending plain text", exc)
            plain = html_to_plain(html)
            return await self.bot.send_message(
                self.chat_id, plain, parse_mode=None, reply_parameters=reply, reply_markup=markup
            )

    async def _edit(self, message: Message, html: str, markup: InlineKeyboardMarkup | None) -> None:
        try:
            await self.bot.edit_message_text(
                html, chat_id=self.chat_id, message_id=message.message_id, reply_markup=markup
            )
        except TelegramBadRequest as exc:
            if "message is not modified" in str(exc):
                return
            if not _parse_error(exc):
                raise
            log.warning("Telegram refused our HTML (%s); editing as plain text", exc)
            await self.bot.edit_message_text(
                html_to_plain(html), chat_id=self.chat_id, message_id=message.message_id, parse_mode=None
            )

    async def finish(self, parts: list[str]) -> None:
        """The final answer: the first part replaces the preview (and its Stop button), the rest follow."""
        for index, part in enumerate(parts):
            if index == 0 and self.current is not None:
                await self._edit(self.current, part, None)
            else:
                self.current = await self._send(part)
            self.shown = part


class DraftWriter:
    """A private chat: the answer grows in one message draft, then is sent as real messages."""

    def __init__(self, bot: Bot, chat_id: int, draft_id: int) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.draft_id = draft_id
        self.shown = ""
        self.working = True  # False once Telegram refused a draft: the final message still comes

    async def show(self, html: str) -> None:
        if not self.working:
            return
        try:
            await self._draft(html)
        except TelegramBadRequest as exc:
            if not _parse_error(exc):
                log.warning("message drafts refused in chat %s (%s); the answer comes whole", self.chat_id, exc)
                self.working = False
                return
            await self._draft(html_to_plain(html), parse_mode=None)
        self.shown = html

    async def refresh(self) -> None:
        """Send the draft again before Telegram drops it (a draft lasts about 30 s)."""
        if self.shown:
            await self.show(self.shown)

    async def _draft(self, text: str, parse_mode: str | None = "HTML") -> None:
        await self.bot.send_message_draft(
            chat_id=self.chat_id, draft_id=self.draft_id, text=text, parse_mode=parse_mode, can_stop=True
        )

    async def finish(self, parts: list[str]) -> None:
        for part in parts:
            try:
                await self.bot.send_message(self.chat_id, part)
            except TelegramBadRequest as exc:
                if not _parse_error(exc):
                    raise
                log.warning("Telegram refused our HTML (%s); sending plain text", exc)
                await self.bot.send_message(self.chat_id, html_to_plain(part), parse_mode=None)
            self.shown = part


@dataclass(frozen=True)
class Delivered:
    """What `AnswerStream.deliver` did: `answer` is the finished answer (None when the stream gave
    none); `stopped` the text shown before the user stopped it (then `answer` is None);
    `delivered` whether the final messages reached the chat."""

    answer: Answer | None
    delivered: bool
    stopped: str | None = None


class _Stopped(Exception):
    """The user stopped the answer."""


class AnswerStream:
    """One answer's way into its chat: `thinking()` at once, then `deliver(events)`."""

    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        *,
        t: Translator,
        running: RunningAnswer,
        group: bool,
        reply_to: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        congested: Callable[[], bool] = lambda: False,
    ) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.congested = congested  # the outgoing limiter's queue is long (services.ratelimit.Backlog)
        self.t = t
        self.running = running
        self.group = group
        self.clock = clock
        self.writer: ChatWriter | DraftWriter
        if group:
            self.writer = ChatWriter(bot, chat_id, reply_to, stop_keyboard(t, running))
        else:
            self.writer = DraftWriter(bot, chat_id, running.answer_id)
        self.interval = GROUP_EDIT_INTERVAL if group else PRIVATE_EDIT_INTERVAL
        self.preview = StreamPreview(min_interval=self.interval, clock=clock)
        self._pending = False  # text received that the preview has not shown yet
        self._last_shown = clock()
        self._held_until = 0.0  # previews held back in a burst: the next look at the queue

    async def thinking(self) -> None:
        """The first visible feedback in a private chat: a draft with the placeholder (and its stop
        button), before anything else is done for the question; "typing…" meanwhile if the outgoing
        limiter holds the draft back longer than DRAFT_WAIT (a burst). Groups get "typing…" instead."""
        if self.group:
            return
        try:
            async with ChatActionSender.typing(bot=self.bot, chat_id=self.chat_id, initial_sleep=DRAFT_WAIT):
                await self.writer.show(escape(self.t("stream-thinking")))
        except TelegramAPIError as exc:
            log.info("no placeholder draft in chat %s: %s", self.chat_id, exc)
        self._last_shown = self.clock()

    async def _show(self, html: str) -> None:
        await self.writer.show(html)
        self._last_shown = self.clock()
        self._pending = False

    def _feed(self, text: str) -> str | None:
        self.preview.feed(text)
        if self._hold():
            return None
        html = self.preview.poll()
        self._pending = html is None
        return html

    def _hold(self) -> bool:
        """In a burst (more replies queued in the outgoing limiter than a second of Telegram's budget)
        previews wait, looked at again an interval later: the budget goes to every asker's first
        feedback and final answer, which then come sooner, instead of to drafts updated every second."""
        if not self.congested():
            return False
        self._pending = True
        self._held_until = self.clock() + self.interval
        return True

    def _timeout(self) -> float | None:
        """How long the next event may be waited for: until a held-back preview is due (the model
        paused mid-answer), or a private chat's draft needs sending again."""
        due: list[float] = []
        if self._pending:
            due.append(max(self._last_shown + self.interval, self._held_until))
        if not self.group:
            due.append(self._last_shown + DRAFT_REFRESH)
        return max(0.0, min(due) - self.clock()) if due else None

    async def _tick(self) -> None:
        if self._pending and not self._hold():
            self._pending = False
            html = self.preview.poll()
            if html is not None:
                await self._show(html)
                return
        if not self.group and self.clock() - self._last_shown >= DRAFT_REFRESH:
            await self.writer.refresh()
            self._last_shown = self.clock()

    async def _events(self, events: AsyncGenerator[ChatEvent, None]) -> AsyncGenerator[ChatEvent, None]:
        """The events until a stop: then the wait for the next one is cancelled (the model's request
        with it) and `_Stopped` raised. While waiting, a due preview is shown and an old draft renewed."""
        stop = asyncio.ensure_future(self.running.stopped.wait())
        step: asyncio.Future[ChatEvent] | None = None
        try:
            while not self.running.stopped.is_set():  # stopped before it began: the model is never asked
                step = asyncio.ensure_future(anext(events))
                while not step.done():
                    await asyncio.wait({step, stop}, timeout=self._timeout(), return_when=asyncio.FIRST_COMPLETED)
                    if stop.done():
                        break
                    if not step.done():
                        await self._tick()
                else:
                    try:
                        yield step.result()
                    except StopAsyncIteration:
                        return
                    continue
                break
            raise _Stopped
        finally:
            stop.cancel()
            if step is not None and not step.done():
                # Stopped, or a preview failed while the model was being waited for: the wait is
                # cancelled, and the model's request with it.
                step.cancel()
                await asyncio.wait({step})  # its cancellation, not ours, if we are cancelled meanwhile

    async def deliver(self, events: AsyncGenerator[ChatEvent, None]) -> Delivered:
        """Stream the events into the chat until the answer is done or the user stops it."""
        answer: Answer | None = None
        stopped = False
        try:
            async with aclosing(events), aclosing(self._events(events)) as stream:
                try:
                    async for event in stream:
                        if isinstance(event, Delta):
                            html = self._feed(event.text)
                            if html is not None:
                                await self._show(html)
                        elif isinstance(event, Restart):
                            self.preview = StreamPreview(min_interval=self.interval, clock=self.clock)
                        elif isinstance(event, Done):
                            answer = event.answer
                except _Stopped:
                    stopped = True
            if stopped:
                shown = self.preview.text.strip()
                log.info("answer stopped by the user in chat %s after %d characters", self.chat_id, len(shown))
                await self.writer.finish(self._stopped_parts(shown))
                return Delivered(None, True, stopped=shown)
            if answer is None:
                return Delivered(None, False)
            await self.writer.finish(split_html(markdown_to_telegram_html(answer.text)))
        except TelegramAPIError as exc:
            log.warning("could not deliver an answer to chat %s: %s", self.chat_id, exc)
            return Delivered(answer, False)
        return Delivered(answer, True)

    def _stopped_parts(self, shown: str) -> list[str]:
        mark = f"<i>{escape(self.t('stream-stopped'))}</i>"
        if not shown:
            return [mark]
        return split_html(markdown_to_telegram_html(close_dangling_markdown(shown)) + "\n\n" + mark)
