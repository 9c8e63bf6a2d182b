"""The cached views of users and chats are dropped by the commit that changes their rows (an ORM
flush or a repository's bulk UPDATE), not by one that rolls back; `last_seen_at` batches are written
in one statement and kept when the database fails."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import create_engine, create_sessionmaker
from db.models import User, utcnow
from db.repositories.credits import AccountUserRepository
from db.repositories.users import ChatRepository, TelegramProfile, UserRepository
from services.kv import KeyValueStore, RedisStore
from services.user_cache import LastSeen, Registrar, ViewCache
from services.users import ChatInfo, Seen, set_banned, set_bot_blocked, set_locale

Sessions = async_sessionmaker[AsyncSession]
ANN = TelegramProfile(telegram_id=501, username="ann", first_name="Ann", language_code="en")
PRIVATE = ChatInfo(chat_id=501, type="private", title="Ann")


@pytest.fixture
def cache(store: KeyValueStore) -> ViewCache:
    return ViewCache(store, ttl=60)


@pytest.fixture
def sessions(engine: AsyncEngine, cache: ViewCache) -> Sessions:
    return create_sessionmaker(engine, cache)


@pytest.fixture
def registrar(sessions: Sessions, cache: ViewCache) -> Registrar:
    return Registrar(cache=cache, last_seen=LastSeen(sessions))


async def seen(sessions: Sessions, registrar: Registrar, profile: TelegramProfile = ANN) -> Seen:
    return await registrar.register(profile, PRIVATE, utcnow())


async def test_the_first_update_registers_and_the_next_are_served_from_the_cache(
    sessions: Sessions, registrar: Registrar, cache: ViewCache
) -> None:
    first = await seen(sessions, registrar)
    assert first.user_created and first.user is not None and first.chat is not None
    assert await cache.user(ANN.telegram_id) == first.user and await cache.chat(PRIVATE.chat_id) == first.chat
    again = await seen(sessions, registrar)
    assert not again.user_created and (again.user, again.chat) == (first.user, first.chat)
    assert registrar.last_seen.pending == 1


@pytest.mark.parametrize("change", ["locale", "plan", "orm", "blocked", "banned", "downgrade"])
async def test_a_commit_that_changes_a_user_drops_the_cached_view(
    sessions: Sessions, registrar: Registrar, cache: ViewCache, change: str
) -> None:
    user = (await seen(sessions, registrar)).user
    assert user is not None
    async with sessions() as session:
        if change == "locale":
            await set_locale(session, user.id, "zh")
        elif change == "blocked":
            await set_bot_blocked(session, user.telegram_id, True)
        elif change == "banned":
            await set_banned(session, user.id)
        elif change == "orm":
            row = await session.get(User, user.id)
            assert row is not None
            row.banned = True
            await session.commit()
        elif change == "plan":
            await AccountUserRepository(session).set_plan(user.id, "pro", utcnow() + timedelta(days=1))
            await session.commit()
        else:
            await AccountUserRepository(session).set_plan(user.id, "pro", utcnow() - timedelta(days=1))
            await session.commit()
            user = (await seen(sessions, registrar)).user  # the expired plan, cached
            assert user is not None and user.plan == "pro"
            assert await AccountUserRepository(session).downgrade_expired(utcnow()) == 1
            await session.commit()
    assert await cache.user(user.telegram_id) is None
    refreshed = (await seen(sessions, registrar)).user
    assert refreshed is not None and refreshed != user


async def test_a_rolled_back_change_keeps_the_view_and_an_unchanged_flush_too(
    sessions: Sessions, registrar: Registrar, cache: ViewCache
) -> None:
    user = (await seen(sessions, registrar)).user
    assert user is not None
    async with sessions() as session:
        await UserRepository(session).set_locale(user.id, "zh")
        await session.rollback()
        row = await session.get(User, user.id)
        assert row is not None
        row.first_name = row.first_name  # touched, not modified
        await session.commit()
    assert await cache.user(user.telegram_id) == user


async def test_a_chat_the_bot_left_is_dropped_and_marked_active_again_by_its_next_update(
    sessions: Sessions, registrar: Registrar, cache: ViewCache
) -> None:
    chat = (await seen(sessions, registrar)).chat
    assert chat is not None and chat.active
    async with sessions() as session:
        await ChatRepository(session).set_active(chat.id, False)
        await session.commit()
    assert await cache.chat(chat.id) is None
    again = (await seen(sessions, registrar)).chat
    assert again is not None and again.active


async def test_a_profile_change_is_written_once(sessions: Sessions, registrar: Registrar, cache: ViewCache) -> None:
    await seen(sessions, registrar)
    renamed = TelegramProfile(telegram_id=ANN.telegram_id, username="annie", first_name="Annie", language_code="zh")
    user = (await seen(sessions, registrar, renamed)).user
    assert user is not None and (user.username, user.first_name, user.language_code) == ("annie", "Annie", "zh")
    assert await cache.user(ANN.telegram_id) == user
    async with sessions() as session:
        row = await session.scalar(select(User).where(User.telegram_id == ANN.telegram_id))
    assert row is not None and (row.username, row.first_name, row.language_code) == ("annie", "Annie", "zh")


async def test_last_seen_is_written_for_every_noted_user_in_one_flush(sessions: Sessions, registrar: Registrar) -> None:
    profiles = [
        TelegramProfile(telegram_id=900 + i, username=None, first_name=f"U{i}", language_code=None) for i in range(3)
    ]
    ids = []
    for profile in profiles:
        view = (await registrar.register(profile, None, utcnow())).user
        assert view is not None
        ids.append(view.id)
    later = utcnow() + timedelta(minutes=5)
    last_seen = LastSeen(sessions, clock=lambda: later)
    for user_id in ids:
        last_seen.note(user_id)
    last_seen.note(ids[0])
    assert last_seen.pending == 3
    await last_seen.flush()
    async with sessions() as session:
        stamps = (await session.scalars(select(User.last_seen_at).where(User.id.in_(ids)))).all()
    assert stamps == [later] * 3 and last_seen.pending == 0


@pytest.fixture
async def unreachable_engine() -> AsyncIterator[AsyncEngine]:
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none", pool_timeout=1)
    yield engine
    await engine.dispose()


async def test_a_failed_flush_keeps_the_users_for_the_next_one(unreachable_engine: AsyncEngine) -> None:
    last_seen = LastSeen(create_sessionmaker(unreachable_engine))
    last_seen.note(7)
    with pytest.raises(OSError):
        await last_seen.flush()
    assert last_seen.pending == 1


async def test_a_store_that_fails_after_the_commit_does_not_fail_the_commit(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    broken = RedisStore.from_url("redis://127.0.0.1:1/0", wait_timeout=1)
    try:
        sessions = create_sessionmaker(engine, ViewCache(broken, ttl=60))
        async with sessions() as session:
            user, _ = await UserRepository(session).create(ANN, utcnow())
            user_id = user.id
            await session.commit()
        with caplog.at_level(logging.WARNING, logger="services.user_cache"):
            async with sessions() as session:
                await set_locale(session, user_id, "zh")
        assert "cached views not dropped" in caplog.text
        async with sessions() as session:
            assert await session.scalar(select(User.locale).where(User.id == user_id)) == "zh"
    finally:
        await broken.close()


async def test_many_keys_are_read_and_written_together_with_their_ttl(store: KeyValueStore) -> None:
    """What the view cache reads an update's user and chat with (MGET on Redis) and writes a new
    user's views with (one pipeline): order kept, absent keys None, the TTL on every key."""
    assert await store.get_many([]) == []
    await store.set_many({}, 60)
    await store.set_many({"a": b"1", "b": b"2"}, ttl=60)
    await store.set("c", b"3")
    assert await store.get_many(["b", "missing", "a", "c"]) == [b"2", None, b"1", b"3"]
    if isinstance(store, RedisStore):
        ttl_ms = await store.redis.pttl(store.prefix + "a")
        assert 0 < ttl_ms <= 60_000
        assert await store.redis.pttl(store.prefix + "c") == -1


async def test_a_cached_update_reads_its_user_and_chat_in_one_go(
    sessions: Sessions, registrar: Registrar, cache: ViewCache
) -> None:
    first = await seen(sessions, registrar)
    assert await cache.views(ANN.telegram_id, PRIVATE.chat_id) == (first.user, first.chat)
    assert await cache.views(ANN.telegram_id, None) == (first.user, None)
    assert await cache.views(None, PRIVATE.chat_id) == (None, first.chat)
    assert await cache.views(None, None) == (None, None)
    assert await cache.views(999, PRIVATE.chat_id) == (None, first.chat)
