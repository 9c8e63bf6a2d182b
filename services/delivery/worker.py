"""The sender's side of the outbox: lease due rows and record what Telegram answered, in short
transactions of their own (commits; sent rows several at a time), so no database session is ever
held across a Bot API call.

The sender (bot/sender.py) talks to Telegram and turns each answer into an `Outcome`; this module
decides what the row, the chat and the outbox become.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import DeliveryStatus, utcnow
from db.repositories.deliveries import ClaimedDelivery, DeliveryRepository, SentDelivery
from db.repositories.users import ChatRepository, UserRepository
from services.delivery.policy import RetryPolicy
from services.delivery.stats import OutboxCounters, OutboxStats
from services.feeds.chats import move_migrated_chat

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Sent:
    message_id: int
    paid: bool = False


@dataclass(frozen=True)
class Retry:
    """A temporary failure (network, 5xx, 429): tried again after `retry_after` or the backoff."""

    error: str
    retry_after: float | None = None
    rate_limited: bool = False


@dataclass(frozen=True)
class Dead:
    """A permanent failure of this message (400 other than the cases below)."""

    error: str


@dataclass(frozen=True)
class ChatGone:
    """The chat refuses every message (403 blocked/kicked, 400 chat not found)."""

    error: str


@dataclass(frozen=True)
class ChatMoved:
    """The group became a supergroup with this id."""

    new_chat_id: int


@dataclass(frozen=True)
class StaleMedia:
    """Telegram refused the stored file_id of this media: upload it again."""

    sha256: str
    error: str


Unsent = Retry | Dead | ChatGone | ChatMoved | StaleMedia
Outcome = Sent | Unsent


@dataclass(frozen=True)
class _SentRow:
    """A sent row waiting for the group commit that records it."""

    row: SentDelivery
    written: asyncio.Future[None]


@dataclass(frozen=True)
class MediaFile:
    sha256: str
    data: bytes
    filename: str
    file_id: str | None


class OutboxWorker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        policy: RetryPolicy,
        lease_seconds: float,
        *,
        clock: Clock = utcnow,
        counters: OutboxCounters | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.policy = policy
        self.lease = timedelta(seconds=lease_seconds)
        self.clock = clock
        self.counters = counters or OutboxCounters()
        # SQLite has one writer: taking turns here beats every send's transaction retrying on
        # "database is locked" (its busy handler sleeps). PostgreSQL needs no such turn.
        self._one_writer = sessionmaker.kw["bind"].dialect.name == "sqlite"
        self._write_turn = asyncio.Lock()
        self._sent: list[_SentRow] = []  # sent rows for the next group commit
        self._sent_turn = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        async with contextlib.AsyncExitStack() as stack:
            if self._one_writer:
                await stack.enter_async_context(self._write_turn)
            session = await stack.enter_async_context(self.sessionmaker())
            yield session
            await session.commit()

    async def claim(self, limit: int) -> list[ClaimedDelivery]:
        now = self.clock()
        async with self._writing() as session:
            return await DeliveryRepository(session).claim(now, now + self.lease, limit)

    async def renew(self, rows: list[ClaimedDelivery]) -> int:
        """Extend the leases of rows this process is still sending."""
        now = self.clock()
        async with self._writing() as session:
            return await DeliveryRepository(session).renew(rows, now + self.lease)

    async def media(self, sha256: str) -> MediaFile | None:
        async with self.sessionmaker() as session:
            row = await DeliveryRepository(session).media(sha256)
            return (
                None
                if row is None
                else MediaFile(sha256=row.sha256, data=row.data, filename=row.filename, file_id=row.file_id)
            )

    async def remember_file_id(self, sha256: str, file_id: str) -> None:
        async with self._writing() as session:
            await DeliveryRepository(session).set_file_id(sha256, file_id)
        self.counters.uploads += 1

    async def record(self, row: ClaimedDelivery, outcome: Outcome) -> DeliveryStatus:
        """Write the outcome of one attempt; the row's intended new status.

        Sent rows are recorded in groups (a group commit): those that come while a group is being
        written wait for it, then the first of them writes them all in one statement, so a busy
        sender pays one transaction per group instead of one per message. Should that fail, each is
        written alone: one row's failure costs no other row its result. Any other outcome is written
        alone, at once."""
        if not isinstance(outcome, Sent):
            now = self.clock()
            async with self._writing() as session:
                return await self._apply(DeliveryRepository(session), row, outcome, now)
        entry = _SentRow(
            SentDelivery(row.id, outcome.message_id, outcome.paid), asyncio.get_running_loop().create_future()
        )
        self._sent.append(entry)
        async with self._sent_turn:
            if not entry.written.done():
                group, self._sent = self._sent, []
                try:
                    await self._write_sent(group)
                finally:
                    # A writer cancelled mid-way: the next one records the other rows of its group.
                    self._sent[:0] = [e for e in group if e is not entry and not e.written.done()]
        entry.written.result()  # this row's error, if recording it failed
        return DeliveryStatus.SENT

    async def _write_sent(self, group: list[_SentRow]) -> None:
        if len(group) > 1:
            try:
                await self._mark_sent([entry.row for entry in group])
            except (SQLAlchemyError, OSError) as exc:
                log.warning("outbox: recording %d sent rows together failed, one by one now: %s", len(group), exc)
            else:
                for entry in group:
                    entry.written.set_result(None)
                return
        for entry in group:
            try:
                await self._mark_sent([entry.row])
            except (SQLAlchemyError, OSError) as exc:
                entry.written.set_exception(exc)
            else:
                entry.written.set_result(None)

    async def _mark_sent(self, rows: list[SentDelivery]) -> None:
        now = self.clock()
        async with self._writing() as session:
            await DeliveryRepository(session).mark_sent_many(rows, now)
        self.counters.sent += len(rows)
        self.counters.paid += sum(row.paid for row in rows)

    async def _apply(
        self, repository: DeliveryRepository, row: ClaimedDelivery, outcome: Unsent, now: datetime
    ) -> DeliveryStatus:
        counters = self.counters
        match outcome:
            case Retry(error=error, retry_after=retry_after, rate_limited=rate_limited):
                counters.rate_limited += int(rate_limited)
                if retry_after is None and self.policy.exhausted(row.attempts):
                    return await self._dead(repository, row, f"gave up after {row.attempts} attempts: {error}")
                wait = retry_after if retry_after is not None else self.policy.delay(row.attempts)
                await repository.mark_failed(row, error, now + timedelta(seconds=wait))
                counters.retried += 1
                return DeliveryStatus.FAILED
            case Dead(error=error):
                return await self._dead(repository, row, error)
            case ChatGone(error=error):
                status = await self._dead(repository, row, error)
                if row.chat_id > 0:  # a private chat: the user blocked the bot (or is gone)
                    await UserRepository(repository.session).set_bot_blocked(row.chat_id, True)
                else:
                    await ChatRepository(repository.session).set_active(row.chat_id, False)
                counters.skipped += await repository.skip_chat(row.chat_id, f"chat unreachable: {error}")
                return status
            case ChatMoved(new_chat_id=new_chat_id):
                if new_chat_id == row.chat_id:
                    return await self._dead(repository, row, "migrated to itself")
                moved = await move_migrated_chat(repository.session, row.chat_id, new_chat_id, now)
                counters.moved += moved.deliveries
                log.info("chat %s became supergroup %s: feeds and deliveries moved", row.chat_id, new_chat_id)
                return DeliveryStatus.PENDING
            case StaleMedia(sha256=sha256, error=error):
                await repository.set_file_id(sha256, None)
                await repository.mark_failed(row, error, now)
                counters.retried += 1
                return DeliveryStatus.FAILED

    async def _dead(self, repository: DeliveryRepository, row: ClaimedDelivery, error: str) -> DeliveryStatus:
        await repository.mark_dead(row, error)
        self.counters.dead += 1
        log.warning("delivery %s (%s %s → chat %s) is dead: %s", row.id, row.kind, row.ref_id, row.chat_id, error)
        return DeliveryStatus.DEAD

    async def stats(self) -> OutboxStats:
        async with self.sessionmaker() as session:
            counts = await DeliveryRepository(session).counts()
        return OutboxStats.of(counts, self.counters, self.clock())
