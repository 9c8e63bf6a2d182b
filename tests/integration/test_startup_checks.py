"""Startup checks: each failure is one line naming the cause (and never a password)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import StartupError
from bot.startup import check_database, check_redis, check_schema
from db.engine import warm_pool


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A TCP server that accepts connections and never says a word."""
    release = asyncio.Event()

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        release.set()
        server.close()
        await server.wait_closed()


def _one_line(error: pytest.ExceptionInfo[StartupError]) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


async def test_a_silent_database_times_out_in_one_line(silent_port: int) -> None:
    with pytest.raises(StartupError) as error:
        await check_database(f"postgresql+asyncpg://bot:hunter2@127.0.0.1:{silent_port}/coinsight", timeout=0.2)
    message = _one_line(error)
    assert message.startswith("Cannot reach the database at DATABASE_URL")
    assert message.endswith("no answer within 0.2 s")
    assert "hunter2" not in message and "bot:***@" in message


async def test_a_silent_redis_times_out_in_one_line(silent_port: int) -> None:
    with pytest.raises(StartupError) as error:
        await check_redis(f"redis://:hunter2@127.0.0.1:{silent_port}/0", timeout=0.2)
    message = _one_line(error)
    assert message.startswith("Cannot reach Redis at REDIS_URL (redis://:***@127.0.0.1:")
    assert message.endswith("no answer within 0.2 s") and "hunter2" not in message


async def test_refused_connections_name_the_variable() -> None:
    port = free_port()
    with pytest.raises(StartupError) as error:
        await check_redis(f"redis://127.0.0.1:{port}/0")
    assert _one_line(error).startswith(f"Cannot connect to Redis at REDIS_URL (redis://127.0.0.1:{port}/0): ")
    with pytest.raises(StartupError) as error:
        await check_database(f"postgresql+asyncpg://bot@127.0.0.1:{port}/coinsight")
    assert _one_line(error).startswith("Cannot connect to the database at DATABASE_URL (postgresql+asyncpg://bot@")


async def test_a_sqlite_path_that_cannot_exist(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    with pytest.raises(StartupError) as error:
        await check_database(f"sqlite+aiosqlite:///{tmp_path}/a-file/coinsight.sqlite3")
    assert _one_line(error).startswith("Cannot open the database at DATABASE_URL (sqlite+aiosqlite:///")


async def test_schema_checks(engine: AsyncEngine) -> None:
    await check_schema(engine)  # the test database is at head
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    with pytest.raises(StartupError) as error:
        await check_schema(engine)
    assert _one_line(error).startswith("the database is at revision f00d, which this code does not know")


async def test_the_pool_is_warmed_before_the_first_burst(engine: AsyncEngine) -> None:
    """PostgreSQL: the connections are open (and back in the pool) before any update or push needs
    them; SQLite has nothing to warm."""
    opened = await warm_pool(engine, 4)
    if engine.dialect.name == "postgresql":
        assert opened == 4 and engine.pool.checkedin() == 4  # type: ignore[attr-defined]
    else:
        assert opened == 0
