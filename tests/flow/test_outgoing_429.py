"""Issue 9: a 429 pauses only the scope it concerns. Time here moves only when the test moves it,
so "Ann waits, Bob does not" is checked while Ann's pause is still running."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from standins.telegram import FakeTelegramServer
from tests.harness import RunningBot, SteppedClock, fake_telegram


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegramServer]:
    async with fake_telegram(SteppedClock()) as server:
        yield server


async def test_a_429_for_one_chat_holds_back_that_chat_only(app: RunningBot, tg: FakeTelegramServer) -> None:
    clock = tg.clock
    assert isinstance(clock, SteppedClock)
    ann, bob, cy = tg.add_user("Ann"), tg.add_user("Bob"), tg.add_user("Cy")
    tg.limiter.inject_429(5, chat_id=ann.id)
    await tg.send_command(ann, "/help")
    await tg.wait_until(lambda: tg.count_429 == 1 and clock.sleeping == 1, timeout=10, what="Ann's 429 and pause")
    await tg.send_command(bob, "/help")
    await tg.send_command(cy, "/help")
    await tg.wait_until(
        lambda: bool(tg.bot_messages(bob)) and bool(tg.bot_messages(cy)), timeout=10, what="Bob's and Cy's replies"
    )
    assert tg.bot_messages(ann) == []  # still paused: no retry before Telegram's retry_after
    clock.advance(4.9)
    assert clock.sleeping == 1
    clock.advance(0.1)
    await tg.wait_until(lambda: bool(tg.bot_messages(ann)), timeout=10, what="Ann's reply after the pause")
    await app.settle()
    assert tg.count_429 == 1
    assert tg.bot_messages(ann)[0].plain_text == tg.bot_messages(bob)[0].plain_text
