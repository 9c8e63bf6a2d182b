from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from standins.telegram import FakeTelegramServer, ManualClock
from tests.harness import RunningBot, running_bot

SLOW_DOWN = "⏳ You're sending messages too fast. Please slow down — I'll answer again in a moment."
RATE, PERIOD = 5, 60.0  # a long window: its store TTL (real time) never ends it during a test


@pytest.fixture
def clock() -> ManualClock:
    """Wall time for the flood control, at the start of a window."""
    return ManualClock(start=1_000 * PERIOD)


@pytest.fixture
async def app(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any], clock: ManualClock
) -> AsyncIterator[RunningBot]:
    settings = settings_factory(throttle_rate=RATE, throttle_period=PERIOD)
    async with running_bot(settings, tg, throttle_clock=clock) as running:
        yield running


def helps(tg: FakeTelegramServer, user: Any) -> int:
    return sum(text.startswith("What I can do") for text in tg.bot_texts(user))


async def test_flood_gets_one_warning_and_no_429(app: RunningBot, tg: FakeTelegramServer, clock: ManualClock) -> None:
    ann = tg.add_user("Ann", language_code="en")
    # 30 commands over 1⅓ windows: 23 in the first (5 served), 7 in the next (5 served), one warning.
    step = PERIOD * 4 / 3 / 30
    for _ in range(30):
        await tg.send_command(ann, "/help")
        await app.settle()
        clock.advance(step)
    assert tg.bot_texts(ann).count(SLOW_DOWN) == 1
    assert helps(tg, ann) == 2 * RATE
    assert tg.count_429 == 0


async def test_a_new_window_serves_again(app: RunningBot, tg: FakeTelegramServer, clock: ManualClock) -> None:
    ann = tg.add_user("Ann", language_code="en")
    for _ in range(RATE + 3):
        await tg.send_command(ann, "/help")
    await app.settle()
    assert helps(tg, ann) == RATE and tg.bot_texts(ann).count(SLOW_DOWN) == 1
    clock.advance(PERIOD - 0.5)  # still the same window: dropped
    await tg.send_command(ann, "/help")
    await app.settle()
    assert helps(tg, ann) == RATE
    clock.advance(0.5)  # the next window
    await tg.send_command(ann, "/help")
    await app.settle()
    assert helps(tg, ann) == RATE + 1
    assert tg.bot_texts(ann).count(SLOW_DOWN) == 1


async def test_other_users_are_not_throttled_by_a_flood(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann")
    bob = tg.add_user("Bob")
    for _ in range(10):
        await tg.send_command(ann, "/help")
    await tg.send_command(bob, "/help")
    (reply,) = await tg.wait_for_messages(bob, 1)
    assert reply.plain_text.startswith("What I can do")
    await app.settle()
    assert helps(tg, ann) == RATE
