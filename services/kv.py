"""Key-value store used for caches, flood control and dedupe.

Two implementations with one contract: `MemoryStore` (one process, the embedded default) and
`RedisStore` (shared by replicas when `REDIS_URL` is set). Values are bytes; TTLs are seconds.
"""

from __future__ import annotations

import heapq
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from redis.asyncio import BlockingConnectionPool, Redis

from services.redis_batch import RedisBatch


class KeyValueStore(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None: ...

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """The values of `keys`, in order (None where absent): one round trip on Redis (MGET)."""
        ...

    async def set_many(self, items: Mapping[str, bytes], ttl: float | None = None) -> None:
        """Set every key (same TTL): one round trip on Redis (a pipeline, not a transaction)."""
        ...

    async def set_nx(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        """Set only if absent; True when this call set it."""
        ...

    async def delete(self, key: str) -> None: ...

    async def delete_if(self, key: str, value: bytes) -> bool:
        """Delete only while the key still holds `value` (compare-and-delete); True when this call did."""
        ...

    async def incr(self, key: str, ttl: float) -> int:
        """Increment a counter; the TTL starts with the first increment of a window."""
        ...

    async def read(
        self, keys: Sequence[str], counter: str | None = None, ttl: float = 0.0
    ) -> tuple[list[bytes | None], int]:
        """`get_many(keys)` and, with a `counter`, `incr(counter, ttl)` (0 without): one round trip on
        Redis. What every update reads (its cached views, its FSM state, its flood counter) in one call."""
        ...

    async def close(self) -> None: ...


class MemoryStore:
    """In-process store: expiry in O(log n) per write, and a hard bound on the number of keys.

    Keys with a TTL are also kept in a heap of (expires_at, key); each write first drops what has
    expired from the top of the heap, so expired entries never pile up and no write scans the dict.
    Heap entries of keys since rewritten or deleted are skipped when they reach the top (lazy deletion)
    and the heap is rebuilt when they outnumber the live ones. Past `max_entries` keys, the key that
    would expire soonest is dropped (the oldest written, if none has a TTL): a safety valve that a
    single process should never reach; `evicted` counts it.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, *, max_entries: int = 100_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._data: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()
        self._heap: list[tuple[float, str]] = []
        self._clock = clock
        self.max_entries = max_entries
        self.evicted = 0

    def __len__(self) -> int:
        """Keys held, including expired ones not yet reached by a write."""
        return len(self._data)

    def _live(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= self._clock():
            del self._data[key]
            return None
        return value

    def _put(self, key: str, value: bytes, expires: float | None) -> None:
        self._expire(self._clock())
        self._data[key] = (value, expires)
        self._data.move_to_end(key)
        if expires is not None:
            heapq.heappush(self._heap, (expires, key))
            if len(self._heap) > 2 * len(self._data) + 64:
                self._rebuild_heap()
        while len(self._data) > self.max_entries:
            self._evict_one()

    def _current(self, expires: float, key: str) -> bool:
        """Whether this heap entry still describes the key's expiry (not rewritten or deleted since)."""
        item = self._data.get(key)
        return item is not None and item[1] == expires

    def _expire(self, now: float) -> None:
        heap = self._heap
        while heap and heap[0][0] <= now:
            expires, key = heapq.heappop(heap)
            if self._current(expires, key):
                del self._data[key]

    def _evict_one(self) -> None:
        while self._heap:
            expires, key = heapq.heappop(self._heap)
            if self._current(expires, key):
                del self._data[key]
                self.evicted += 1
                return
        self._data.popitem(last=False)
        self.evicted += 1

    def _rebuild_heap(self) -> None:
        self._heap = [(expires, key) for key, (_, expires) in self._data.items() if expires is not None]
        heapq.heapify(self._heap)

    async def get(self, key: str) -> bytes | None:
        return self._live(key)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self._put(key, value, None if ttl is None else self._clock() + ttl)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [self._live(key) for key in keys]

    async def set_many(self, items: Mapping[str, bytes], ttl: float | None = None) -> None:
        expires = None if ttl is None else self._clock() + ttl
        for key, value in items.items():
            self._put(key, value, expires)

    async def set_nx(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        if self._live(key) is not None:
            return False
        await self.set(key, value, ttl)
        return True

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    async def delete_if(self, key: str, value: bytes) -> bool:
        if self._live(key) != value:
            return False
        del self._data[key]
        return True

    async def incr(self, key: str, ttl: float) -> int:
        current = self._live(key)
        if current is None:
            self._put(key, b"1", self._clock() + ttl)
            return 1
        count = int(current) + 1
        self._data[key] = (str(count).encode(), self._data[key][1])  # same key, same expiry: heap unchanged
        return count

    async def read(
        self, keys: Sequence[str], counter: str | None = None, ttl: float = 0.0
    ) -> tuple[list[bytes | None], int]:
        count = await self.incr(counter, ttl) if counter is not None else 0
        return [self._live(key) for key in keys], count

    async def close(self) -> None:
        self._data.clear()
        self._heap.clear()


_DELETE_IF = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
# A counter whose TTL starts with its first increment, in one command: every update pays for the
# throttle's counter, and a MULTI/INCR/PEXPIRE/EXEC pipeline costs the client ~2.5 × the CPU of one call.
_INCR_EXPIRE = (
    "local count = redis.call('incr', KEYS[1]) "
    "if count == 1 then redis.call('pexpire', KEYS[1], ARGV[1]) end return count"
)


# `read`: the counter (KEYS[1], when ARGV[2] is "1") and the values of the other keys, as {count, values}.
_READ = (
    "local count = 0 "
    "if ARGV[2] == '1' then count = redis.call('incr', KEYS[1]) "
    "if count == 1 then redis.call('pexpire', KEYS[1], ARGV[1]) end end "
    "local values = {} "
    "if #KEYS > 1 then values = redis.call('mget', unpack(KEYS, 2)) end "
    "return {count, values}"
)


class RedisStore:
    """Redis-backed store; keys are namespaced with `prefix`."""

    def __init__(self, redis: Redis, prefix: str = "coinsight:") -> None:
        self.redis = redis
        self.prefix = prefix
        self._delete_if = redis.register_script(_DELETE_IF)  # no I/O: loaded on first use
        self._incr_expire = redis.register_script(_INCR_EXPIRE)
        self._read = redis.register_script(_READ)
        self.batch = RedisBatch(redis)  # the update path's calls of one loop turn, in one pipeline

    @classmethod
    def from_url(
        cls, url: str, prefix: str = "coinsight:", *, max_connections: int = 50, wait_timeout: float = 30.0
    ) -> RedisStore:
        """A client whose pool *waits* for a free connection (up to `wait_timeout` s) instead of
        raising: a burst of updates queues for Redis, it never turns into errors for users."""
        pool = BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=wait_timeout, socket_timeout=5, socket_connect_timeout=5
        )
        return cls(Redis(connection_pool=pool), prefix)

    def _k(self, key: str) -> str:
        return self.prefix + key

    async def get(self, key: str) -> bytes | None:
        value: bytes | str | None = await self.redis.get(self._k(key))
        if value is None:
            return None
        return value.encode() if isinstance(value, str) else value

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        await self.redis.set(self._k(key), value, px=None if ttl is None else max(1, int(ttl * 1000)))

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        values: list[bytes | str | None] = await self.redis.mget([self._k(key) for key in keys])
        return [value.encode() if isinstance(value, str) else value for value in values]

    async def set_many(self, items: Mapping[str, bytes], ttl: float | None = None) -> None:
        if not items:
            return
        px = None if ttl is None else max(1, int(ttl * 1000))
        expiry = ("PX", px) if px is not None else ()
        await self.batch.commands([("SET", self._k(key), value, *expiry) for key, value in items.items()])

    async def set_nx(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        px = None if ttl is None else max(1, int(ttl * 1000))
        return bool(await self.redis.set(self._k(key), value, px=px, nx=True))

    async def delete(self, key: str) -> None:
        await self.redis.delete(self._k(key))

    async def delete_if(self, key: str, value: bytes) -> bool:
        return bool(await self._delete_if(keys=[self._k(key)], args=[value]))

    async def incr(self, key: str, ttl: float) -> int:
        count = await self._incr_expire(keys=[self._k(key)], args=[max(1, int(ttl * 1000))])
        return int(count)

    async def read(
        self, keys: Sequence[str], counter: str | None = None, ttl: float = 0.0
    ) -> tuple[list[bytes | None], int]:
        if counter is None and not keys:
            return [], 0
        script_keys = [self._k(counter if counter is not None else "-"), *(self._k(key) for key in keys)]
        args = [max(1, int(ttl * 1000)), "1" if counter is not None else "0"]
        count, values = await self.batch.script(self._read, script_keys, args)  # with this turn's other calls
        return [value.encode() if isinstance(value, str) else value for value in values], int(count)

    async def close(self) -> None:
        await self.batch.close()
        await self.redis.aclose()


def build_store(redis_url: str, prefix: str = "coinsight:", *, max_connections: int = 50) -> KeyValueStore:
    if redis_url:
        return RedisStore.from_url(redis_url, prefix, max_connections=max_connections)
    return MemoryStore()
