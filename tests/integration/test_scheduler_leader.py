"""One scheduler leader: Redis lease (renewed, lost, taken over), PostgreSQL advisory lock (taken over
when the holder's connection dies), in process on SQLite; the lock the settings choose."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.scheduler import build_lease
from bot.settings import load_settings
from services.kv import MemoryStore, RedisStore
from services.scheduling.leader import LeaderElector, Lease, LocalLease, PostgresLease, RedisLease
from tests.backends import POSTGRES_ONLY, Backend, flush_prefix, need, redis_prefix

LEASE = 0.4  # seconds: short, so an expiry takes a moment; renewals every RENEW
RENEW = 0.1
WAIT = 10.0  # the most any wait here may take


@pytest.fixture
async def redis() -> AsyncIterator[tuple[Redis, str]]:
    url = need("TEST_REDIS_URL")
    prefix = redis_prefix()
    client = Redis.from_url(url)
    try:
        yield client, prefix + "scheduler:leader"
    finally:
        await client.aclose()
        await flush_prefix(url, prefix)


@contextlib.asynccontextmanager
async def electing(lease: Lease) -> AsyncIterator[LeaderElector]:
    elector = LeaderElector(lease, lease_seconds=LEASE, renew_seconds=RENEW)
    task = asyncio.create_task(elector.run())
    try:
        yield elector
    finally:
        elector.stop()
        await task


async def within(awaitable: object, timeout: float = WAIT) -> None:
    await asyncio.wait_for(awaitable, timeout)  # type: ignore[arg-type]


@pytest.mark.redis
async def test_redis_lease_is_one_owners_and_renewed_or_released_only_by_it(redis: tuple[Redis, str]) -> None:
    client, key = redis
    a = RedisLease(client, key, "a", 30)
    b = RedisLease(client, key, "b", 30)
    assert await a.acquire() == (True, None)
    taken, remaining = await b.acquire()
    assert not taken and remaining is not None and 29 < remaining <= 30
    assert await a.renew() and not await b.renew()
    await b.release()  # not b's to release
    assert await client.get(key) == b"a"
    await a.release()
    assert await client.get(key) is None
    assert (await b.acquire())[0]


@pytest.mark.redis
async def test_redis_leader_renews_loses_and_is_taken_over(redis: tuple[Redis, str]) -> None:
    client, key = redis
    async with electing(RedisLease(client, key, "a", LEASE)) as a:
        await within(a.wait_for(True))
        async with electing(RedisLease(client, key, "b", LEASE)) as b:
            # a keeps it for two leases and more by renewing; b never gets it.
            await within(a.wait_until(lambda: a.renewals >= 2 * LEASE / RENEW))
            assert a.is_leader and not b.holding and b.terms == 0
            # Someone else holds the key now (a partition healed the other way): a's next renewal
            # is refused and a stops leading at once.
            await client.set(key, "c", px=int(LEASE * 1000))
            await within(a.wait_for(False))
            assert not a.is_leader
            # The intruder never renews: once its key expires, one of a and b leads, never both.
            await within(a.wait_until(lambda: a.holding or b.holding))  # checked at each of a's steps
            assert a.holding != b.holding
        # b stopped (released if it led); a leads.
        await within(a.wait_for(True))


@pytest.mark.redis
async def test_a_dead_leader_is_replaced_within_a_lease(redis: tuple[Redis, str]) -> None:
    client, key = redis
    dead = RedisLease(client, key, "dead", LEASE)
    assert (await dead.acquire())[0]  # took it, then died: it never renews nor releases
    loop = asyncio.get_running_loop()
    died_at = loop.time()
    async with electing(RedisLease(client, key, "b", LEASE)) as b:
        await within(b.wait_for(True))
        took = loop.time() - died_at
    assert LEASE * 0.8 <= took <= LEASE + RENEW + 0.5  # at the expiry (Redis says when), not a retry later
    assert await client.get(key) is None  # b released it on stop


@POSTGRES_ONLY
async def test_postgres_leader_is_replaced_when_its_connection_dies(backend: Backend) -> None:
    a_lease = PostgresLease(backend.database_url)
    b_lease = PostgresLease(backend.database_url)
    admin = create_async_engine(backend.database_url, isolation_level="AUTOCOMMIT")
    try:
        async with electing(a_lease) as a:
            await within(a.wait_for(True))
            async with electing(b_lease) as b:
                await within(a.wait_until(lambda: a.renewals >= 2))
                assert not b.holding and await _lock_holders(admin) == 1
                async with admin.connect() as conn:  # the leader's connection dies
                    await conn.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                        )
                    )
                await within(b.wait_for(True))
                await within(a.wait_for(False))  # its next renewal finds the connection gone
                assert await _lock_holders(admin) == 1
            await within(a.wait_for(True))  # b stopped: its connection closed, the lock with it
    finally:
        await a_lease.close()
        await b_lease.close()
        await admin.dispose()


async def _lock_holders(engine: object) -> int:
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        statement = text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return int((await conn.execute(statement)).scalar_one())


async def test_sqlite_without_redis_leads_in_process(backend: Backend) -> None:
    settings = load_settings(_env_file=None, database_url=backend.database_url)
    lease = build_lease(settings, MemoryStore(), "a")
    if backend.name == "sqlite":
        assert isinstance(lease, LocalLease)
        async with electing(lease) as a:
            await within(a.wait_for(True))
            assert a.is_leader
        return
    assert isinstance(lease, PostgresLease)  # PostgreSQL without Redis: the advisory lock
    await lease.close()
    store = RedisStore.from_url(backend.redis_url, backend.redis_prefix)
    try:
        assert isinstance(build_lease(settings, store, "a"), RedisLease)  # Redis whenever it is set
    finally:
        await store.close()
