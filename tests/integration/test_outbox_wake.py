"""Services wake this process's outbox sender by committing: the rows go out at once, not at the
next poll (an hour away in these tests), and never before their transaction commits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.sender import OutboxSender
from db.repositories.deliveries import ClaimedDelivery
from services.delivery import OutboxMessage, OutboxWake, OutboxWorker, enqueue
from standins.telegram import FakeTelegramServer, make_bot
from tests.integration.outbox_helpers import BACKOFF, LEASE_SECONDS, Sessions, ShiftedClock, fast_telegram


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegramServer]:
    async with fast_telegram() as server:
        yield server


class ClaimWatchingWorker(OutboxWorker):
    """The production worker, telling the test when a claim found nothing (the sender then waits)."""

    idle: asyncio.Event

    async def claim(self, limit: int) -> list[ClaimedDelivery]:
        rows = await super().claim(limit)
        if not rows:
            self.idle.set()
        return rows


async def test_a_committed_enqueue_wakes_the_sender_at_once(tg: FakeTelegramServer, sessionmaker: Sessions) -> None:
    ann = tg.add_user("Ann")
    watching = ClaimWatchingWorker(sessionmaker, BACKOFF, LEASE_SECONDS, clock=ShiftedClock())
    watching.idle = asyncio.Event()
    wake = OutboxWake()  # `Services.outbox_wake` in the bot
    bot = make_bot(tg)
    sender = OutboxSender(bot, watching, poll_seconds=3600, wake=wake)  # it polls once an hour
    task = asyncio.create_task(sender.run())
    try:
        await watching.idle.wait()  # the sender found nothing and waits
        async with sessionmaker() as session:
            payload = OutboxMessage.build(text="BTC long")
            assert await enqueue(session, kind="signal", ref_id=1, chat_ids=[ann.id], payload=payload, wake=wake)
            assert not wake.is_set()  # armed only: the row is not committed yet
            await session.commit()
        await sender.wait_recorded(1, timeout=10)  # only the commit can have woken it
    finally:
        await sender.stop(grace=5)
        await task
        await bot.session.close()
    assert tg.bot_texts(ann) == ["BTC long"]
    assert watching.counters.sent == 1


async def test_a_rollback_or_a_savepoint_does_not_wake(sessionmaker: Sessions) -> None:
    wake = OutboxWake()
    payload = OutboxMessage.build(text="BTC long")
    async with sessionmaker() as session:
        await enqueue(session, kind="signal", ref_id=1, chat_ids=[5], payload=payload, wake=wake)
        await session.rollback()
        assert not wake.is_set()
        async with session.begin_nested():
            await enqueue(session, kind="signal", ref_id=2, chat_ids=[5], payload=payload, wake=wake)
        assert not wake.is_set()  # the savepoint is released, the transaction not committed
        await session.commit()
        assert wake.is_set()
        wake.clear()
        assert not await enqueue(session, kind="signal", ref_id=2, chat_ids=[5], payload=payload, wake=wake)
        await session.commit()
    assert not wake.is_set()  # nothing new: nothing to send
