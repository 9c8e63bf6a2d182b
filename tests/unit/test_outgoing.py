"""Outgoing pacing on an injected clock: exact waits, no real time."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import EditMessageText, SendChatAction, SendMessage, TelegramMethod

from bot.outgoing import Limits, PacingMiddleware


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


def pacing(clock: Clock, limits: Limits | None = None) -> PacingMiddleware:
    return PacingMiddleware(limits, clock=clock, sleep=clock.sleep)


async def send(middleware: PacingMiddleware, telegram: Telegram, method: TelegramMethod[Any]) -> None:
    await middleware(telegram, None, method)  # type: ignore[arg-type]


async def test_private_chat_burst_then_steady_rate() -> None:
    clock = Clock()
    middleware, telegram = pacing(clock), Telegram(clock)
    for i in range(5):
        await send(middleware, telegram, SendMessage(chat_id=42, text=str(i)))
    times = [at - 1_000.0 for at, _ in telegram.sent]
    step = 1 / Limits().private_per_second
    assert times == pytest.approx([0.0, 0.0, step, 2 * step, 3 * step])


async def test_group_allows_its_burst_then_paces_per_minute() -> None:
    clock = Clock()
    limits = Limits()
    middleware, telegram = pacing(clock, limits), Telegram(clock)
    for i in range(int(limits.group_burst) + 1):
        await send(middleware, telegram, SendMessage(chat_id=-100_123, text=str(i)))
    times = [at - 1_000.0 for at, _ in telegram.sent]
    assert times[: int(limits.group_burst)] == [0.0] * int(limits.group_burst)
    assert times[-1] == pytest.approx(1 / limits.group_per_second)


async def test_chats_do_not_wait_for_each_other_but_share_the_global_budget() -> None:
    clock = Clock()
    limits = Limits(global_per_second=4.0)
    middleware, telegram = pacing(clock, limits), Telegram(clock)
    for chat_id in range(1, 7):  # six private chats, one message each
        await send(middleware, telegram, SendMessage(chat_id=chat_id, text="hi"))
    times = [at - 1_000.0 for at, _ in telegram.sent]
    assert times == pytest.approx([0.0, 0.0, 0.0, 0.0, 0.25, 0.5])


async def test_chat_actions_and_other_methods_are_not_paced() -> None:
    clock = Clock()
    middleware, telegram = pacing(clock), Telegram(clock)
    for _ in range(10):
        await send(middleware, telegram, SendChatAction(chat_id=42, action="typing"))
    assert clock.sleeps == [] and len(telegram.sent) == 10
    await send(middleware, telegram, EditMessageText(chat_id=42, message_id=1, text="x"))
    await send(middleware, telegram, EditMessageText(chat_id=42, message_id=1, text="y"))
    await send(middleware, telegram, EditMessageText(chat_id=42, message_id=1, text="z"))
    assert clock.sleeps == pytest.approx([1 / Limits().private_per_second])  # edits count like messages


async def test_429_waits_retry_after_then_gives_up_after_max_retries() -> None:
    clock = Clock()
    middleware, telegram = PacingMiddleware(max_retries=2, clock=clock, sleep=clock.sleep), Telegram(clock, [3, 5])
    await send(middleware, telegram, SendMessage(chat_id=-5, text="x"))
    assert clock.sleeps == [3, 5] and len(telegram.sent) == 1
    failing = Telegram(clock, [1, 1, 1])
    with pytest.raises(TelegramRetryAfter):
        await send(middleware, failing, SendMessage(chat_id=-5, text="y"))
    assert failing.sent == []
