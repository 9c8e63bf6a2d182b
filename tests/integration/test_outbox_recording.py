"""The outbox's hot path at volume: sent rows recorded in groups, claims in batches."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.outgoing import RateLimitMiddleware
from bot.sender import OutboxSender
from db.models import Delivery, DeliveryStatus
from db.repositories.deliveries import ClaimedDelivery
from services.delivery import OutboxCounters, OutboxWorker, Sent
from services.ratelimit import MemoryLimiterBackend, OutgoingLimits, Window
from standins.telegram import make_bot
from tests.integration.outbox_helpers import BACKOFF, LEASE_SECONDS, Sessions, ShiftedClock, fast_telegram, push

# The group commit's transaction fails when one of its rows gets message_id 666 (a real database
# error, not a mock): each row is then written alone, and only that one fails.
REFUSE_666 = {
    "sqlite": [
        "CREATE TRIGGER refuse_666 BEFORE UPDATE ON deliveries WHEN NEW.message_id = 666 "
        "BEGIN SELECT RAISE(ABORT, 'refused'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_666() RETURNS trigger AS $$ BEGIN IF NEW.message_id = 666 THEN "
        "RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_666 BEFORE UPDATE ON deliveries FOR EACH ROW EXECUTE FUNCTION refuse_666()",
    ],
}


def _worker(sessionmaker: Sessions) -> OutboxWorker:
    return OutboxWorker(sessionmaker, BACKOFF, LEASE_SECONDS, clock=ShiftedClock(), counters=OutboxCounters())


async def _leased(sessionmaker: Sessions, chats: int) -> list[ClaimedDelivery]:
    await push(sessionmaker, "s1", range(1, chats + 1), text="s1")
    rows = await _worker(sessionmaker).claim(chats)
    assert len(rows) == chats
    return rows


async def _rows(sessionmaker: Sessions) -> list[tuple[int, str, int | None, bool]]:
    async with sessionmaker() as session:
        rows = await session.scalars(select(Delivery).order_by(Delivery.chat_id))
        return [(row.chat_id, row.status, row.message_id, row.paid) for row in rows]


async def test_sent_rows_recorded_at_once_share_a_transaction_each_with_its_own_message(
    sessionmaker: Sessions, engine: AsyncEngine
) -> None:
    """20 answers come at once: the first is written alone, the 19 that queued behind it together,
    each row with its own message_id and paid flag. A row another attempt closed stays closed."""
    rows = await _leased(sessionmaker, 20)
    async with sessionmaker() as session:
        await session.execute(text("UPDATE deliveries SET status = 'dead' WHERE chat_id = 20"))
        await session.commit()
    commits: list[datetime] = []
    event.listen(engine.sync_engine, "commit", lambda _conn: commits.append(datetime.now()))
    recorder = _worker(sessionmaker)
    outcomes = [Sent(message_id=100 + row.chat_id, paid=row.chat_id % 2 == 0) for row in rows]
    statuses = await asyncio.gather(*(recorder.record(row, sent) for row, sent in zip(rows, outcomes, strict=True)))
    assert statuses == [DeliveryStatus.SENT] * 20
    assert len(commits) == 2
    expected = [(chat, DeliveryStatus.SENT, 100 + chat, chat % 2 == 0) for chat in range(1, 20)]
    assert await _rows(sessionmaker) == [*expected, (20, DeliveryStatus.DEAD, None, False)]
    assert (recorder.counters.sent, recorder.counters.paid) == (20, 10)


async def test_a_row_that_cannot_be_recorded_costs_no_other_row_its_result(
    sessionmaker: Sessions, engine: AsyncEngine
) -> None:
    """The group's transaction fails: each row is written alone; only the refused one raises (its
    lease expires and it is sent again: a duplicate, never a loss) and the others are recorded."""
    async with engine.begin() as conn:
        for statement in REFUSE_666[engine.dialect.name]:
            await conn.execute(text(statement))
    rows = await _leased(sessionmaker, 5)
    recorder = _worker(sessionmaker)
    message_ids = [1, 2, 3, 666, 5]
    results = await asyncio.gather(
        *(recorder.record(row, Sent(message_id)) for row, message_id in zip(rows, message_ids, strict=True)),
        return_exceptions=True,
    )
    assert [result == DeliveryStatus.SENT for result in results] == [True, True, True, False, True]
    assert "refused" in str(results[3])
    assert [(chat, status, message_id) for chat, status, message_id, _ in await _rows(sessionmaker)] == [
        (1, DeliveryStatus.SENT, 1),
        (2, DeliveryStatus.SENT, 2),
        (3, DeliveryStatus.SENT, 3),
        (4, DeliveryStatus.SENDING, None),
        (5, DeliveryStatus.SENT, 5),
    ]
    assert recorder.counters.sent == 4


class CountingWorker(OutboxWorker):
    """The production worker, noting how many rows each claim leased."""

    claims: list[int]

    async def claim(self, limit: int) -> list[ClaimedDelivery]:
        rows = await super().claim(limit)
        self.claims.append(len(rows))
        return rows


async def test_the_sender_refills_in_batches_not_one_row_per_finished_send(sessionmaker: Sessions) -> None:
    """16 sends in flight at most, finishing one by one: a new claim waits until a quarter of the
    places are free, so 40 rows take a handful of claims, not one per finished send."""
    async with fast_telegram() as tg:
        users = [tg.add_user(f"U{i}") for i in range(40)]
        await push(sessionmaker, "s1", [user.id for user in users], text="s1")
        counting = CountingWorker(sessionmaker, BACKOFF, LEASE_SECONDS, clock=ShiftedClock())
        counting.claims = []
        bot = make_bot(tg)
        # Sends paced 5 ms apart (as a push at 200/s): they finish one by one, each waking the sender.
        paced = OutgoingLimits(overall=Window(limit=200, seconds=1.0), safety=0.0)
        bot.session.middleware(RateLimitMiddleware(MemoryLimiterBackend(limits=paced)))
        sender = OutboxSender(bot, counting, concurrency=16, batch_size=50, poll_seconds=3600)
        task = asyncio.create_task(sender.run())
        try:
            sender.wake()
            await sender.wait_recorded(40, timeout=20)
        finally:
            await sender.stop(grace=5)
            await task
            await bot.session.close()
    assert all(tg.bot_texts(user) == ["s1"] for user in users)
    leased = [n for n in counting.claims if n]
    assert sum(leased) == 40 and leased[0] == 16
    assert all(n >= 4 for n in leased[1:-1]), counting.claims  # 4 rows or more a claim, but for the last
