"""Outgoing request pacing for the aiogram Bot: keeps every send within Telegram's limits.

Telegram allows about 30 messages per second overall, about one per second in a private chat (with
short bursts) and 20 per minute in a group. This request middleware waits for a token from the
global bucket and the chat's bucket before each message-producing call, and if Telegram still
answers 429 it waits `retry_after` and tries again (a bounded number of times).

The clock and the sleep are injectable: tests share one clock with the local Bot API stand-in, whose
flood limits then judge the bot's pacing exactly, without waiting in real time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from aiogram import Bot

logger = logging.getLogger(__name__)

# Methods that produce or change a visible message and count against Telegram's flood limits.
PACED_PREFIXES = ("send", "edit", "copy", "forward")
UNPACED = {"sendChatAction"}


EPSILON = 1e-9
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]


class TokenBucket:
    """`capacity` tokens, refilled at `refill_per_second`; full at `now`."""

    def __init__(self, capacity: float, refill_per_second: float, now: float) -> None:
        self.capacity = capacity
        self.refill_per_second = refill_per_second
        self.tokens = capacity
        self.updated = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 = available now; the token is then taken)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.refill_per_second)
        self.updated = now
        # A wait computed as (1 - tokens) / rate refills to 1 only up to rounding: within EPSILON is whole.
        if self.tokens >= 1 - EPSILON:
            self.tokens = max(0.0, self.tokens - 1)
            return 0.0
        return (1 - self.tokens) / self.refill_per_second


@dataclass(frozen=True)
class Limits:
    """Our budget: Telegram's published limits less a margin for network jitter and clock skew."""

    global_per_second: float = 25.0
    private_burst: float = 2.0
    private_per_second: float = 0.85
    group_burst: float = 18.0
    group_per_second: float = 17.0 / 60.0


class PacingMiddleware(BaseRequestMiddleware):
    def __init__(
        self,
        limits: Limits | None = None,
        max_retries: int = 3,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limits = limits or Limits()
        self.max_retries = max_retries
        self.clock = clock
        self.sleep = sleep
        self._global = TokenBucket(self.limits.global_per_second, self.limits.global_per_second, clock())
        self._chats: dict[int | str, TokenBucket] = {}
        self._lock = asyncio.Lock()

    def _bucket(self, chat_id: int | str, now: float) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            is_private = isinstance(chat_id, int) and chat_id > 0
            bucket = (
                TokenBucket(self.limits.private_burst, self.limits.private_per_second, now)
                if is_private
                else TokenBucket(self.limits.group_burst, self.limits.group_per_second, now)
            )
            if len(self._chats) > 50_000:
                self._chats.clear()
            self._chats[chat_id] = bucket
        return bucket

    async def _acquire(self, chat_id: int | str | None) -> None:
        while True:
            async with self._lock:
                now = self.clock()
                wait = self._global.wait_time(now)
                if wait == 0 and chat_id is not None:
                    wait = self._bucket(chat_id, now).wait_time(now)
                    if wait:
                        self._global.tokens += 1  # give the global token back while we wait
            if wait == 0:
                return
            await self.sleep(wait)

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = method.__api_method__
        paced = name.startswith(PACED_PREFIXES) and name not in UNPACED
        chat_id: Any = getattr(method, "chat_id", None)
        attempt = 0
        while True:
            if paced:
                await self._acquire(chat_id if isinstance(chat_id, int | str) else None)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                attempt += 1
                if attempt > self.max_retries:
                    raise
                logger.warning("429 on %s to %s: waiting %s s", name, chat_id, exc.retry_after)
                await self.sleep(exc.retry_after)
