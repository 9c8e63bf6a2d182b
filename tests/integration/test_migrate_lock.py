"""The migrate step on PostgreSQL holds an advisory lock: concurrent migrates take turns."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db import migrate
from db.engine import create_engine
from tests.backends import POSTGRES_ONLY, Backend

WAITING_FOR_THE_LOCK = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = "
    "(SELECT oid FROM pg_database WHERE datname = current_database())"
)


async def _count(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar_one())


@POSTGRES_ONLY
async def test_two_concurrent_migrates_both_succeed_once(backend: Backend, engine: AsyncEngine) -> None:
    await migrate.downgrade(engine, "base")
    engines = [create_engine(backend.database_url) for _ in range(2)]
    try:
        # Without the lock both would create the same tables at once and one would fail.
        await asyncio.gather(*(migrate.upgrade(each) for each in engines))
    finally:
        await asyncio.gather(*(each.dispose() for each in engines))
    assert await migrate.current_revision(engine) == migrate.head_revision()
    assert await _count(engine, "SELECT count(*) FROM alembic_version") == 1
    assert await _count(engine, "SELECT count(*) FROM plans") == 3  # seeded once, not twice


@POSTGRES_ONLY
async def test_migrate_waits_for_the_lock_holder(backend: Backend, engine: AsyncEngine) -> None:
    await migrate.downgrade(engine, "base")
    other = create_engine(backend.database_url)
    try:
        async with engine.connect() as holder:
            await holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": migrate.MIGRATION_LOCK_KEY})
            upgrading = asyncio.create_task(migrate.upgrade(other))
            async with asyncio.timeout(30):  # polls the condition: the migrate is queued on the lock
                while True:
                    if await _count(other, WAITING_FOR_THE_LOCK.text) > 0:
                        break
                    await asyncio.sleep(0.02)
            assert not upgrading.done()
            assert await migrate.current_revision(other) is None  # nothing migrated while the lock is held
            await holder.rollback()  # releases the transaction-level lock
            await upgrading
    finally:
        await other.dispose()
    assert await migrate.current_revision(engine) == migrate.head_revision()
