"""Pools sized from the settings and waiting instead of failing; SQLite waits for its write lock
(busy timeout) and runs file databases in WAL mode."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.pool import QueuePool, StaticPool

from db.engine import create_engine


async def test_a_sqlite_file_database_waits_for_the_write_lock_in_wal_mode(tmp_path: Path) -> None:
    engine = create_engine(
        f"sqlite+aiosqlite:///{tmp_path}/sub/db.sqlite3", pool_size=3, max_overflow=1, pool_timeout=7
    )
    try:
        pool = engine.sync_engine.pool
        assert isinstance(pool, QueuePool) and (pool.size(), pool._max_overflow, pool._timeout) == (3, 1, 7)
        async with engine.connect() as connection:
            assert (await connection.scalar(text("PRAGMA busy_timeout"))) == 7000
            assert (await connection.scalar(text("PRAGMA journal_mode"))) == "wal"
            assert (await connection.scalar(text("PRAGMA foreign_keys"))) == 1
    finally:
        await engine.dispose()
    assert (tmp_path / "sub" / "db.sqlite3").exists()


async def test_an_in_memory_sqlite_database_is_one_shared_connection() -> None:
    engine = create_engine("sqlite+aiosqlite:///:memory:", pool_size=3, pool_timeout=2)
    try:
        assert isinstance(engine.sync_engine.pool, StaticPool)
        async with engine.connect() as connection:
            assert (await connection.scalar(text("PRAGMA busy_timeout"))) == 2000
            assert (await connection.scalar(text("PRAGMA journal_mode"))) == "memory"
    finally:
        await engine.dispose()


async def test_a_postgresql_pool_is_sized_and_waits() -> None:
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none", pool_size=4, max_overflow=0, pool_timeout=9)
    try:
        pool = engine.sync_engine.pool
        assert isinstance(pool, QueuePool) and (pool.size(), pool._max_overflow, pool._timeout) == (4, 0, 9)
    finally:
        await engine.dispose()
