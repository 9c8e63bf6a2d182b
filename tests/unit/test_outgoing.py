"""The outgoing limiter middleware on an injected clock: exact waits, no real time."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import pytest
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import EditMessageText, Response, SendChatAction, SendMessage, TelegramMethod
from aiogram.types import Message

from bot.outgoing import MAX_STALE_SLOTS, RateLimitMiddleware
from services.ratelimit import GLOBAL, Lane, MemoryLimiterBackend, OutgoingLimits, Scope, Window, use_lane
from tests.harness import SteppedClock


class Clock:
    """Time moves only when the code under test sleeps; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Telegram:
    """The next step of the request chain: records when each method went out; may answer 429 first."""

    def __init__(self, clock: Clock, retry_after: list[int] | None = None) -> None:
        self.clock = clock
        self.retry_after = list(retry_after or [])
        self.sent: list[tuple[float, str]] = []

    async def __call__(self, bot: Any, method: TelegramMethod[Any]) -> Any:
        if self.retry_after:
            raise TelegramRetryAfter(method=method, message="Too Many Requests", retry_after=self.retry_after.pop(0))
        self.sent.append((self.clock(), method.__api_method__))
        return "ok"


def pacing(clock: Clock, limits: OutgoingLimits | None = None, max_wait: float = 900.0) -> RateLimitMiddleware:
    backend = MemoryLimiterBackend(limits or OutgoingLimits(), clock)
    return RateLimitMiddleware(backend, clock=clock, sleep=clock.sleep, max_wait=max_wait)


async def send(middleware: RateLimitMiddleware, telegram: Telegram, method: TelegramMethod[Any]) -> None:
    await middleware(telegram, None, method)  # type: ignore[arg-type]


async def test_private_chat_burst_then_the_next_window() -> None:
    clock = Clock()
    limits = OutgoingLimits()
    middleware, telegram = pacing(clock, limits), Telegram(clock)
    for i in range(5):
        await send(middleware, telegram, SendMessage(chat_id=42, text=str(i)))
    times = [at - 1_000.0 for at, _ in telegram.sent]
    span = limits.span(Scope.for_chat(42))
    assert times == pytest.approx([0.0, 0.0, 0.0, span, span])


async def test_group_gets_20_then_waits_for_the_window() -> None:
    clock = Clock()
    limits = OutgoingLimits()
    middleware, telegram = pacing(clock, limits), Telegram(clock)
    for i in range(limits.group.limit + 1):
        await send(middleware, telegram, SendMessage(chat_id=-100_123, text=str(i)))
    times = [at - 1_000.0 for at, _ in telegram.sent]
    assert times[: limits.group.limit] == [0.0] * limits.group.limit
    assert times[-1] == pytest.approx(limits.span(Scope.for_chat(-100_123)))


async def test_chats_do_not_wait_for_each_other_but_share_the_global_budget() -> None:
    clock = Clock()
    limits = OutgoingLimits(overall=Window(limit=4, seconds=1.0), safety=0.0)
    middleware, telegram = pacing(clock, limits), Telegram(clock)
    for chat_id in range(1, 7):  # six private chats, one message each
        await send(middleware, telegram, SendMessage(chat_id=chat_id, text="hi"))
    times = [at - 1_000.0 for at, _ in telegram.sent]
    assert times == pytest.approx([0.0, 0.0, 0.0, 0.0, 1.0, 1.0])


async def test_chat_actions_and_other_methods_are_not_paced() -> None:
    clock = Clock()
    limits = OutgoingLimits()
    middleware, telegram = pacing(clock, limits), Telegram(clock)
    for _ in range(10):
        await send(middleware, telegram, SendChatAction(chat_id=42, action="typing"))
    assert clock.sleeps == [] and len(telegram.sent) == 10
    for text in "wxyz":
        await send(middleware, telegram, EditMessageText(chat_id=42, message_id=1, text=text))
    assert clock.sleeps == pytest.approx([limits.span(Scope.for_chat(42))])  # edits count like messages


async def test_bulk_calls_run_in_their_lane() -> None:
    clock = Clock()
    middleware, telegram = pacing(clock), Telegram(clock)
    with use_lane(Lane.BULK):
        await send(middleware, telegram, SendMessage(chat_id=7, text="push"))
    await send(middleware, telegram, SendMessage(chat_id=8, text="reply"))
    assert (middleware.stats.paced, middleware.stats.bulk) == (2, 1)


async def test_paid_broadcasts_are_counted_in_their_lane() -> None:
    clock = Clock()
    middleware, telegram = pacing(clock), Telegram(clock)
    with use_lane(Lane.BULK):
        await send(middleware, telegram, SendMessage(chat_id=7, text="push", allow_paid_broadcast=True))
        await send(middleware, telegram, SendMessage(chat_id=8, text="free push"))
    assert (middleware.stats.paid, middleware.stats.bulk, middleware.stats.paced) == (1, 2, 2)


async def test_429_pauses_the_chat_retries_then_gives_up_after_max_wait() -> None:
    clock = Clock()
    middleware, telegram = pacing(clock, max_wait=6), Telegram(clock, [3, 2])
    await send(middleware, telegram, SendMessage(chat_id=-5, text="x"))
    assert clock.sleeps == [3, 2] and len(telegram.sent) == 1
    assert middleware.stats.received_429 == 2
    failing = Telegram(clock, [4, 4])
    with pytest.raises(TelegramRetryAfter):
        await send(middleware, failing, SendMessage(chat_id=-5, text="y"))
    assert failing.sent == []


async def test_the_answer_model_of_each_method_survives_garbage_collection() -> None:
    """aiogram reads answers with `Response[<return type>]`, which pydantic caches only weakly; the
    middleware keeps one per return type (paced or not), so no collection makes a later call rebuild it."""
    clock = Clock()
    middleware, telegram = pacing(clock), Telegram(clock)
    await send(middleware, telegram, SendMessage(chat_id=7, text="x"))
    await send(middleware, telegram, SendChatAction(chat_id=7, action="typing"))
    message_model, bool_model = weakref.ref(Response[Message]), weakref.ref(Response[bool])
    gc.collect()
    assert (message_model() is not None, bool_model() is not None) == (True, True)


class LaggingTelegram(Telegram):
    """Calls reach Telegram `lag` seconds after they leave (a busy event loop, a slow network):
    the first ones late, the later ones on time."""

    def __init__(self, clock: Clock, lags: list[float]) -> None:
        super().__init__(clock)
        self.lags = lags

    async def __call__(self, bot: Any, method: TelegramMethod[Any]) -> Any:
        lag = self.lags.pop(0) if self.lags else 0.0
        if lag:
            await self.clock.sleep(lag)
        return await super().__call__(bot, method)


async def test_late_arrivals_never_bunch_past_a_chats_window() -> None:
    clock = Clock()
    limits = OutgoingLimits()
    middleware, telegram = pacing(clock, limits), LaggingTelegram(clock, [0.5, 0.5, 0.5, 0.0])
    for i in range(4):
        await send(middleware, telegram, SendMessage(chat_id=42, text=str(i)))
    arrivals = [at for at, _ in telegram.sent]
    # Telegram saw the first three at +0.5 s; the fourth may arrive only a full window after them,
    # although its reserved slot (one window after the first *send*) came earlier.
    assert arrivals[3] - arrivals[0] >= limits.span(Scope.for_chat(42))


async def test_late_arrivals_never_bunch_past_the_overall_window() -> None:
    clock = Clock()
    limits = OutgoingLimits(overall=Window(limit=3, seconds=1.0), safety=0.0)
    middleware, telegram = pacing(clock, limits), LaggingTelegram(clock, [0.4, 0.4, 0.4, 0.0])
    for chat_id in (1, 2, 3, 4):
        await send(middleware, telegram, SendMessage(chat_id=chat_id, text="hi"))
    arrivals = [at for at, _ in telegram.sent]
    assert arrivals[3] - arrivals[0] >= 1.0


class StallingClock(Clock):
    """As `Clock`, but the event loop is busy: sleeps end `stalls` seconds late (one per sleep, then 0)."""

    def __init__(self, stalls: list[float]) -> None:
        super().__init__()
        self.stalls = stalls

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds + (self.stalls.pop(0) if self.stalls else 0.0))


async def test_a_call_woken_too_late_for_its_slot_gives_it_up_and_asks_again() -> None:
    clock = StallingClock([])
    middleware, telegram = pacing(clock), Telegram(clock)
    gap = middleware.backend.limits.span(GLOBAL) / 30
    with use_lane(Lane.BULK):
        await send(middleware, telegram, SendMessage(chat_id=1, text="now"))
        clock.stalls = [0.05]  # the sleep until the second slot ends 50 ms late: a stall
        await send(middleware, telegram, SendMessage(chat_id=2, text="late"))
    # Leaving on the stale slot would bunch it with the calls of the next slots; it took a new one.
    assert middleware.stats.stale_slots == 1
    # It held the bulk turn until its slot was `late_tolerance` away, slept that, and woke 50 ms late.
    assert [at for at, _ in telegram.sent] == pytest.approx([1_000.0, 1_000.0 + gap - 0.015 + 0.05])
    assert middleware.late_tolerance == pytest.approx(0.015)


async def test_a_call_always_woken_late_still_leaves() -> None:
    clock = StallingClock([0.05] * 20)
    middleware, telegram = pacing(clock, OutgoingLimits(overall=Window(limit=1, seconds=1.0))), Telegram(clock)
    await send(middleware, telegram, SendMessage(chat_id=1, text="first"))
    # One a second: each slot given up stays in the window, so the next is a second later, and the
    # call wakes late again. It gives up MAX_STALE_SLOTS of them, then leaves anyway.
    await send(middleware, telegram, SendMessage(chat_id=2, text="second"))
    assert len(telegram.sent) == 2
    assert middleware.stats.stale_slots == MAX_STALE_SLOTS


@pytest.mark.parametrize(("base", "waits"), [("http://127.0.0.1:8081", False), ("https://api.telegram.org", True)])
async def test_closing_waits_for_tls_connections_only(monkeypatch: pytest.MonkeyPatch, base: str, waits: bool) -> None:
    """aiohttp's 250 ms grace on close is for TLS connections: a plain-HTTP Bot API server skips it."""
    from aiogram.client.telegram import TelegramAPIServer

    from bot.outgoing import BotSession

    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", record)  # what aiogram's close awaits
    session = BotSession(api=TelegramAPIServer.from_base(base))
    opened = await session.create_session()
    await session.close()
    assert opened.closed
    assert slept == ([0.25] if waits else [])


async def test_the_backlog_counts_the_replies_waiting_for_a_slot_not_the_pushes() -> None:
    """What the answer stream reads in a burst (services.ratelimit.Backlog): replies waiting here now."""
    clock = SteppedClock()
    limits = OutgoingLimits(overall=Window(limit=2, seconds=1.0), safety=0.0)
    middleware = RateLimitMiddleware(MemoryLimiterBackend(limits, clock), clock=clock, sleep=clock.sleep)
    telegram = Telegram(clock)  # type: ignore[arg-type]
    assert (middleware.backlog.limit, middleware.backlog.waiting) == (2, 0)
    calls = [asyncio.create_task(send(middleware, telegram, SendMessage(chat_id=c, text="hi"))) for c in range(1, 6)]
    with use_lane(Lane.BULK):
        calls.append(asyncio.create_task(send(middleware, telegram, SendMessage(chat_id=9, text="push"))))
    for _ in range(100):
        await asyncio.sleep(0)
        if clock.sleeping == 4:
            break
    assert len(telegram.sent) == 2 and clock.sleeping == 4  # two replies out; three and the push wait
    assert middleware.backlog.waiting == 3 and middleware.backlog.congested()
    for _ in range(20):
        if all(call.done() for call in calls):
            break
        clock.wake_next()
        for _ in range(20):
            await asyncio.sleep(0)
    await asyncio.gather(*calls)
    assert len(telegram.sent) == 6
    assert middleware.backlog.waiting == 0 and not middleware.backlog.congested()
