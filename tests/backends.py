"""Test backends: SQLite + in-process store always; PostgreSQL + Redis when TEST_DATABASE_URL /
TEST_REDIS_URL are set. With REQUIRE_SERVICES=1 (CI) a missing service fails the tests instead of
skipping them.

Each test gets its own database: a copy of a migrated template (a file copy on SQLite,
`CREATE DATABASE … TEMPLATE` on PostgreSQL), so tests are isolated and fast. Under pytest-xdist every
worker process has its own template and databases (named after its pid) and its own Redis prefixes.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from db import migrate
from db.engine import create_engine

_counter = itertools.count()


# Concurrency is a PostgreSQL property (SQLite runs one writer at a time): such tests take only the
# postgres backend instead of being collected, and skipped, on SQLite too.
POSTGRES_ONLY = pytest.mark.parametrize("backend", ["postgres"], indirect=True)
# A bot process whose claim does not depend on the database (a token Telegram rejects, console mode,
# which is the local-development path): one start, on the default backend, instead of one per backend.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES", "") in ("1", "true", "yes")


def need(env: str) -> str:
    value = os.environ.get(env, "")
    if value:
        return value
    if services_required():
        pytest.fail(f"{env} is not set but REQUIRE_SERVICES=1: the service tests must run here")
    pytest.skip(f"{env} not set")


@dataclass(frozen=True)
class Backend:
    name: str  # "sqlite" or "postgres"
    database_url: str
    redis_url: str  # "" → in-process store
    redis_prefix: str = ""  # this test's own Redis namespace (flushed after it)


class SqliteTemplates:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.template: Path | None = None

    async def new_database(self) -> str:
        if self.template is None:
            template = self.root / "template.sqlite3"
            engine = create_engine(f"sqlite+aiosqlite:///{template}")
            await migrate.upgrade(engine)
            await engine.dispose()
            self.template = template
        target = self.root / f"db{next(_counter)}.sqlite3"
        shutil.copyfile(self.template, target)
        return f"sqlite+aiosqlite:///{target}"


class PostgresTemplates:
    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.template = f"coinsight_tpl_{os.getpid()}"
        self.ready = False
        self.created: list[str] = []

    def _url_for(self, database: str) -> str:
        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    async def _admin(self, *statements: str) -> None:
        engine = create_async_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                for statement in statements:
                    await conn.execute(text(statement))
        finally:
            await engine.dispose()

    async def _drop_stale(self) -> None:
        """Drop the databases of test processes that died before cleaning up (their pid is gone)."""
        engine = create_async_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                names = (await conn.execute(text("SELECT datname FROM pg_database"))).scalars().all()
        finally:
            await engine.dispose()
        stale = []
        for name in names:
            match = _OWN_DATABASE.fullmatch(name)
            if match and not _alive(int(match.group(1))):
                stale.append(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if stale:
            await self._admin(*stale)

    async def new_database(self) -> str:
        if not self.ready:
            await self._drop_stale()
            await self._admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
            await self._admin(f'CREATE DATABASE "{self.template}"')
            engine = create_engine(self._url_for(self.template))
            await migrate.upgrade(engine)
            await engine.dispose()
            self.ready = True
        name = f"coinsight_t{os.getpid()}_{next(_counter)}"
        await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        return self._url_for(name)

    async def drop(self, url: str) -> None:
        name = make_url(url).database
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def drop_all(self) -> None:
        if self.ready:
            await self._admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')


_OWN_DATABASE = re.compile(r"coinsight_(?:tpl_|t)(\d+)(?:_\d+)?")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def redis_prefix() -> str:
    return f"test:{uuid.uuid4().hex[:12]}:"


async def flush_prefix(redis_url: str, prefix: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
