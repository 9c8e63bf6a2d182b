"""Issue 9: every Bot API call passes one limiter. Many users at once, the stand-in enforcing
Telegram's limits (30 in any second, a small burst per private chat, 20 a minute per group): every
reply arrives, and Telegram never has to answer 429.

These run in real time, on the machine's clock, as in production: the stand-in judges each send when
it arrives, so event-loop lag and bunching under load are part of what is tested.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from standins.telegram import FakeTelegramServer, FakeUser
from tests.harness import RunningBot


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(bot_username="coinsight_bot", bot_first_name="Coinsight") as server:
        yield server


def answered(tg: FakeTelegramServer, user: FakeUser, count: int = 1) -> bool:
    return len(tg.bot_messages(user)) >= count


async def test_24_users_asking_at_once_get_every_answer_and_chart_without_a_429(
    app_llm: RunningBot, tg: FakeTelegramServer
) -> None:
    # 24 questions at once, eight on each market: an answer and a chart each (plus the draft or edits
    # while it streams) are well over the 30 sends any one second allows.
    users = [tg.add_user(f"Trader{n}") for n in range(24)]
    for n, user in enumerate(users):
        await tg.send_message(user, ("BTC 4h?", "how is ETH on the 1h", "SOL daily")[n % 3])
    await tg.wait_until(
        lambda: all(any(m.photo is not None for m in tg.bot_messages(user)) for user in users),
        timeout=120,
        what="an answer and a chart for every user",
    )
    await app_llm.settle()
    for user in users:
        texts = [m for m in tg.bot_messages(user) if m.photo is None]
        assert texts and "went wrong" not in texts[0].plain_text
    assert tg.count_429 == 0
    outgoing = app_llm.resources.limiter
    assert outgoing is not None


async def test_100_users_at_once_each_get_their_reply_without_a_429(app: RunningBot, tg: FakeTelegramServer) -> None:
    # 100 replies at once: over three seconds' worth of the overall limit (30 in any second), so the
    # limiter must spread them over several windows; 200 only made it twice as many.
    users = [tg.add_user(f"User{n}", language_code="zh" if n % 2 else "en") for n in range(100)]
    for user in users:
        await tg.send_command(user, "/help")
    await tg.wait_until(lambda: all(answered(tg, user) for user in users), timeout=120, what="100 replies")
    await app.settle()
    assert tg.count_429 == 0
    assert all(len(tg.bot_messages(user)) == 1 for user in users)


async def test_a_global_429_pauses_everyone_then_everything_is_delivered(
    app: RunningBot, tg: FakeTelegramServer
) -> None:
    users = [tg.add_user(f"U{n}") for n in range(12)]
    # Telegram pauses the whole bot for 1 s (its shortest retry_after: a longer pause is only a longer wait)
    tg.limiter.inject_429(1)
    for user in users:
        await tg.send_command(user, "/help")
    await tg.wait_until(lambda: all(answered(tg, user) for user in users), timeout=30, what="12 replies")
    await app.settle()
    assert all(len(tg.bot_messages(user)) == 1 for user in users)
    # Once a few chats were refused the limiter paused everything: no user was refused twice.
    refused = [call.params.get("chat_id") for call in tg.calls if call.status == 429]
    assert len(refused) == len(set(refused)) <= len(users)
