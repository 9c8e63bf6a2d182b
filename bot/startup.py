"""Checks that stop a start with one line naming the cause (`StartupError`), before any migration,
exchange loading or polling: the database answers, Redis answers, the schema is at head."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings, StartupError
from db import revisions
from db.engine import create_engine

CONNECT_TIMEOUT = 5.0  # seconds for the first answer of the database and of Redis
MIGRATE_HINT = "run `python -m bot migrate`"


def _first_line(error: BaseException) -> str:
    """The driver's own message (asyncpg, sqlite, redis), without SQLAlchemy's wrapping."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def _hide_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


async def check_database(database_url: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Connect once and run `SELECT 1`; any failure is one line naming DATABASE_URL."""
    where = f"the database at DATABASE_URL ({make_url(database_url).render_as_string(hide_password=True)})"
    try:
        engine = create_engine(database_url)  # SQLite: creates the file's directory
    except OSError as exc:
        raise StartupError(f"Cannot open {where}: {exc.strerror or exc}") from None
    try:
        async with asyncio.timeout(timeout):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except TimeoutError:
        raise StartupError(f"Cannot reach {where}: no answer within {timeout:g} s") from None
    except (SQLAlchemyError, OSError) as exc:
        raise StartupError(f"Cannot connect to {where}: {_first_line(exc)}") from None
    finally:
        await engine.dispose()


async def check_redis(redis_url: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """PING once; any failure is one line naming REDIS_URL."""
    where = f"Redis at REDIS_URL ({_hide_password(redis_url)})"
    client = Redis.from_url(redis_url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        async with asyncio.timeout(timeout):
            await client.ping()
    except TimeoutError:
        raise StartupError(f"Cannot reach {where}: no answer within {timeout:g} s") from None
    except (RedisError, OSError) as exc:
        raise StartupError(f"Cannot connect to {where}: {_first_line(exc)}") from None
    finally:
        await client.aclose()


async def check_services(settings: Settings, timeout: float = CONNECT_TIMEOUT) -> None:
    await check_database(settings.database_url, timeout)
    if settings.redis_url:
        await check_redis(settings.redis_url, timeout)


async def check_schema(engine: AsyncEngine) -> None:
    """The bot never migrates at start: a database behind the code (or empty) stops it with one line.
    Revisions are read without Alembic (db/revisions.py): its machinery is for `python -m bot migrate`."""
    try:
        current = await revisions.current_revision(engine)
        known = revisions.revisions_in_order()
    except revisions.RevisionError as exc:
        raise StartupError(f"cannot check the schema: {exc}") from None
    head = known[-1] if known else None
    if current == head:
        return
    if current is not None and current not in known:
        raise StartupError(
            f"the database is at revision {current}, which this code does not know (newer code migrated it?); "
            f"the code needs {head}"
        )
    raise StartupError(
        f"the database is at revision {current or 'none (empty)'}, the code needs {head}: {MIGRATE_HINT}"
    )


async def preflight(settings: Settings, timeout: float = CONNECT_TIMEOUT) -> None:
    """`check_services` and `check_schema` on a throwaway engine: what `python -m bot` runs before
    importing the bot itself (seconds of imports), so a misconfiguration is reported at once."""
    await check_services(settings, timeout)
    engine = create_engine(settings.database_url)
    try:
        await check_schema(engine)
    finally:
        await engine.dispose()
