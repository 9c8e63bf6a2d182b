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
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import ClientError, ClientTimeout

from services.ratelimit import (
    GLOBAL,
    Backlog,
    Clock,
    Lane,
    LimiterBackend,
    Scope,
    current_lane,
)

if TYPE_CHECKING:
    from aiogram import Bot

logger = logging.getLogger(__name__)

# Methods that produce or change a visible message and count against Telegram's flood limits.
PACED_PREFIXES = ("send", "edit", "copy", "forward")
UNPACED = frozenset({"sendChatAction"})

Sleep = Callable[[float], Awaitable[object]]
MAX_CHAT_WINDOWS = 10_000  # chats with a window kept in this process before idle ones are dropped
MAX_STALE_SLOTS = 3  # slots one call gives up for waking too late, before it leaves late anyway


def is_paced(method_name: str) -> bool:
    return method_name.startswith(PACED_PREFIXES) and method_name not in UNPACED


# aiogram reads every answer with `Response[method.__returning__]`, a generic pydantic model that
# pydantic caches only weakly: each garbage collection that frees it makes the next call build it
# again (3-8 ms of CPU, about one call in six under load). One reference per return type, held here,
# builds each once per process.
_RESPONSE_TYPES: dict[Any, type[Response[Any]]] = {}


def keep_response_type(method: TelegramMethod[Any]) -> None:
    returning = method.__returning__
    if returning not in _RESPONSE_TYPES:
        _RESPONSE_TYPES[returning] = Response[returning]  # type: ignore[valid-type]


@dataclass
class OutgoingStats:
    """Counters for the admin/metrics views: calls paced, 429s received, time spent waiting."""

    paced: int = 0
    bulk: int = 0
    waited_seconds: float = 0.0
    received_429: int = 0
    global_pauses: int = 0
    paid: int = 0  # paid broadcasts (allow_paid_broadcast): Telegram charges Stars for each
    stale_slots: int = 0  # slots given up: the event loop woke the call too late to use them


class InFlightWindow:
    """At most `limit` of this process's calls in flight or answered within the last `span` seconds.

    Telegram sees a call between our send and its answer, so counting each call from its send until
    `span` after its answer keeps any window Telegram looks at within `limit`, whatever the lag.
    Waiters sleep until the oldest answer leaves the window, or until an answer comes when every
    place is still in flight (an event, not polling)."""

    def __init__(self, limit: int, span: float, timing: RateLimitMiddleware) -> None:
        self.limit = limit
        self.span = span
        self.timing = timing  # its clock and sleep (tests swap them for the stand-in's)
        self.in_flight = 0
        self.answered: deque[float] = deque()
        self._answer = asyncio.Event()

    async def __aenter__(self) -> None:
        while True:
            now = self.timing.local_clock()
            while self.answered and self.answered[0] <= now - self.span:
                self.answered.popleft()
            if self.in_flight + len(self.answered) < self.limit:
                self.in_flight += 1
                return
            if self.answered:
                wait = self.answered[0] + self.span - now
                self.timing.stats.waited_seconds += wait
                await self.timing.sleep(wait)
            else:
                await self._answer.wait()

    def idle(self, now: float) -> bool:
        """Nothing in flight and nothing answered within the window: it would admit a call anyway."""
        return self.in_flight == 0 and (not self.answered or self.answered[-1] <= now - self.span)

    async def __aexit__(self, *exc: object) -> None:
        self.in_flight -= 1
        self.answered.append(self.timing.local_clock())
        self._answer.set()
        self._answer = asyncio.Event()


class RateLimitMiddleware(BaseRequestMiddleware):
    """Paces every message-producing call. Bulk calls of this process ask for slots one at a time
    (FIFO behind one lock, held until a slot is reserved, not until it comes), so a push of any size
    costs one reservation attempt per wake-up.

    A slot is a time, but Telegram counts a call when it *arrives*, somewhere between our send and
    its answer; under load the gap varies (a busy event loop, a slow network), and early calls that
    arrive late bunch with later ones. So this process also holds each of its calls in the overall
    window from the moment it leaves until a full window after its answer (`InFlightWindow`): at
    most `limit` there, whatever the lag."""

    def __init__(
        self,
        backend: LimiterBackend,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        max_wait: float = 900.0,
        on_429: Callable[[], Awaitable[None]] | None = None,
        backlog: Backlog | None = None,
    ) -> None:
        self.backend = backend
        # Replies waiting for a slot, read by the answer stream (`Backlog.congested`).
        self.backlog = backlog if backlog is not None else Backlog(backend.limits.overall.limit)
        self.on_429 = on_429  # told of each 429 (the operators' /stats counts them)
        self.sleep = sleep
        self.local_clock = clock
        self.max_wait = max_wait
        self.stats = OutgoingStats()
        self._bulk_turn = asyncio.Lock()
        self._window = InFlightWindow(backend.limits.overall.limit, backend.limits.span(GLOBAL), self)
        # How late a call may leave after its slot: half the safety margin of the overall window
        # (15 ms by default; the other half for the network's jitter), 5 ms at least (timers).
        limits = backend.limits
        self.late_tolerance = max(0.005, limits.overall.seconds * limits.safety / 2)
        self._chat_windows: dict[str, InFlightWindow] = {}

    @property
    def clock(self) -> Clock:
        return self.local_clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        """Tests put the limiter on the stand-in's clock (the stand-in judges time on it too)."""
        self.local_clock = clock
        self.backend.clock = clock  # type: ignore[attr-defined]

    def _chat_window(self, chat: Scope | None) -> contextlib.AbstractAsyncContextManager[None]:
        """The chat's own in-flight window (the same lag argument as the overall one); idle windows
        are forgotten once there are many, so memory stays bounded."""
        if chat is None:
            return contextlib.nullcontext()
        window = self._chat_windows.get(chat.key)
        if window is None:
            if len(self._chat_windows) >= MAX_CHAT_WINDOWS:
                self._forget_idle_chat_windows()
            limits = self.backend.limits
            window = InFlightWindow(limits.window(chat).limit, limits.span(chat), self)
            self._chat_windows[chat.key] = window
        return window

    def _forget_idle_chat_windows(self) -> None:
        now = self.local_clock()
        idle = [key for key, window in self._chat_windows.items() if window.idle(now)]
        for key in idle:
            del self._chat_windows[key]

    async def _reserve(self, chat: Scope | None, lane: Lane) -> tuple[float, float]:
        """Ask until a slot is reserved (sleeping as told in between); when the slot is, on the local
        clock (the time of asking plus its delay: never later than the limiter's), and its delay."""
        while True:
            asked = self.local_clock()
            reservation = await self.backend.reserve(chat, lane)
            if reservation.reserved:
                return asked + reservation.delay, reservation.delay
            self.stats.waited_seconds += reservation.delay
            await self.sleep(reservation.delay)

    async def _acquire(self, chat: Scope | None, lane: Lane) -> None:
        for attempt in range(MAX_STALE_SLOTS + 1):
            if lane is not Lane.INTERACTIVE:
                # The head of the bulk queue asks, and keeps its turn until its slot is less than
                # `late_tolerance` away: the next one asks meanwhile, so a round trip to Redis or a
                # late wake-up does not delay the next slot, and no more than that much of this
                # process's slots are ever waiting to leave (a stall cannot bunch more).
                async with self._bulk_turn:
                    slot, wait = await self._reserve(chat, lane)
                    if wait > self.late_tolerance:
                        await self.sleep(wait - self.late_tolerance)
            else:
                slot, wait = await self._reserve(chat, lane)
            if wait <= 0:
                return  # its slot is now: it leaves at once
            self.stats.waited_seconds += wait
            remaining = slot - self.local_clock()
            if remaining > 0:
                await self.sleep(remaining)
            # Windows only hold if calls leave at their slots. One the event loop woke later than
            # the tolerance (a stall) gives its slot up and asks again, or the calls of the stall
            # would leave together, later slots with earlier ones, and Telegram would count them
            # in one second (whatever this process's own window says, other replicas add theirs).
            if self.local_clock() - slot <= self.late_tolerance or attempt == MAX_STALE_SLOTS:
                return
            self.stats.stale_slots += 1

    @staticmethod
    async def _best_effort(
        make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        """A chat action ("typing…") that fails changes nothing for anyone: logged and answered False
        instead of raised. aiogram's ChatActionSender sends it from a task nobody awaits, so an error
        there (a user who blocked the bot, a group that removed it, a 429) ended as "Task exception
        was never retrieved" with its traceback in the log."""
        try:
            return await make_request(bot, method)
        except TelegramAPIError as exc:
            logger.info("%s to %s failed: %s", method.__api_method__, getattr(method, "chat_id", None), exc)
            # This chain passes the call's result down (aiogram's BaseSession.__call__ casts it), not a Response.
            return cast(Response[TelegramType], False)

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        keep_response_type(method)
        name = method.__api_method__
        if name in UNPACED:
            return await self._best_effort(make_request, bot, method)
        if not is_paced(name):
            return await make_request(bot, method)
        chat_id: Any = getattr(method, "chat_id", None)
        chat = Scope.for_chat(chat_id) if isinstance(chat_id, int | str) else None
        lane = current_lane.get()
        if getattr(method, "allow_paid_broadcast", None):
            lane = Lane.PAID  # Telegram lifts the overall limit for these (and charges Stars)
        self.stats.paced += 1
        if lane is not Lane.INTERACTIVE:
            self.stats.bulk += 1
        if lane is Lane.PAID:
            self.stats.paid += 1
        paused = 0.0
        waiting = int(lane is Lane.INTERACTIVE)  # the backlog counts replies, not pushes
        while True:
            self.backlog.waiting += waiting
            try:
                await self._acquire(chat, lane)
            finally:
                self.backlog.waiting -= waiting
            try:
                async with self._chat_window(chat):
                    if lane is Lane.PAID:  # outside this process's free-rate window: Telegram counts it apart
                        return await make_request(bot, method)
                    async with self._window:
                        return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                self.stats.received_429 += 1
                if self.on_429 is not None:
                    await self.on_429()
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


_JSON = {"Content-Type": "application/json"}


class BotSession(AiohttpSession):
    """aiogram's aiohttp session, with two changes:

    - A call without files is sent as one `application/json` body (the Bot API accepts JSON, form
      data or multipart alike) instead of a form: aiohttp url-encodes a form byte by byte in Python,
      ~10 % of the bot's CPU per reply under a burst. The values are aiogram's own (`prepare_value`:
      nested objects as JSON strings, as in its forms). Calls with files go as aiogram sends them.
    - Closing it waits 250 ms for TLS connections to shut down (aiohttp's graceful-shutdown advice);
      a Bot API server over plain HTTP (a local Bot API server, the tests' fake) has none, so that
      wait is skipped there."""

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        files: dict[str, Any] = {}
        values = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:
                values[key] = prepared
        if files:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url,
                data=self.json_dumps(values),
                headers=_JSON,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as resp:
                raw_result = await resp.text()
        except TimeoutError as exc:
            raise TelegramNetworkError(method=method, message="Request timeout error") from exc
        except ClientError as exc:
            raise TelegramNetworkError(method=method, message=f"{type(exc).__name__}: {exc}") from exc
        response = self.check_response(bot=bot, method=method, status_code=resp.status, content=raw_result)
        return cast(TelegramType, response.result)

    async def close(self) -> None:
        if not self.api.base.startswith("http://"):
            await super().close()
            return
        session = self._session
        if session is not None and not session.closed:
            await session.close()
