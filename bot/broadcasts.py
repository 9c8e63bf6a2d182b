"""The broadcasts' progress: every `interval` seconds, each running broadcast's counts are read from
the outbox (its rows by status: services.admin.broadcast) and the operator's progress message is
edited (sent / failed / blocked / remaining, ETA); once no row is left, the broadcast is finished
(its `broadcast_done` audit row) and the message becomes the summary, which is also sent as a reply so
the operator is notified.

Owned by the app resources (started with the dispatcher, cancelled on close), one per replica. The
key-value store (Redis when set) makes replicas take turns: one edit per broadcast per interval, one
summary per broadcast. Edits and the summary are ordinary Bot API calls through the limiter, in its
bulk lane (users' replies go first); a refused edit (the message was deleted, the operator blocked
the bot) costs nothing but that edit. No database session is held across a Bot API call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import ReplyParameters
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import utcnow
from handlers.admin_broadcast import progress_text, summary_text
from services.admin.broadcast import BroadcastState, finish_broadcast, running_broadcasts
from services.i18n import Translations
from services.kv import KeyValueStore
from services.ratelimit import Lane, use_lane

log = logging.getLogger(__name__)

NOT_MODIFIED = "message is not modified"
FINISH_CLAIM_SECONDS = 3600.0  # one replica writes a broadcast's summary


class BroadcastProgress:
    def __init__(
        self,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        store: KeyValueStore,
        translations: Translations,
        interval: float,
        *,
        clock: Callable[[], datetime] = utcnow,
        prefix: str = "broadcast:",
    ) -> None:
        self.bot = bot
        self.sessionmaker = sessionmaker
        self.store = store
        self.translations = translations
        self.interval = interval
        self.clock = clock
        self.prefix = prefix
        self.edits = 0  # progress edits made by this process
        self.finished = 0  # summaries written by this process
        self._shown: dict[int, str] = {}  # broadcast id → the text this process last showed
        self._poke = asyncio.Event()

    def poke(self) -> None:
        """Look now instead of at the next interval."""
        self._poke.set()

    async def run(self) -> None:
        while True:
            self._poke.clear()
            try:
                await self.tick()
            except (SQLAlchemyError, OSError) as exc:
                log.warning("broadcast progress: reading the outbox failed: %s", exc)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._poke.wait()

    async def tick(self) -> int:
        """One look at every running broadcast; how many were finished now."""
        async with self.sessionmaker() as session:
            states = await running_broadcasts(session)
        finished = 0
        for state in states:
            if state.counts.remaining == 0:
                finished += await self._finish(state)
            else:
                await self._show(state)
        return finished

    async def _show(self, state: BroadcastState) -> None:
        t = self.translations.get(state.locale)
        text = progress_text(t, state, self.clock())
        if self._shown.get(state.id) == text:
            return
        # One replica edits per interval (the key expires a little before the next one).
        if not await self.store.set_nx(f"{self.prefix}{state.id}:edit", b"1", ttl=self.interval * 0.9):
            return
        if await self._edit(state, text):
            self._shown[state.id] = text
            self.edits += 1

    async def _finish(self, state: BroadcastState) -> int:
        if not await self.store.set_nx(f"{self.prefix}{state.id}:done", b"1", ttl=FINISH_CLAIM_SECONDS):
            return 0
        now = self.clock()
        try:
            async with self.sessionmaker() as session:
                await finish_broadcast(session, state, now)
        except (SQLAlchemyError, OSError):
            await self.store.delete(f"{self.prefix}{state.id}:done")  # the next look tries again
            raise
        self.finished += 1
        self._shown.pop(state.id, None)
        text = summary_text(self.translations.get(state.locale), state, now)
        await self._edit(state, text)
        try:
            with use_lane(Lane.BULK):
                await self.bot.send_message(
                    chat_id=state.chat_id,
                    text=text,
                    reply_parameters=ReplyParameters(message_id=state.message_id, allow_sending_without_reply=True),
                )
        except TelegramAPIError as exc:
            log.warning("broadcast %s: the summary was not delivered to %s: %s", state.id, state.chat_id, exc)
        return 1

    async def _edit(self, state: BroadcastState, text: str) -> bool:
        try:
            with use_lane(Lane.BULK):
                await self.bot.edit_message_text(
                    text=text, chat_id=state.chat_id, message_id=state.message_id, reply_markup=None
                )
        except TelegramBadRequest as exc:
            if NOT_MODIFIED in exc.message:
                return True
            log.info("broadcast %s: progress message not edited: %s", state.id, exc.message)
            return False
        except TelegramAPIError as exc:
            log.info("broadcast %s: progress message not edited: %s", state.id, exc)
            return False
        return True
