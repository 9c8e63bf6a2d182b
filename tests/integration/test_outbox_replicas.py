"""Two replicas (two Bots, two senders) drain one outbox on PostgreSQL (+ Redis for the limiter)."""

from __future__ import annotations

import asyncio

from bot.factory import create_bot
from bot.sender import OutboxSender
from standins.telegram import FakeTelegramServer
from tests.backends import POSTGRES_ONLY, Backend
from tests.harness import make_settings
from tests.integration.outbox_helpers import FAST_OUTGOING, Sessions, fast_telegram, push

CHATS = 500
REFS = ("s0", "s1", "s2", "s3")  # 2,000 rows, four per chat


def _delivered(tg: FakeTelegramServer) -> int:
    return sum(1 for call in tg.calls if call.ok and call.method == "sendMessage")


@POSTGRES_ONLY
async def test_two_senders_drain_2000_rows_with_no_duplicate_and_in_order(
    backend: Backend, sessionmaker: Sessions
) -> None:
    async with fast_telegram() as tg:
        users = [tg.add_user(f"U{i}") for i in range(CHATS)]
        for ref in REFS:
            await push(sessionmaker, ref, [user.id for user in users], text=ref)
        settings = make_settings(
            tg, backend, "http://127.0.0.1:9", outbox_poll_seconds=3600, outbox_concurrency=16, **FAST_OUTGOING
        )
        bots = [create_bot(settings), create_bot(settings)]
        senders = [OutboxSender.from_settings(bot, sessionmaker, settings) for bot in bots]
        tasks = [asyncio.create_task(sender.run()) for sender in senders]
        try:
            for sender in senders:
                sender.wake()
            await tg.wait_until(lambda: _delivered(tg) >= CHATS * len(REFS), 90, "2,000 deliveries")
        finally:
            await asyncio.gather(*(sender.stop(grace=10) for sender in senders))
            await asyncio.gather(*tasks)
            for bot in bots:
                await bot.session.close()
        stats = await senders[0].stats()
        shares = [sender.worker.counters.sent for sender in senders]
    for user in users:
        assert tg.bot_texts(user) == list(REFS)  # each once, in order, whichever replica sent it
    assert (stats.sent_total, stats.backlog, sum(shares)) == (CHATS * len(REFS), 0, CHATS * len(REFS))
    assert all(share > 0 for share in shares), shares  # both replicas did part of the work
    assert tg.count_429 == 0
