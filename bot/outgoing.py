"""The one outgoing limiter: an aiogram request middleware on the Bot's session, so every Bot API
call — replies, streamed edits and drafts, photos, invoices, outbox deliveries — passes it and no
code path can bypass it.

Calls that put or change a message in a chat (send*, edit*, copy*, forward*) take a slot from
`services.ratelimit` (in process, or in Redis shared by every replica) in the lane of the code that
makes them (`use_lane(Lane.BULK)` for pushes; interactive otherwise). A 429 pauses the scope it
concerns for `retry_after` and the call is tried again: a 429 never reaches the caller unless the
total wait passes `max_wait`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

from services.ratelimit import GLOBAL, Clock, Lane, LimiterBackend, MemoryLimiterBackend, Scope, current_lane

if TYPE_CHECKING:
    from aiogram import Bot

logger = logging.getLogger(__name__)

# Methods that produce or change a visible message and count against Telegram's flood limits.
PACED_PREFIXES = ("send", "edit", "copy", "forward")
UNPACED = frozenset({"sendChatAction"})

Sleep = Callable[[float], Awaitable[object]]


def is_paced(method_name: str) -> bool:
    return method_name.startswith(PACED_PREFIXES) and method_name not in UNPACED


@dataclass
class OutgoingStats:
    """Counters for the admin/metrics views: calls paced, 429s received, time spent waiting."""

    paced: int = 0
    bulk: int = 0
    waited_seconds: float = 0.0
    received_429: int = 0
    global_pauses: int = 0


class RateLimitMiddleware(BaseRequestMiddleware):
    def __init__(
        self,
        backend: LimiterBackend,
        *,
        sleep: Sleep = asyncio.sleep,
        max_wait: float = 900.0,
    ) -> None:
        self.backend = backend
        self.sleep = sleep
        self.max_wait = max_wait
        self.stats = OutgoingStats()

    @property
    def clock(self) -> Clock | None:
        return getattr(self.backend, "clock", None)

    @clock.setter
    def clock(self, clock: Clock) -> None:
        """Tests put the limiter on the stand-in's clock (the stand-in judges time on it too)."""
        self.backend.clock = clock  # type: ignore[attr-defined]

    async def _acquire(self, chat: Scope | None, lane: Lane) -> None:
        while True:
            reservation = await self.backend.reserve(chat, lane)
            if reservation.delay > 0:
                self.stats.waited_seconds += reservation.delay
                await self.sleep(reservation.delay)
            if reservation.reserved:
                return

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = method.__api_method__
        if not is_paced(name):
            return await make_request(bot, method)
        chat_id: Any = getattr(method, "chat_id", None)
        chat = Scope.for_chat(chat_id) if isinstance(chat_id, int | str) else None
        lane = current_lane.get()
        self.stats.paced += 1
        if lane is Lane.BULK:
            self.stats.bulk += 1
        paused = 0.0
        while True:
            await self._acquire(chat, lane)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                self.stats.received_429 += 1
                scope = chat or GLOBAL
                everything = await self.backend.paused(scope, exc.retry_after)
                if everything:
                    self.stats.global_pauses += 1
                logger.warning(
                    "429 on %s to %s: %s paused for %s s",
                    name,
                    chat_id,
                    "everything" if everything else scope.key,
                    exc.retry_after,
                )
                paused += exc.retry_after
                if paused > self.max_wait:
                    raise


def default_backend() -> MemoryLimiterBackend:
    return MemoryLimiterBackend()
