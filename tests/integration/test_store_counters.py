"""The key-value store's counter on both backends (in process; Redis, one command): the count goes up
by one per call, its TTL starts with the first increment and later increments do not extend it."""

from __future__ import annotations

import asyncio

from services.kv import KeyValueStore, MemoryStore, RedisStore


async def test_a_counter_counts_and_expires_from_its_first_increment(store: KeyValueStore) -> None:
    assert sorted(await asyncio.gather(*(store.incr("flood:7", ttl=30.0) for _ in range(5)))) == [1, 2, 3, 4, 5]
    assert await store.incr("flood:7", ttl=30.0) == 6
    if isinstance(store, RedisStore):
        ttl_ms = await store.redis.pttl(store.prefix + "flood:7")
        assert 0 < ttl_ms <= 30_000
        await store.incr("flood:7", ttl=600.0)  # a later increment keeps the first TTL
        assert await store.redis.pttl(store.prefix + "flood:7") <= 30_000
    else:
        assert isinstance(store, MemoryStore)
    assert await store.incr("flood:8", ttl=30.0) == 1
