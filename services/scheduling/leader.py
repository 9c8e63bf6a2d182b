"""One scheduler leader across replicas.

A `Lease` is the shared lock; `LeaderElector` keeps trying to take it (every `renew_seconds`, or as
soon as Redis says the holder's lease runs out) and, once it holds it, renews it every
`renew_seconds`. Leadership counts from the moment before each successful take or renewal and lasts
`lease_seconds` locally, so this process stops calling itself leader no later than the shared lock
expires; a renewal refused (someone else holds it) or a lost connection ends it at once. A leader
that dies is replaced within one lease (Redis: the key expires; PostgreSQL: its connection closes
and the server drops its lock at once). A graceful stop releases the lock for an immediate takeover.

- `RedisLease` (REDIS_URL set): SET NX PX with this owner's token, renewed by a compare-and-pexpire
  script, released by compare-and-delete.
- `PostgresLease` (PostgreSQL, no Redis): `pg_try_advisory_lock` on a connection of its own (not
  from the request pool), held only while leading; the lock lives as long as that connection.
- `LocalLease` (SQLite, no Redis): one process, always the leader.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

LEASE_ERRORS = (RedisError, SQLAlchemyError, OSError, TimeoutError)

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class Lease(Protocol):
    async def acquire(self) -> tuple[bool, float | None]:
        """(taken, seconds until the current holder's lease runs out, if known)."""
        ...

    async def renew(self) -> bool:
        """False: the lease is no longer ours."""
        ...

    async def release(self) -> None: ...

    async def close(self) -> None: ...


class LocalLease:
    """A single process leads (SQLite without Redis: nothing else shares its scheduler)."""

    async def acquire(self) -> tuple[bool, float | None]:
        return True, None

    async def renew(self) -> bool:
        return True

    async def release(self) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisLease:
    def __init__(self, redis: Redis, key: str, owner: str, lease_seconds: float) -> None:
        self.redis = redis
        self.key = key
        self.owner = owner
        self.lease_ms = max(1, int(lease_seconds * 1000))
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def acquire(self) -> tuple[bool, float | None]:
        if await self.redis.set(self.key, self.owner, nx=True, px=self.lease_ms):
            return True, None
        remaining_ms = int(await self.redis.pttl(self.key))
        return False, (remaining_ms / 1000 if remaining_ms >= 0 else None)

    async def renew(self) -> bool:
        return bool(await self._renew(keys=[self.key], args=[self.owner, self.lease_ms]))

    async def release(self) -> None:
        await self._release(keys=[self.key], args=[self.owner])

    async def close(self) -> None:
        return None  # the Redis client belongs to the store


def advisory_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for `name`."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class PostgresLease:
    """A session-level advisory lock on a dedicated connection (its own engine, no pool): held only
    while leading, closed when leadership ends. If the connection dies the server releases the lock,
    so a renewal that cannot reach the server ends leadership."""

    def __init__(self, database_url: str, name: str = "coinsight.scheduler", *, timeout: float = 5.0) -> None:
        self.key = advisory_key(name)
        self.timeout = timeout
        self.engine: AsyncEngine = create_async_engine(
            database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT", connect_args={"timeout": timeout}
        )
        self._connection: AsyncConnection | None = None

    async def acquire(self) -> tuple[bool, float | None]:
        connection = await self.engine.connect()
        try:
            async with asyncio.timeout(self.timeout):
                statement = text("SELECT pg_try_advisory_lock(:key)")
                taken = bool((await connection.execute(statement, {"key": self.key})).scalar_one())
        except BaseException:
            await connection.invalidate()
            raise
        if not taken:
            await connection.close()  # followers hold no connection
            return False, None
        self._connection = connection
        return True, None

    async def renew(self) -> bool:
        connection = self._connection
        if connection is None:
            return False
        try:
            async with asyncio.timeout(self.timeout):
                await connection.execute(text("SELECT 1"))
        except LEASE_ERRORS as exc:
            log.warning("scheduler leader's database connection lost: %s", exc)
            self._connection = None
            await connection.invalidate()
            return False
        return True

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()  # the session's advisory lock goes with it

    async def close(self) -> None:
        await self.release()
        await self.engine.dispose()


class LeaderElector:
    """Takes and keeps the lease in the background (`run`, until `stop`); `is_leader` says whether
    this replica may run leader-only jobs right now."""

    def __init__(
        self,
        lease: Lease,
        *,
        lease_seconds: float,
        renew_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < renew_seconds < lease_seconds:
            raise ValueError("renew_seconds must be above 0 and below lease_seconds")
        self.lease = lease
        self.lease_seconds = lease_seconds
        self.renew_seconds = renew_seconds
        self.clock = clock
        self._until: float | None = None  # leading until then (this process's monotonic clock)
        self._stopping = asyncio.Event()
        self._changed = asyncio.Event()
        self.terms = 0  # times this replica became leader
        self.renewals = 0  # successful renewals, over all terms
        # When the lock last answered (taken, renewed, or held by another replica): readiness.
        self._lock_answered_at: float | None = None

    @property
    def holding(self) -> bool:
        return self._until is not None

    @property
    def is_leader(self) -> bool:
        return self._until is not None and self.clock() < self._until

    @property
    def leader_known(self) -> bool:
        """This replica leads, or the lock answered within a lease period (so a replica holds it, or
        this one takes it at its next attempt): False before the first attempt and while the lock
        cannot be reached."""
        if self.is_leader:
            return True
        answered = self._lock_answered_at
        return answered is not None and self.clock() - answered < self.lease_seconds

    async def wait_for(self, leader: bool = True) -> None:
        """Until this replica holds (or, with False, does not hold) the lease."""
        await self.wait_until(lambda: self.holding == leader)

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Until `predicate()` holds, checked after every take, renewal or loss attempt."""
        while not predicate():
            await self._changed.wait()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _set(self, until: float | None) -> None:
        self._until = until

    async def run(self) -> None:
        try:
            while not self._stopping.is_set():
                wait = await self._step()
                self._notify()
                try:
                    async with asyncio.timeout(wait):
                        await self._stopping.wait()
                except TimeoutError:
                    pass
        finally:
            if self.holding:
                self._set(None)
                self._notify()
                try:
                    await self.lease.release()
                except LEASE_ERRORS as exc:
                    log.warning("scheduler leadership not released (it expires on its own): %s", exc)
                log.info("scheduler leadership released")

    async def _step(self) -> float:
        started = self.clock()
        if not self.holding:
            try:
                taken, remaining = await self.lease.acquire()
            except LEASE_ERRORS as exc:
                log.warning("scheduler leadership: cannot reach the lock: %s", exc)
                return self.renew_seconds
            self._lock_answered_at = started
            if taken:
                self.terms += 1
                self._set(started + self.lease_seconds)
                log.info("scheduler leader (term %d)", self.terms)
                return self.renew_seconds
            return self.renew_seconds if remaining is None else min(self.renew_seconds, remaining + 0.01)
        try:
            kept: bool | None = await self.lease.renew()
        except LEASE_ERRORS as exc:
            log.warning("scheduler leadership: renewal failed: %s", exc)
            kept = None
        if kept is not None:
            self._lock_answered_at = started
        if kept:
            self.renewals += 1
            self._set(started + self.lease_seconds)
        elif kept is False or not self.is_leader:
            self._set(None)
            log.warning("scheduler leadership lost")
            return 0.0 if kept is None else self.renew_seconds
        return self.renew_seconds

    def stop(self) -> None:
        self._stopping.set()
