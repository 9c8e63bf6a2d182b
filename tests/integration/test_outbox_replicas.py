"""Two replicas (two Bots, two senders) drain one outbox on PostgreSQL, sharing one outgoing limit
through Redis: the stand-in enforces Telegram's limits ×10 and the two bots together, each limited
to the same ×10 budget on the shared Redis scopes, never get a 429."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from bot.configs import outgoing_limits
from bot.factory import create_bot
from bot.sender import OutboxSender
from services.ratelimit_redis import RedisLimiterBackend
from standins.telegram import FakeTelegramServer, RateLimits
from tests.backends import POSTGRES_ONLY, Backend
from tests.harness import make_settings
from tests.integration.outbox_helpers import Sessions, push

SCALE = 10  # Telegram's limits ×10 on both sides: 300 sends in any second

# 600 rows, four per chat: twice the shared budget's one-second window, so the two replicas must hold
# each other back through Redis (a 429 otherwise), while each chat's four rows race between them.
CHATS = 150
REFS = ("s0", "s1", "s2", "s3")


def _delivered(tg: FakeTelegramServer) -> int:
    return sum(1 for call in tg.calls if call.ok and call.method == "sendMessage")


@POSTGRES_ONLY
async def test_two_senders_drain_one_outbox_with_no_duplicate_and_in_order(
    backend: Backend, sessionmaker: Sessions
) -> None:
    redis = Redis.from_url(backend.redis_url)
    async with FakeTelegramServer(rate_limits=RateLimits.scaled(SCALE)) as tg:
        users = [tg.add_user(f"U{i}") for i in range(CHATS)]
        for ref in REFS:
            await push(sessionmaker, ref, [user.id for user in users], text=ref)
        settings = make_settings(
            tg,
            backend,
            "http://127.0.0.1:9",
            outbox_poll_seconds=3600,
            outbox_concurrency=16,
            outgoing_per_second=30 * SCALE,
            outgoing_private_per_second=1.0 * SCALE,
            outgoing_private_burst=3 * SCALE,
            outgoing_group_per_minute=20 * SCALE,
        )
        limits = outgoing_limits(settings)
        shared = [RedisLimiterBackend(redis, limits, prefix=backend.redis_prefix) for _ in range(2)]
        bots = [create_bot(settings, limiter) for limiter in shared]
        senders = [OutboxSender.from_settings(bot, sessionmaker, settings) for bot in bots]
        tasks = [asyncio.create_task(sender.run()) for sender in senders]
        try:
            for sender in senders:
                sender.wake()
            await tg.wait_until(lambda: _delivered(tg) >= CHATS * len(REFS), 90, "every delivery")
        finally:
            await asyncio.gather(*(sender.stop(grace=10) for sender in senders))
            await asyncio.gather(*tasks)
            for bot in bots:
                await bot.session.close()
            await redis.aclose()
        stats = await senders[0].stats()
        shares = [sender.worker.counters.sent for sender in senders]
    for user in users:
        assert tg.bot_texts(user) == list(REFS)  # each once, in order, whichever replica sent it
    assert (stats.sent_total, stats.backlog, sum(shares)) == (CHATS * len(REFS), 0, CHATS * len(REFS))
    assert all(share > 0 for share in shares), shares  # both replicas did part of the work
    assert tg.count_429 == 0
