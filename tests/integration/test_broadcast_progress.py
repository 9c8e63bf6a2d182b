"""The broadcasts' progress loop beside other replicas: one summary per broadcast however many loops
finish it at once, and the look at running broadcasts narrowing to recent audit rows only once those
below are settled, never past a broadcast still running; while none runs, a look is one statement."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.broadcasts import SETTLE_SECONDS, BroadcastProgress
from db.engine import create_engine, create_sessionmaker
from db.models import AuditLog, User
from services.admin.broadcast import BroadcastDraft, start_broadcast
from services.audit import record_admin_action
from services.i18n import Translations
from services.kv import MemoryStore
from standins.telegram import FakeTelegramServer, FakeUser, make_bot
from tests.backends import POSTGRES_ONLY
from tests.integration.outbox_helpers import Sessions, fast_telegram


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegramServer]:
    async with fast_telegram() as server:
        yield server


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def begin(sessionmaker: Sessions, olga: FakeUser, audience: str = "vip") -> int:
    """A broadcast whose audience is empty (no such users): it has nothing left to send at once."""
    async with sessionmaker() as session:
        state = await start_broadcast(
            session,
            BroadcastDraft(olga.id, audience, text="Hello"),
            chat_id=olga.id,
            message_id=1,
            locale="en",
            default_locale="en",
        )
    return state.id


async def done_rows(sessionmaker: Sessions) -> int:
    async with sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "broadcast_done")
        )
    return int(count or 0)


@POSTGRES_ONLY
async def test_replicas_finishing_a_broadcast_at_once_write_one_summary(
    tg: FakeTelegramServer, sessionmaker: Sessions
) -> None:
    olga = tg.add_user("Olga")
    await tg.send_message(olga, "/start")
    await begin(sessionmaker, olga)
    bot = make_bot(tg)
    try:
        # No shared store (no Redis): only the database keeps them from finishing it twice.
        loops = [BroadcastProgress(bot, sessionmaker, MemoryStore(), Translations(), 5.0) for _ in range(3)]
        finished = await asyncio.gather(*(loop.tick() for loop in loops))
    finally:
        await bot.session.close()
    assert sorted(finished) == [0, 0, 1]
    assert await done_rows(sessionmaker) == 1
    summaries = [m for m in tg.bot_messages(olga) if m.plain_text.startswith("📣 Broadcast #")]
    assert len(summaries) == 1


async def test_the_look_narrows_only_past_settled_audit_rows_and_finished_broadcasts(
    tg: FakeTelegramServer, sessionmaker: Sessions
) -> None:
    olga = tg.add_user("Olga")
    await tg.send_message(olga, "/start")
    async with sessionmaker() as session:
        session.add(User(telegram_id=olga.id, first_name="Olga", invite_code="olga1"))
        await session.commit()
    clock = Monotonic()
    bot = make_bot(tg)
    try:
        loop = BroadcastProgress(bot, sessionmaker, MemoryStore(), Translations(), 5.0, monotonic=clock)
        first = await begin(sessionmaker, olga)
        assert await loop.tick() == 1
        async with sessionmaker() as session:
            await record_admin_action(session, olga.id, "stats", None, "viewed")
        clock.now += SETTLE_SECONDS / 2
        await loop.tick()
        assert loop.horizon == 0  # nothing has settled yet
        clock.now += SETTLE_SECONDS
        await loop.tick()
        settled = loop.horizon
        assert settled >= first  # the finished broadcast and the rows after it are no longer looked at
        # A broadcast to someone (Olga reads English) keeps the look at itself while it runs.
        running = await begin(sessionmaker, olga, "en")
        assert running > settled
        for _ in range(3):
            clock.now += SETTLE_SECONDS
            assert await loop.tick() == 0
            assert loop.horizon < running
    finally:
        await bot.session.close()


async def test_a_database_that_does_not_answer_costs_a_look_not_the_loop(
    tg: FakeTelegramServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'db.sqlite3'}")
    bot = make_bot(tg)
    loop = BroadcastProgress(bot, create_sessionmaker(engine), MemoryStore(), Translations(), 3600.0)
    task = asyncio.create_task(loop.run())
    try:
        loop.poke()  # look now rather than in an hour
        await loop.wait_looks(1, timeout=10)
        loop.poke()  # looks again at once: the loop is alive
        await loop.wait_looks(2, timeout=10)
        assert (loop.failures, task.done()) == (2, False)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await bot.session.close()
        await engine.dispose()
    assert "broadcast progress: reading the outbox failed" in caplog.text


async def test_an_idle_loop_looks_with_one_statement_per_interval(
    tg: FakeTelegramServer, engine: AsyncEngine, sessionmaker: Sessions
) -> None:
    olga = tg.add_user("Olga")
    await tg.send_message(olga, "/start")
    bot = make_bot(tg)
    loop = BroadcastProgress(bot, sessionmaker, MemoryStore(), Translations(), 0.01)
    await begin(sessionmaker, olga)
    assert await loop.tick() == 1  # a broadcast that ran and finished: nothing runs any more
    per_look: Counter[int] = Counter()  # statements by the look they belong to

    def count(*_args: Any) -> None:
        per_look[loop.looks] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    task = asyncio.create_task(loop.run())
    try:
        await loop.wait_looks(5, timeout=10)  # five intervals
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        event.remove(engine.sync_engine, "before_cursor_execute", count)
        await bot.session.close()
    assert loop.failures == 0 and loop.edits == 0
    assert all(per_look[look] == 1 for look in range(5)), per_look
    assert max(per_look.values()) == 1  # and a look the cancel cut short made no more than one either
