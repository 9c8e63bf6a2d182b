"""Issue 10, item 2: a returning user's update costs no database write, and no query while the views
of the user and the chat are cached; `last_seen_at` is written in batches; changes (language, ban,
Telegram profile) show on the next update."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import User
from services.kv import RedisStore
from services.users import set_banned
from standins.telegram import FakeTelegramServer, FakeUser
from tests.backends import POSTGRES_ONLY
from tests.harness import RunningBot, running_bot, without_scheduler

# Nothing in the background touches the database while a test counts statements.
QUIET = {
    "outbox_poll_seconds": 3600,
    "hold_sweep_seconds": 3600,
    "last_seen_flush_seconds": 3600,
    "broadcast_progress_seconds": 3600,
}


@dataclass
class Statements:
    seen: list[str] = field(default_factory=list)

    def of(self, verb: str) -> list[str]:
        return [s for s in self.seen if s.lstrip().upper().startswith(verb)]


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[Statements]:
    """Every SQL statement the engine runs inside the block."""
    seen = Statements()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def command(app: RunningBot, tg: FakeTelegramServer, user: FakeUser, text: str) -> str:
    """Send a command, wait for the reply and for the bot to be idle; the reply's text."""
    before = len(tg.bot_messages(user))
    await tg.send_command(user, text)
    await tg.wait_for_messages(user, before + 1, timeout=10)
    await app.settle()
    return tg.bot_messages(user)[-1].plain_text


async def last_seen(app: RunningBot, user: FakeUser) -> datetime:
    async with app.resources.sessionmaker() as session:
        value = await session.scalar(select(User.last_seen_at).where(User.telegram_id == user.id))
    assert value is not None
    return value


async def test_a_returning_users_help_writes_nothing_and_reads_at_most_once(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any]
) -> None:
    # Without the cache: one SELECT (the user and the chat together), no INSERT or UPDATE.
    async with running_bot(settings_factory(user_cache_seconds=0, **QUIET), tg) as app:
        await without_scheduler(app)
        ann = tg.add_user("Ann", "ann", language_code="en")
        await command(app, tg, ann, "/start")
        with statements(app.resources.engine) as sql:
            assert (await command(app, tg, ann, "/help")).startswith("What I can do")
        assert sql.of("INSERT") == [] and sql.of("UPDATE") == []
        assert len(sql.of("SELECT")) == 1, sql.seen


async def test_a_cached_returning_user_costs_no_query_at_all(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any]
) -> None:
    async with running_bot(settings_factory(**QUIET), tg) as app:
        await without_scheduler(app)
        ann = tg.add_user("Ann", "ann", language_code="en")
        with statements(app.resources.engine) as first:
            await command(app, tg, ann, "/start")
        assert first.of("INSERT"), "a new user is inserted"
        with statements(app.resources.engine) as sql:
            for _ in range(3):
                assert (await command(app, tg, ann, "/help")).startswith("What I can do")
        assert sql.seen == []


@contextmanager
def checkouts(engine: AsyncEngine) -> Iterator[list[object]]:
    """Every connection checked out of the engine's pool inside the block."""
    seen: list[object] = []

    def record(connection: object, *_args: Any) -> None:
        seen.append(connection)

    event.listen(engine.sync_engine.pool, "checkout", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine.pool, "checkout", record)


async def test_a_cached_returning_users_help_checks_out_no_connection(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any]
) -> None:
    async with running_bot(settings_factory(**QUIET), tg) as app:
        await without_scheduler(app)
        ann = tg.add_user("Ann", "ann", language_code="en")
        with checkouts(app.resources.engine) as first:
            await command(app, tg, ann, "/start")
        assert first, "registering a new user takes a connection"
        with checkouts(app.resources.engine) as taken:
            for _ in range(3):
                assert (await command(app, tg, ann, "/help")).startswith("What I can do")
        assert taken == []


async def test_new_users_starting_at_once_are_registered_together_and_keep_their_inviter(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any]
) -> None:
    async with running_bot(settings_factory(throttle_enabled=False, **QUIET), tg) as app:
        await without_scheduler(app)
        ann = tg.add_user("Ann")
        await command(app, tg, ann, "/start")
        async with app.resources.sessionmaker() as session:
            inviter = await session.scalar(select(User).where(User.telegram_id == ann.id))
        assert inviter is not None
        users = [tg.add_user(f"U{i}") for i in range(40)]
        invited = users[::2]
        with statements(app.resources.engine) as sql:
            await asyncio.gather(
                *(tg.send_command(user, "/start", inviter.invite_code if user in invited else None) for user in users)
            )
            for user in users:
                await tg.wait_for_messages(user, 1, timeout=10)
            await app.settle()
        assert all(tg.bot_messages(user)[0].plain_text.startswith("👋 Hi, U") for user in users)
        user_inserts = [s for s in sql.of("INSERT") if s.lstrip().upper().startswith("INSERT INTO USERS")]
        assert 1 <= len(user_inserts) <= 10, len(user_inserts)
        async with app.resources.sessionmaker() as session:
            rows = {row.telegram_id: row for row in await session.scalars(select(User))}
            assert await session.scalar(select(func.count()).select_from(User)) == 41
        for user in users:
            expected = inviter.id if user in invited else None
            assert rows[user.id].inviter_id == expected, user.first_name
        assert rows[ann.id].inviter_id is None


async def test_last_seen_is_written_in_batches_and_at_shutdown(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any]
) -> None:
    ann, bob = tg.add_user("Ann"), tg.add_user("Bob")
    async with running_bot(settings_factory(**QUIET), tg) as app:
        await command(app, tg, ann, "/start")
        await command(app, tg, bob, "/start")
        first_seen = await last_seen(app, ann)
        with statements(app.resources.engine) as sql:
            await command(app, tg, ann, "/help")
            await command(app, tg, bob, "/help")
        assert sql.seen == [] and await last_seen(app, ann) == first_seen
        assert app.resources.registrar.last_seen.pending == 2
        with statements(app.resources.engine) as flush:
            await app.resources.registrar.last_seen.flush()
        assert len(flush.of("UPDATE")) == 1, flush.seen  # both users in one statement
        assert await last_seen(app, ann) > first_seen and app.resources.registrar.last_seen.pending == 0
        flushed = await last_seen(app, bob)
        await command(app, tg, bob, "/help")
        sessionmaker = app.resources.sessionmaker
    # The bot stopped (engine disposed): what was noted since the last flush was written at shutdown.
    async with running_bot(settings_factory(**QUIET), tg) as again:
        assert sessionmaker is not again.resources.sessionmaker
        assert await last_seen(again, bob) > flushed


async def test_a_language_choice_shows_on_the_next_update(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any]
) -> None:
    async with running_bot(settings_factory(**QUIET), tg) as app:
        ann = tg.add_user("Ann", language_code="en")
        assert (await command(app, tg, ann, "/help")).startswith("What I can do")  # Ann's view is cached
        await command(app, tg, ann, "/language")
        await tg.press_button(ann, "中文")
        await tg.wait_until(lambda: tg.bot_messages(ann)[-1].plain_text == "✅ 语言已切换为中文。", what="the choice")
        assert (await command(app, tg, ann, "/help")).startswith("我能做什么")


async def test_telegram_profile_changes_refresh_the_row(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any]
) -> None:
    async with running_bot(settings_factory(**QUIET), tg) as app:
        ann = tg.add_user("Ann", "ann", language_code="en")
        assert "Ann" in await command(app, tg, ann, "/start")
        ann.first_name, ann.username, ann.language_code = "Annie", "annie", "zh-hans"
        with statements(app.resources.engine) as sql:
            reply = await command(app, tg, ann, "/start")
        assert "Annie" in reply and reply.startswith("👋 欢迎回来")
        assert len(sql.of("UPDATE")) == 1  # the changed profile, once
        with statements(app.resources.engine) as sql:
            await command(app, tg, ann, "/help")
        assert sql.seen == []
        async with app.resources.sessionmaker() as session:
            row = await session.scalar(select(User).where(User.telegram_id == ann.id))
        assert row is not None and (row.first_name, row.username, row.language_code) == ("Annie", "annie", "zh-hans")


async def test_a_ban_takes_effect_on_the_next_update_despite_the_cache(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any]
) -> None:
    async with running_bot(settings_factory(**QUIET), tg) as app:
        eve, ann = tg.add_user("Eve"), tg.add_user("Ann")
        await command(app, tg, eve, "/help")  # Eve's view is cached
        async with app.resources.sessionmaker() as session:
            user_id = await session.scalar(select(User.id).where(User.telegram_id == eve.id))
            assert user_id is not None
            await set_banned(session, user_id)
        await tg.send_command(eve, "/help")
        await command(app, tg, ann, "/help")
        await app.settle()
        # The /help after the ban got the banned user's one line, not the help.
        assert [m.plain_text for m in tg.bot_messages(eve)[1:]] == ["Sorry, this account can no longer use the bot."]
        async with app.resources.sessionmaker() as session:
            await set_banned(session, user_id, banned=False)
        assert (await command(app, tg, eve, "/help")).startswith("What I can do")


@POSTGRES_ONLY
async def test_a_cached_returning_users_help_reads_redis_once(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The update's reads (user and chat views, flood counter, FSM state) are one Redis call; the
    only other is the outgoing limiter's reservation for the reply."""
    async with running_bot(settings_factory(**QUIET), tg) as app:
        await without_scheduler(app)
        store = app.resources.store
        assert isinstance(store, RedisStore)
        ann = tg.add_user("Ann", "ann", language_code="en")
        await command(app, tg, ann, "/start")
        await command(app, tg, ann, "/help")  # the scripts are loaded by now
        sent: list[tuple[Any, ...]] = []
        execute = store.redis.execute_command

        async def recording(*args: Any, **options: Any) -> Any:
            sent.append(args)
            return await execute(*args, **options)

        monkeypatch.setattr(store.redis, "execute_command", recording)
        assert (await command(app, tg, ann, "/help")).startswith("What I can do")
    reads = [call for call in sent if call[0] == "EVALSHA" and call[1] == store._read.sha]
    assert len(reads) == 1, sent
    keys = [key.removeprefix(store.prefix) for key in reads[0][3 : 3 + int(reads[0][2])]]
    assert keys[0].startswith(f"throttle:{ann.id}:")  # the flood counter
    assert keys[1:] == [f"uv1:{ann.id}", f"cv1:{ann.id}", f"fsm:{ann.id}:{ann.id}:state"]
    others = [call for call in sent if call not in reads]
    assert len(others) == 1 and others[0][0] == "EVALSHA", sent  # the limiter's reservation
