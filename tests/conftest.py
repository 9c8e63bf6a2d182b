from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import create_engine, create_sessionmaker
from services.kv import KeyValueStore, MemoryStore, RedisStore
from standins.exchanges import FakeBybit, FakeClock, default_specs
from standins.openai_server import FakeOpenAI
from standins.telegram import FakeTelegramServer
from tests.backends import (
    Backend,
    PostgresTemplates,
    SqliteTemplates,
    flush_prefix,
    need,
    redis_prefix,
)
from tests.flow.chat_helpers import language_aware_answer
from tests.harness import SkippingClock, fake_telegram

_pg_templates: PostgresTemplates | None = None


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    return SqliteTemplates(Path(tmp_path_factory.mktemp("sqlite")))


@pytest.fixture(scope="session")
def pg_templates() -> Iterator[PostgresTemplates | None]:
    global _pg_templates
    url = os.environ.get("TEST_DATABASE_URL", "")
    _pg_templates = PostgresTemplates(url) if url else None
    yield _pg_templates


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import asyncio

    if _pg_templates is not None and (_pg_templates.ready or _pg_templates.live):
        asyncio.run(_pg_templates.drop_all())


@pytest.fixture(params=["sqlite", "postgres"])
async def backend(
    request: pytest.FixtureRequest,
    sqlite_templates: SqliteTemplates,
    pg_templates: PostgresTemplates | None,
) -> AsyncIterator[Backend]:
    """A migrated database in the template's state (and an empty store) for one test, on each backend.
    On PostgreSQL the database is reset afterwards and handed to the worker's next test, or dropped
    if the test changed its schema (tests/backends.py)."""
    if request.param == "sqlite":
        yield Backend("sqlite", await sqlite_templates.new_database(), "")
        return
    need("TEST_DATABASE_URL")
    redis_url = need("TEST_REDIS_URL")
    assert pg_templates is not None
    url = await pg_templates.new_database()
    prefix = redis_prefix()
    try:
        yield Backend("postgres", url, redis_url, prefix)
    finally:
        await pg_templates.release(url)
        await flush_prefix(redis_url, prefix)


@pytest.fixture
async def engine(backend: Backend) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(backend.database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[KeyValueStore]:
    if not backend.redis_url:
        memory = MemoryStore()
        yield memory
        await memory.close()
        return
    redis_store = RedisStore.from_url(backend.redis_url, backend.redis_prefix)
    yield redis_store
    await redis_store.close()


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegramServer]:
    """The fake Bot API; its flood limits run on a SkippingClock that an in-process bot's pacing shares."""
    async with fake_telegram(SkippingClock()) as server:
        yield server


@pytest.fixture
async def exchange() -> AsyncIterator[FakeBybit]:
    """A fake Bybit (v5 REST) with seeded markets; its clock follows real time."""
    async with FakeBybit(default_specs(), clock=FakeClock(frozen=False)) as fake:
        yield fake


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    """A fake OpenAI-compatible server answering in the language the system prompt asks for."""
    async with FakeOpenAI(responder=language_aware_answer) as fake:
        yield fake
