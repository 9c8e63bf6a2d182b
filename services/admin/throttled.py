"""Telegram's 429 answers, counted per minute in the key-value store (Redis when set: every
replica's count in one place), so /stats can say how many came in the last hour. The outgoing
limiter notes each one; most never reach the outbox, because the limiter waits and retries them."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from redis.exceptions import RedisError

from services.kv import KeyValueStore

log = logging.getLogger(__name__)

WINDOW_MINUTES = 60
KEY = "tg429:{minute}"


class RateLimitLog:
    def __init__(self, store: KeyValueStore, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock  # wall time: replicas share the minutes
        self.noted = 0  # 429s this process got since it started (the metrics' counter)

    def _minute(self) -> int:
        return int(self.clock() // 60)

    async def note(self) -> None:
        """One 429 now. Never raises: a count lost to a store failure must not fail the call."""
        self.noted += 1
        try:
            await self.store.incr(KEY.format(minute=self._minute()), (WINDOW_MINUTES + 5) * 60)
        except (RedisError, OSError) as exc:
            log.warning("a 429 was not counted: %s", exc)

    async def last_hour(self) -> int:
        """429s in this minute and the 59 before it."""
        now = self._minute()
        keys = [KEY.format(minute=minute) for minute in range(now - WINDOW_MINUTES + 1, now + 1)]
        return sum(int(raw) for raw in await self.store.get_many(keys) if raw is not None)
