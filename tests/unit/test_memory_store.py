"""MemoryStore: expiry without scans (a heap, lazy deletion) and a hard bound on its keys."""

from __future__ import annotations

import pytest

from services.kv import MemoryStore


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_expired_keys_go_on_later_writes_without_being_read() -> None:
    clock = Clock()
    store = MemoryStore(clock)
    for i in range(10_000):
        await store.set(f"k{i}", b"v", ttl=1.0)
        clock.now += 0.01
    # Only the last second's keys are left (100 of them, one maybe at its boundary): the rest were
    # dropped by the writes that came after their expiry, none of them read.
    assert len(store) <= 101
    assert await store.get("k9999") == b"v" and await store.get("k0") is None


async def test_a_rewritten_key_keeps_its_latest_expiry() -> None:
    clock = Clock()
    store = MemoryStore(clock)
    await store.set("a", b"1", ttl=10)
    await store.set("a", b"2", ttl=100)  # the heap's entry for 10 s is stale now
    clock.now = 50
    await store.set("other", b"x", ttl=1)  # a write: expiry runs past a's old entry
    assert await store.get("a") == b"2"
    await store.set("a", b"3")  # no TTL any more
    clock.now = 1000
    await store.set("other", b"y", ttl=1)
    assert await store.get("a") == b"3" and len(store) == 2


async def test_a_deleted_and_recreated_key_is_not_dropped_by_its_old_expiry() -> None:
    clock = Clock()
    store = MemoryStore(clock)
    await store.set("lock", b"a", ttl=5)
    assert await store.delete_if("lock", b"a")
    assert await store.set_nx("lock", b"b", ttl=30)
    clock.now = 10
    await store.set("x", b"", ttl=1)
    assert await store.get("lock") == b"b"


async def test_a_counter_keeps_the_expiry_of_its_first_increment() -> None:
    clock = Clock()
    store = MemoryStore(clock)
    assert [await store.incr("n", ttl=10) for _ in range(3)] == [1, 2, 3]
    clock.now = 9.9
    assert await store.incr("n", ttl=10) == 4
    clock.now = 10.0
    assert await store.incr("n", ttl=10) == 1


async def test_rewrites_do_not_grow_the_heap_without_bound() -> None:
    clock = Clock()
    store = MemoryStore(clock)
    for i in range(5_000):
        await store.set(f"k{i % 10}", b"v", ttl=1000 + i)  # each rewrite leaves a stale heap entry
    assert len(store) == 10
    assert len(store._heap) <= 2 * 10 + 64 + 1


async def test_past_its_bound_the_store_drops_the_key_expiring_soonest() -> None:
    clock = Clock()
    store = MemoryStore(clock, max_entries=3)
    await store.set("forever", b"f")
    await store.set("late", b"l", ttl=100)
    await store.set("soon", b"s", ttl=10)
    await store.set("new", b"n", ttl=50)
    assert await store.get("soon") is None and store.evicted == 1
    assert [await store.get(k) for k in ("forever", "late", "new")] == [b"f", b"l", b"n"]


async def test_without_ttls_the_oldest_written_key_goes_first() -> None:
    store = MemoryStore(Clock(), max_entries=2)
    await store.set("a", b"1")
    await store.set("b", b"2")
    await store.set("a", b"3")  # rewritten: now the newest
    await store.set("c", b"4")
    assert [await store.get(k) for k in ("a", "b", "c")] == [b"3", None, b"4"]
    assert len(store) == 2 and store.evicted == 1


def test_the_bound_must_hold_something() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        MemoryStore(max_entries=0)
