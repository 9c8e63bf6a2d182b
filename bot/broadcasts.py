"""The broadcasts' progress: every `interval` seconds, each running broadcast's counts are read from
the outbox (its rows by status: services.admin.broadcast) and the operator's progress message is
edited (sent / failed / blocked / remaining, ETA); once no row is left, the broadcast is finished
(its `broadcast_done` audit row) and the message becomes the summary, which is also sent as a reply so
the operator is notified. While no broadcast runs, a look is one small query (an index range of the
audit log's primary key, past the finished broadcasts).

Owned by the app resources (started with the dispatcher, cancelled on close), one per replica. The
key-value store (Redis when set) makes replicas take turns editing (one edit per broadcast per
interval), and the database makes one of them write the summary (the start's audit row is locked
while `broadcast_done` is written). Edits and the summary are ordinary Bot API calls through the limiter, in its
bulk lane (users' replies go first); a refused edit (the message was deleted, the operator blocked
the bot) costs nothing but that edit. No database session is held across a Bot API call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import AiogramError, TelegramBadRequest
from aiogram.types import ReplyParameters
from redis.exceptions import RedisError
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
# Longer than any transaction that writes a broadcast's start (its audience's rows) can last.
SETTLE_SECONDS = 600.0


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
        monotonic: Callable[[], float] = time.monotonic,
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
        self.failures = 0  # looks that could not read the database (the next one tries again)
        self.looks = 0  # looks the loop has made (successful or not)
        self._progress = asyncio.Condition()
        self._shown: dict[int, str] = {}  # broadcast id → the text this process last showed
        self._poke = asyncio.Event()
        self._horizon = 0  # every broadcast up to this audit id has finished
        self._marks: deque[tuple[float, int]] = deque()  # (when, the newest audit id then)
        self.monotonic = monotonic

    @property
    def horizon(self) -> int:
        """Every broadcast up to this audit id has finished: later looks skip those rows."""
        return self._horizon

    def poke(self) -> None:
        """Look now instead of at the next interval."""
        self._poke.set()

    async def wait_looks(self, count: int, timeout: float | None = None) -> None:
        """Until the loop has looked `count` times since it started (for tools and tests)."""
        async with asyncio.timeout(timeout), self._progress:
            await self._progress.wait_for(lambda: self.looks >= count)

    async def run(self) -> None:
        """Look every `interval` (or when poked), the first time an interval after the start: a
        broadcast a restart interrupted is picked up then, and a starting process stays quiet."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._poke.wait()
            self._poke.clear()
            try:
                await self.tick()
            except (SQLAlchemyError, RedisError, OSError) as exc:
                self.failures += 1
                log.warning("broadcast progress: reading the outbox failed: %s", exc)
            async with self._progress:
                self.looks += 1
                self._progress.notify_all()

    async def tick(self) -> int:
        """One look at every running broadcast; how many were finished now."""
        async with self.sessionmaker() as session:
            states, last_id = await running_broadcasts(session, self._horizon)
        self._advance(states, last_id)
        finished = 0
        for state in states:
            if state.counts.remaining == 0:
                finished += await self._finish(state)
            else:
                await self._show(state)
        return finished

    def _advance(self, states: list[BroadcastState], last_id: int) -> None:
        """Later looks skip the audit rows up to the newest id read at least SETTLE_SECONDS ago (any
        transaction that could still add a lower id has ended by then), never past a running
        broadcast: the look at running broadcasts stays a short range of the primary key."""
        now = self.monotonic()
        self._marks.append((now, last_id))
        while len(self._marks) > 1 and self._marks[1][0] <= now - SETTLE_SECONDS:
            self._marks.popleft()
        at, settled = self._marks[0]
        if at > now - SETTLE_SECONDS:
            return
        floor = min(state.id for state in states) - 1 if states else settled
        self._horizon = max(self._horizon, min(settled, floor))

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
        now = self.clock()
        async with self.sessionmaker() as session:
            if not await finish_broadcast(session, state, now):
                return 0  # another replica wrote it (and sends the summary)
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
        except AiogramError as exc:  # a Bot API error, or an answer that is not one
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
        except AiogramError as exc:
            log.info("broadcast %s: progress message not edited: %s", state.id, exc)
            return False
        return True
