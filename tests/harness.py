"""Run the production bot (same factories as `python -m bot`) against local fake servers."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from aiogram import Bot, Dispatcher, Router

from bot.factory import AppResources
from bot.middlewares.throttling import ThrottlingMiddleware
from bot.runner import prepare
from bot.settings import Settings, load_settings
from standins.telegram import FakeTelegramServer
from tests.backends import Backend


class SkippingClock:
    """Monotonic time in which waiting costs nothing: `sleep(s)` moves the clock `s` ahead at once.

    The fake Bot API judges flood limits on this clock and the bot's outgoing pacing waits on it, so
    the pacing is checked exactly against Telegram's limits (a wait too short is a 429) while a test
    never waits for a token in real time.
    """

    def __init__(self) -> None:
        self.skipped = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.skipped

    async def sleep(self, seconds: float) -> None:
        self.skipped += max(0.0, seconds)
        await asyncio.sleep(0)


class SteppedClock:
    """Time that moves only when the test advances it: `sleep(s)` returns once the test has moved
    the clock `s` ahead. For claims about who waits and who does not ("a 429 for Ann holds back Ann,
    not Bob"), checked before and after the step."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, woken))
        await woken

    @property
    def sleeping(self) -> int:
        return len(self._sleepers)

    def wake_next(self) -> None:
        """Move the clock to the earliest sleeper's time (a paced call leaves exactly at its slot)."""
        if self._sleepers:
            self.advance(max(0.0, min(at for at, _ in self._sleepers) - self.now))

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [(at, woken) for at, woken in self._sleepers if at <= self.now + 1e-9]
        self._sleepers = [(at, woken) for at, woken in self._sleepers if at > self.now + 1e-9]
        for _, woken in due:
            if not woken.done():
                woken.set_result(None)


def fake_telegram(clock: SkippingClock | SteppedClock) -> FakeTelegramServer:
    """The stand-in Bot API as the tests' bot knows it (@coinsight_bot), its flood limits on `clock`
    (an async context manager: started on entry, stopped on exit)."""
    return FakeTelegramServer(bot_username="coinsight_bot", bot_first_name="Coinsight", clock=clock)


@runtime_checkable
class Paced(Protocol):
    """The bot's outgoing request middleware that waits for Telegram's flood limits."""

    clock: Callable[[], float]
    sleep: Callable[[float], Awaitable[object]]


@dataclass
class RunningBot:
    settings: Settings
    resources: AppResources
    bot: Bot
    dp: Dispatcher
    tg: FakeTelegramServer

    handled_before: int = 0  # updates an earlier bot took from this fake before this one started

    async def settle(self, timeout: float = 20.0) -> None:
        """Wait until the bot has finished handling every update sent to it so far.

        (Counting updates, not only `inflight.count == 0`: aiogram's own FSM middleware may await
        Redis before the in-flight count goes up.)"""
        sent, inflight = self.tg.updates.pushed, self.resources.inflight
        await self.tg.wait_until(
            lambda: self.handled_before + inflight.finished >= len(sent) and inflight.count == 0,
            timeout,
            "the bot to handle every update",
        )


def make_settings(tg: FakeTelegramServer, backend: Backend, exchange_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "_env_file": None,
        "bot_token": tg.token,
        "telegram_api_url": tg.base_url,
        "database_url": backend.database_url,
        "redis_url": backend.redis_url,
        # Every test has its own Redis namespace: flood counters and caches never leak between tests.
        "redis_prefix": backend.redis_prefix or "coinsight:",
        "openai_api_key": "",
        "exchanges": ["bybit"],
        "exchange_api_urls": {"bybit": exchange_url},
        # A down exchange is retried as in production, without production's seconds of backoff.
        "exchange_retry_seconds": 0.01,
    }
    values.update(overrides)
    return load_settings(**values)


def _use_clocks(bot: Bot, dp: Dispatcher, tg: FakeTelegramServer, throttle_clock: Callable[[], float] | None) -> None:
    """Point the bot's pacing at the fake's clock (when it is a SkippingClock or a SteppedClock) and
    its flood control at `throttle_clock`: the middlewares `prepare` built, found in aiogram's public
    middleware lists."""
    if isinstance(tg.clock, SkippingClock | SteppedClock):
        pacers = [m for m in bot.session.middleware if isinstance(m, Paced)]
        assert pacers, "the bot has no outgoing pacing to put on the fake's clock"
        for pacing in pacers:
            pacing.clock, pacing.sleep = tg.clock, tg.clock.sleep
    if throttle_clock is not None:
        throttling = [m for m in dp.message.outer_middleware if isinstance(m, ThrottlingMiddleware)]
        assert throttling, "no flood control to put on the test's clock (THROTTLE_ENABLED?)"
        for flood_control in throttling:
            flood_control.clock = throttle_clock


@contextlib.asynccontextmanager
async def running_bot(
    settings: Settings,
    tg: FakeTelegramServer,
    extra_routers: Sequence[Router] = (),
    *,
    throttle_clock: Callable[[], float] | None = None,
) -> AsyncIterator[RunningBot]:
    """`python -m bot`'s polling path (prepare → start_polling) as a task; stopped cleanly after."""
    resources, bot, dp = await prepare(settings, extra_routers)
    _use_clocks(bot, dp, tg, throttle_clock)
    # Waits on `inflight.count == 0` end when the last update is handled, not at the next long poll.
    resources.inflight.on_idle.append(tg.changed.notify)
    handled_before = len(tg.updates.pushed) - len(tg.updates.pending)
    polling = asyncio.create_task(
        dp.start_polling(
            bot, handle_signals=False, polling_timeout=1, tasks_concurrency_limit=settings.updates_concurrency
        )
    )
    try:
        # Serving once the first long poll is waiting (a call is logged only when answered, 1 s later).
        await tg.wait_until(
            lambda: tg.updates.waiting > 0 or bool(tg.calls_to("getUpdates")), timeout=10, what="the first getUpdates"
        )
        yield RunningBot(settings, resources, bot, dp, tg, handled_before)
    finally:
        with contextlib.suppress(RuntimeError):
            await dp.stop_polling()
        await polling
    assert resources.closed, "shutdown did not close the app resources"


async def without_scheduler(app: RunningBot) -> None:
    """For tests that watch every statement or connection on the engine: the scheduler's jobs (the
    risk tick at each minute, the outcome tracker, their run records) are not what they watch, and
    run whenever a minute turns, so the scheduler is stopped first."""
    if app.resources.scheduler is not None:
        await app.resources.scheduler.stop()
