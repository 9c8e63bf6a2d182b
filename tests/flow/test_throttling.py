from __future__ import annotations

import asyncio

from standins.telegram import FakeTelegramServer
from tests.harness import RunningBot

SLOW_DOWN = "⏳ You're sending messages too fast. Please slow down — I'll answer again in a moment."


async def test_flood_gets_one_warning_and_no_429(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann", language_code="en")
    for _ in range(30):
        await tg.send_command(ann, "/help")
        await asyncio.sleep(2 / 30)
    await asyncio.sleep(1.0)
    await tg.wait_until(lambda: app.resources.inflight.count == 0, timeout=10, what="idle bot")
    texts = tg.bot_texts(ann)
    assert texts.count(SLOW_DOWN) == 1
    # Only the first `throttle_rate` per window were processed.
    helps = [t for t in texts if t.startswith("What I can do")]
    assert 5 <= len(helps) <= 10
    assert tg.count_429 == 0


async def test_other_users_are_not_throttled_by_a_flood(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann")
    bob = tg.add_user("Bob")
    for _ in range(10):
        await tg.send_command(ann, "/help")
    await tg.send_command(bob, "/help")
    (reply,) = await tg.wait_for_messages(bob, 1)
    assert reply.plain_text.startswith("What I can do")
