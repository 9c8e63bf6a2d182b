"""Engine and session factory. One engine per process, built by bot factories and disposed on shutdown.

The pool is sized by the caller (DB_POOL_SIZE, DB_MAX_OVERFLOW) and *waits* for a free connection
up to `pool_timeout` seconds (DB_POOL_TIMEOUT) instead of failing: a burst of updates queues for
the database, it does not turn into errors. On SQLite concurrent writers likewise wait for the
write lock (busy timeout) instead of failing with "database is locked"; file databases run in WAL
mode, so readers never wait for a writer.
"""

from __future__ import annotations

import asyncio
import contextlib
from functools import partial
from pathlib import Path
from typing import cast

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from db.changes import LISTENER, AnnouncingSession, ChangeListener, TrackingSession

DEFAULT_POOL_SIZE = 10
DEFAULT_MAX_OVERFLOW = 20
DEFAULT_POOL_TIMEOUT = 30.0


def _sqlite_pragmas(dbapi_connection: object, _record: ConnectionPoolEntry, *, busy_ms: int, wal: bool) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    if wal:
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _in_memory(database: str | None) -> bool:
    return not database or database == ":memory:" or "mode=memory" in database or database.startswith("file::memory:")


def create_engine(
    database_url: str,
    *,
    echo: bool = False,
    pool_size: int = DEFAULT_POOL_SIZE,
    max_overflow: int = DEFAULT_MAX_OVERFLOW,
    pool_timeout: float = DEFAULT_POOL_TIMEOUT,
) -> AsyncEngine:
    url = make_url(database_url)
    pool = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout}
    if url.drivername.startswith("sqlite"):
        memory = _in_memory(url.database)
        if not memory and url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # An in-memory database is one shared connection (StaticPool): nothing to size.
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": pool_timeout}, **({} if memory else pool))
        pragmas = partial(_sqlite_pragmas, busy_ms=int(pool_timeout * 1000), wal=not memory)
        event.listen(engine.sync_engine, "connect", pragmas)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True, **pool)


async def warm_pool(engine: AsyncEngine, connections: int) -> int:
    """Open up to `connections` pooled connections at once and hand them back to the pool, so the
    first burst after a start (a push claimed by several replicas, a wave of updates) does not pay
    for connection set-up one by one. PostgreSQL only (SQLite connections are cheap). How many."""
    if engine.dialect.name != "postgresql" or connections <= 0:
        return 0
    async with contextlib.AsyncExitStack() as stack:
        opened = await asyncio.gather(*(stack.enter_async_context(engine.connect()) for _ in range(connections)))
        return len(opened)


def create_sessionmaker(
    engine: AsyncEngine, listener: ChangeListener | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions that tell `listener` which users and chats each commit changed (db/changes.py)."""
    maker = async_sessionmaker(
        engine,
        class_=AnnouncingSession,
        sync_session_class=TrackingSession,
        expire_on_commit=False,
        autoflush=False,
        info={LISTENER: listener} if listener is not None else {},
    )
    return cast(async_sessionmaker[AsyncSession], maker)
