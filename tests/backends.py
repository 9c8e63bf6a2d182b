"""Test backends: SQLite + in-process store always; PostgreSQL + Redis when TEST_DATABASE_URL /
TEST_REDIS_URL are set. With REQUIRE_SERVICES=1 (CI) a missing service fails the tests instead of
skipping them.

Each test gets a database of its own in the state of a migrated template, so tests are isolated. Under
pytest-xdist every worker process has its own template and databases (named after its pid) and its own
Redis prefixes.

SQLite: a file copy of the template per test.

PostgreSQL: copying (`CREATE DATABASE … TEMPLATE`) and dropping a database cost about 0.7 s of a
test's setup and teardown, so a worker reuses its databases instead:
- `new_database()` hands out a database from the worker's free list, or copies the template when the
  list is empty (the first test, or after a database was dropped).
- `release()`, at the test's teardown, resets the database in one connection, one round trip and one
  transaction (tests/pg_reset.py): it terminates the connections the test left (waiting for them to
  end), checks an md5 fingerprint of the schema (relations, columns, types, defaults, constraints,
  indexes, sequences' definitions, triggers, functions, views, the database's settings, Alembic's
  revision; every schema but the system ones) against the template's, deletes every table's rows
  (children before parents, in the foreign keys' order computed once; Alembic's table is kept), inserts
  again the rows the migrations seeded (whatever the template held, captured once as row literals) and
  sets every sequence to the template's value (`is_called` included, so ids start where they did on a
  fresh copy). The database goes back on the free list.
- If the fingerprint differs (a test walked the migrations, ran DDL), a connection outlived its
  termination or anything in the reset failed, the transaction is rolled back and the database is
  dropped as before: the next test gets a new copy.
- At the session's end the worker drops its template and all its databases; `_drop_stale` drops those
  of workers that died (their pid in the name is no longer alive).
A process still running after its test (none should) could reconnect to a reset database: tests stop
what they start before the `backend` fixture's teardown.
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
from tests import pg_reset
from tests.pg_reset import ResetPlan

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
        self.plan: ResetPlan | None = None
        self.live: set[str] = set()  # this worker's databases (in use or free), the template aside
        self.free: list[str] = []  # reset to the template's state, waiting for the next test

    def _url_for(self, database: str) -> str:
        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    def _dsn_for(self, database: str) -> str:
        """The libpq address of `database`, for asyncpg itself (the reset's multi-statement script)."""
        url = make_url(self.admin_url).set(drivername="postgresql", database=database)
        return url.render_as_string(hide_password=False)

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

    async def _create_template(self) -> None:
        await self._drop_stale()
        await self._admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        await self._admin(f'CREATE DATABASE "{self.template}"')
        engine = create_engine(self._url_for(self.template))
        await migrate.upgrade(engine)
        await engine.dispose()
        conn = await pg_reset.connect(self._dsn_for(self.template))
        try:
            self.plan = await pg_reset.capture(conn)
        finally:
            await conn.close()
        self.ready = True

    async def new_database(self) -> str:
        """A database in the migrated template's state: a reset one of this worker's if it has one,
        else a new copy of the template."""
        if not self.ready:
            await self._create_template()
        if self.free:
            return self._url_for(self.free.pop())
        name = f"coinsight_t{os.getpid()}_{next(_counter)}"
        await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.live.add(name)
        return self._url_for(name)

    async def release(self, url: str) -> bool:
        """A test is done with `url`: reset it for the next test (True), or drop it (False) if its
        schema is no longer the template's or the reset failed."""
        name = make_url(url).database
        assert name is not None and self.plan is not None
        if await pg_reset.reset(self._dsn_for(name), self.plan):
            self.free.append(name)
            return True
        await self.drop(url)
        return False

    async def drop(self, url: str) -> None:
        name = make_url(url).database
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.live.discard(name or "")
        if name in self.free:
            self.free.remove(name)

    async def drop_all(self) -> None:
        """The session's end: this worker's databases, free or not, and its template."""
        names = [*sorted(self.live), self.template] if self.ready else sorted(self.live)
        if names:
            await self._admin(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names))
        self.live.clear()
        self.free.clear()


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
