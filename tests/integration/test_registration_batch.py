"""New users arriving at once are registered together (a group commit): a burst costs a few
statements and transactions per group, not several per user; each user is registered once, also
when two processes register the same user at the same moment."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import create_sessionmaker
from db.models import Chat, User, utcnow
from db.repositories.users import TelegramProfile, UserRepository
from services.kv import KeyValueStore
from services.user_cache import LastSeen, Registrar, Registrations, ViewCache
from services.users import ChatInfo, Seen
from tests.backends import POSTGRES_ONLY

Sessions = async_sessionmaker[AsyncSession]


@dataclass
class Work:
    """Statements and commits an engine ran."""

    statements: list[str] = field(default_factory=list)
    commits: int = 0

    def of(self, verb: str) -> list[str]:
        return [s for s in self.statements if s.lstrip().upper().startswith(verb)]


@contextmanager
def counted(engine: AsyncEngine) -> Iterator[Work]:
    work = Work()

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        work.statements.append(sql)

    def commit(_conn: Any) -> None:
        work.commits += 1

    sync = engine.sync_engine
    event.listen(sync, "before_cursor_execute", statement)
    event.listen(sync, "commit", commit)
    try:
        yield work
    finally:
        event.remove(sync, "before_cursor_execute", statement)
        event.remove(sync, "commit", commit)


def profile(telegram_id: int) -> TelegramProfile:
    return TelegramProfile(telegram_id=telegram_id, username=f"u{telegram_id}", first_name="U", language_code="en")


def private(telegram_id: int) -> ChatInfo:
    return ChatInfo(chat_id=telegram_id, type="private", title="U")


@pytest.fixture
def cache(store: KeyValueStore) -> ViewCache:
    return ViewCache(store, ttl=60)


@pytest.fixture
def sessions(engine: AsyncEngine, cache: ViewCache) -> Sessions:
    return create_sessionmaker(engine, cache)


async def count(sessions: Sessions, entity: type[Any]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(entity)) or 0)


def created_per_user(results: list[Seen]) -> dict[int, int]:
    per_user: dict[int, int] = {}
    for seen in results:
        assert seen.user is not None
        per_user[seen.user.telegram_id] = per_user.get(seen.user.telegram_id, 0) + seen.user_created
    return per_user


async def test_200_new_users_at_once_cost_a_few_statements_and_transactions(
    engine: AsyncEngine, sessions: Sessions, cache: ViewCache
) -> None:
    registrar = Registrar(cache=cache, last_seen=LastSeen(sessions))
    ids = list(range(10_000, 10_200))
    # Twenty of them send two updates at once (a /start and a message): still one registration each.
    updates = ids + ids[:20]
    with counted(engine) as work:
        results = await asyncio.gather(*(registrar.register(profile(i), private(i), utcnow()) for i in updates))
    assert await count(sessions, User) == 200 and await count(sessions, Chat) == 200
    assert created_per_user(results) == dict.fromkeys(ids, 1)
    assert all(seen.chat is not None and seen.chat.id == seen.user.telegram_id for seen in results if seen.user)
    assert len({seen.user.id for seen in results if seen.user}) == 200
    assert len({seen.user.invite_code for seen in results if seen.user}) == 200
    # The first update is written alone, the others wait for it and go together: 2 groups here (the
    # cache lookups before them take turns on Redis, so arrivals may spread over a few more groups).
    # One registration per update would be 440 INSERTs and 220 commits.
    assert len(work.of("INSERT")) <= 20, work.of("INSERT")
    assert work.commits <= 10
    assert len(work.statements) <= 40, work.statements
    for i in ids:  # the views are cached: the next update of each costs nothing
        assert (await cache.user(i)) is not None
    with counted(engine) as again:
        back = await asyncio.gather(*(registrar.register(profile(i), private(i), utcnow()) for i in ids))
    assert again.statements == [] and not any(seen.user_created for seen in back)


async def test_returning_users_not_cached_are_read_in_one_select_and_nothing_is_written(
    engine: AsyncEngine, sessions: Sessions, store: KeyValueStore
) -> None:
    first = Registrar(cache=ViewCache(store, ttl=0), last_seen=LastSeen(sessions))
    ids = list(range(20_000, 20_050))
    await asyncio.gather(*(first.register(profile(i), private(i), utcnow()) for i in ids))
    first_done = await first.register(profile(ids[0]), private(ids[0]), utcnow())
    assert not first_done.user_created
    with counted(engine) as work:
        results = await asyncio.gather(*(first.register(profile(i), private(i), utcnow()) for i in ids))
    assert not any(seen.user_created for seen in results)
    assert work.of("INSERT") == [] and work.of("UPDATE") == [] and work.commits == 0
    assert len(work.of("SELECT")) <= 2, work.statements


async def test_a_group_chat_and_a_changed_profile_in_the_same_group(sessions: Sessions, cache: ViewCache) -> None:
    registrar = Registrar(cache=cache, last_seen=LastSeen(sessions))
    await registrar.register(profile(30_001), private(30_001), utcnow())
    renamed = TelegramProfile(telegram_id=30_001, username="new", first_name="New", language_code="zh")
    group = ChatInfo(chat_id=-100_777, type="supergroup", title="Traders")
    results = await asyncio.gather(
        registrar.register(renamed, group, utcnow()),
        registrar.register(profile(30_002), group, utcnow()),
        registrar.register(None, ChatInfo(chat_id=-100_888, type="channel", title="News"), utcnow()),
    )
    assert [seen.user_created for seen in results] == [False, True, False]
    assert results[0].user is not None and (results[0].user.first_name, results[0].user.locale) == ("New", None)
    assert results[0].chat == results[1].chat and results[0].chat is not None and results[0].chat.title == "Traders"
    assert results[2].user is None and results[2].chat is not None and results[2].chat.type == "channel"
    async with sessions() as session:
        row = await UserRepository(session).by_telegram_id(30_001)
        assert row is not None and (row.first_name, row.username, row.language_code) == ("New", "new", "zh")
    assert await count(sessions, Chat) == 3


async def test_two_processes_registering_the_same_new_users_at_once(engine: AsyncEngine, store: KeyValueStore) -> None:
    """Two replicas (each its own group commit, sessions and cache) see the same new users at once:
    one row each, registered by exactly one of them."""
    replicas = []
    for _ in range(2):
        cache = ViewCache(store, ttl=0)
        sessions = create_sessionmaker(engine, cache)
        replicas.append(Registrar(cache=cache, last_seen=LastSeen(sessions)))
    ids = list(range(40_000, 40_060))
    results = await asyncio.gather(
        *(replica.register(profile(i), private(i), utcnow()) for i in ids for replica in replicas)
    )
    assert created_per_user(results) == dict.fromkeys(ids, 1)
    assert await count(create_sessionmaker(engine), User) == 60
    by_user: dict[int, set[int]] = {}
    for seen in results:
        assert seen.user is not None
        by_user.setdefault(seen.user.telegram_id, set()).add(seen.user.id)
    assert all(len(user_ids) == 1 for user_ids in by_user.values())


@POSTGRES_ONLY
async def test_a_registration_waits_for_another_sessions_uncommitted_insert_of_the_same_user(
    engine: AsyncEngine, store: KeyValueStore
) -> None:
    """On PostgreSQL another replica's transaction has inserted the user and not committed yet: the
    group's INSERT waits for it, then reads that row: not created a second time."""
    sessions = create_sessionmaker(engine)
    registrations = Registrations(sessions)
    async with sessions() as other:
        [row] = await UserRepository(other).insert_many([(profile(50_001), utcnow())])
        waiting = asyncio.create_task(registrations.register(profile(50_001), private(50_001), utcnow()))
        try:
            await wait_for_a_lock_wait(sessions)
            assert not waiting.done()
            await other.commit()
            seen = await asyncio.wait_for(waiting, timeout=10)
        finally:
            if not waiting.done():
                waiting.cancel()
    assert seen.user is not None and seen.user.id == row.id and not seen.user_created
    assert seen.chat is not None and seen.chat.id == 50_001
    assert await count(sessions, User) == 1


async def wait_for_a_lock_wait(sessions: Sessions) -> None:
    """Until some session of this database waits on a lock (pg_stat_activity)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(1000):
        async with sessions() as session:
            if await session.scalar(query):
                return
        await asyncio.sleep(0.01)
    raise AssertionError("the registration never waited for the other transaction")
