"""Outbox tests: a real aiogram Bot and the production sender against the fake Bot API."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram import Bot
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.sender import OutboxSender
from db.models import Chat, Delivery, User, utcnow
from db.repositories.users import ChatRepository, TelegramProfile, UserRepository
from services.delivery import (
    OutboxCounters,
    OutboxMessage,
    OutboxWake,
    OutboxWorker,
    RetryPolicy,
    add_media,
    enqueue,
)
from standins.telegram import FakeTelegramServer, RateLimits, make_bot

Sessions = async_sessionmaker[AsyncSession]
LEASE_SECONDS = 60.0
BACKOFF = RetryPolicy(base_seconds=4.0, cap_seconds=60.0, max_attempts=5, rng=random.Random(7))
# Telegram's limits × 100: the fake still judges every send, and 2,000 rows drain in seconds.
FAST_LIMITS = RateLimits(
    global_capacity=3000,
    global_per_second=3000,
    private_capacity=300,
    private_per_second=100,
    group_capacity=2000,
    group_per_second=2000 / 60,
)

# The bot's own limiter (OUTGOING_*) set a little under FAST_LIMITS: no 429 when it keeps to them.
FAST_OUTGOING: dict[str, float] = {
    "outgoing_per_second": 1000,
    "outgoing_private_per_second": 100,
    "outgoing_private_burst": 100,
    "outgoing_group_per_minute": 1000,
}


@contextlib.asynccontextmanager
async def fast_telegram() -> AsyncIterator[FakeTelegramServer]:
    """The fake Bot API with its flood limits on, scaled up (these tests send without the limiter)."""
    async with FakeTelegramServer(rate_limits=FAST_LIMITS) as server:
        yield server


class ShiftedClock:
    """Real UTC time plus an offset the test moves forward (leases expire, backoffs end) at once."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class Outbox:
    tg: FakeTelegramServer
    sessionmaker: Sessions
    sender: OutboxSender
    clock: ShiftedClock
    wake: OutboxWake  # the sender's, as `Services.outbox_wake` in the bot

    @property
    def counters(self) -> OutboxCounters:
        return self.sender.worker.counters

    async def push(self, ref: str | int, chat_ids: Iterable[int], *, kind: str = "signal", **fields: object) -> int:
        """Enqueue and commit as a service would: the commit wakes the sender."""
        return await push(self.sessionmaker, ref, chat_ids, kind=kind, now=self.clock(), wake=self.wake, **fields)

    async def media(self, data: bytes) -> str:
        async with self.sessionmaker() as session:
            sha256 = await add_media(session, data, "chart.png")
            await session.commit()
        return sha256

    async def settle(self, recorded: int, timeout: float = 20.0) -> None:
        """Until `recorded` attempts have finished (results in the database)."""
        await self.sender.wait_recorded(recorded, timeout)

    async def rows(self, chat_id: int | None = None) -> list[Delivery]:
        async with self.sessionmaker() as session:
            query = select(Delivery).order_by(Delivery.id)
            if chat_id is not None:
                query = query.where(Delivery.chat_id == chat_id)
            return list(await session.scalars(query))

    async def row(self, ref: str, chat_id: int, kind: str = "signal") -> Delivery:
        async with self.sessionmaker() as session:
            found = await session.scalar(
                select(Delivery).where(Delivery.kind == kind, Delivery.ref_id == ref, Delivery.chat_id == chat_id)
            )
        assert found is not None, f"no row {kind}/{ref} for chat {chat_id}"
        return found


async def push(
    sessionmaker: Sessions,
    ref: str | int,
    chat_ids: Iterable[int],
    *,
    kind: str = "signal",
    now: datetime | None = None,
    wake: OutboxWake | None = None,
    **fields: object,
) -> int:
    """Enqueue one message for these chats in a transaction of its own."""
    async with sessionmaker() as session:
        payload = OutboxMessage.build(**fields)
        inserted = await enqueue(session, kind=kind, ref_id=ref, chat_ids=chat_ids, payload=payload, now=now, wake=wake)
        await session.commit()
    return inserted


def worker(sessionmaker: Sessions, clock: ShiftedClock, *, lease: float = LEASE_SECONDS) -> OutboxWorker:
    return OutboxWorker(sessionmaker, BACKOFF, lease, clock=clock, counters=OutboxCounters())


@contextlib.asynccontextmanager
async def running_sender(
    tg: FakeTelegramServer,
    sessionmaker: Sessions,
    *,
    bot: Bot | None = None,
    clock: ShiftedClock | None = None,
    concurrency: int = 8,
    batch_size: int = 50,
    paid_broadcast: bool = False,
) -> AsyncIterator[Outbox]:
    """The production sender as a task. It never polls here (an hour between polls): it works only
    when woken by a committed enqueue or by a finished send."""
    clock = clock or ShiftedClock()
    own_bot = bot is None
    bot = bot or make_bot(tg)
    wake = OutboxWake()
    sender = OutboxSender(
        bot,
        worker(sessionmaker, clock),
        concurrency=concurrency,
        batch_size=batch_size,
        poll_seconds=3600,
        paid_broadcast=paid_broadcast,
        wake=wake,
    )
    task = asyncio.create_task(sender.run(), name="test-outbox-sender")
    try:
        yield Outbox(tg, sessionmaker, sender, clock, wake)
    finally:
        await sender.stop(grace=5)
        await task
        if own_bot:
            await bot.session.close()


async def add_user(sessionmaker: Sessions, telegram_id: int) -> None:
    async with sessionmaker() as session:
        await UserRepository(session).upsert(TelegramProfile(telegram_id, None, "Ann", "en"), utcnow())
        await session.commit()


async def add_chat(sessionmaker: Sessions, chat_id: int, type_: str = "supergroup") -> None:
    async with sessionmaker() as session:
        await ChatRepository(session).upsert(chat_id, type_, "Traders")
        await session.commit()


async def chat_active(sessionmaker: Sessions, chat_id: int) -> bool | None:
    async with sessionmaker() as session:
        chat = await session.get(Chat, chat_id)
        return None if chat is None else chat.active


async def user_blocked(sessionmaker: Sessions, telegram_id: int) -> bool:
    async with sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        assert user is not None
        return user.bot_blocked
