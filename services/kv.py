"""Key-value store used for caches, flood control and dedupe.

Two implementations with one contract: `MemoryStore` (one process, the embedded default) and
`RedisStore` (shared by replicas when `REDIS_URL` is set). Values are bytes; TTLs are seconds.
"""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import BlockingConnectionPool, Redis


class KeyValueStore(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None: ...

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

    async def close(self) -> None: ...


class MemoryStore:
    """In-process store with lazy expiry."""

    def __init__(self, clock: object = time.monotonic) -> None:
        self._data: dict[str, tuple[bytes, float | None]] = {}
        self._clock = clock

    def _now(self) -> float:
        return self._clock()  # type: ignore[operator,no-any-return]

    def _live(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= self._now():
            del self._data[key]
            return None
        return value

    async def get(self, key: str) -> bytes | None:
        return self._live(key)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self._data[key] = (value, None if ttl is None else self._now() + ttl)
        if len(self._data) > 100_000:
            self._evict()

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
            self._data[key] = (b"1", self._now() + ttl)
            return 1
        count = int(current) + 1
        self._data[key] = (str(count).encode(), self._data[key][1])
        return count

    def _evict(self) -> None:
        now = self._now()
        for key in [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]:
            del self._data[key]

    async def close(self) -> None:
        self._data.clear()


_DELETE_IF = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class RedisStore:
    """Redis-backed store; keys are namespaced with `prefix`."""

    def __init__(self, redis: Redis, prefix: str = "coinsight:") -> None:
        self.redis = redis
        self.prefix = prefix
        self._delete_if = redis.register_script(_DELETE_IF)  # no I/O: loaded on first use

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

    async def set_nx(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        px = None if ttl is None else max(1, int(ttl * 1000))
        return bool(await self.redis.set(self._k(key), value, px=px, nx=True))

    async def delete(self, key: str) -> None:
        await self.redis.delete(self._k(key))

    async def delete_if(self, key: str, value: bytes) -> bool:
        return bool(await self._delete_if(keys=[self._k(key)], args=[value]))

    async def incr(self, key: str, ttl: float) -> int:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(self._k(key))
            pipe.pexpire(self._k(key), max(1, int(ttl * 1000)), nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def close(self) -> None:
        await self.redis.aclose()


def build_store(redis_url: str, prefix: str = "coinsight:", *, max_connections: int = 50) -> KeyValueStore:
    if redis_url:
        return RedisStore.from_url(redis_url, prefix, max_connections=max_connections)
    return MemoryStore()
