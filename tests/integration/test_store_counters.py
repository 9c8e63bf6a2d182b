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


async def test_read_returns_the_values_and_counts_in_one_call(store: KeyValueStore) -> None:
    await store.set_many({"a": b"1", "c": b"3"}, ttl=30.0)
    assert await store.read(["a", "b", "c"]) == ([b"1", None, b"3"], 0)  # no counter: nothing counted
    assert await store.read(["c", "a"], counter="flood:9", ttl=30.0) == ([b"3", b"1"], 1)
    assert await store.read([], counter="flood:9", ttl=600.0) == ([], 2)
    assert await store.incr("flood:9", ttl=30.0) == 3  # the same counter as `incr`
    if isinstance(store, RedisStore):
        assert 0 < await store.redis.pttl(store.prefix + "flood:9") <= 30_000  # TTL from the first increment
    assert await store.read([]) == ([], 0)
