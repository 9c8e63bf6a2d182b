"""The delivery outbox (`deliveries`, `delivery_media`). Never commits: callers own the transaction.

Claims lease rows: a claimed row is `sending` until `lease_until` (also its `next_attempt_at`, so a
lease that expires without a recorded result makes the row due again). Only the oldest open row of a
chat is ever due (rows enqueued for a later time count from that time on), so a chat's messages go
out in order and at most one per chat is in flight; on
PostgreSQL `FOR UPDATE SKIP LOCKED` lets several senders claim at once without taking the same row.
Results of a failed attempt are fenced by the attempt number: a sender whose lease expired (and whose
row another sender took over) cannot overwrite the newer attempt's state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, exists, false, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, aliased

from db.models import Chat, Delivery, DeliveryMedia, DeliveryStatus, Feed, User
from db.models.deliveries import OPEN_STATUSES
from db.repositories.dialect import dialect_insert, insert_ignore

INSERT_CHUNK = 500  # rows per INSERT (7 parameters each: far below SQLite's and asyncpg's limits)
LOOKUP_CHUNK = 1000  # ids per IN (…) lookup
SENT_CHUNK = 200  # rows per UPDATE of sent rows (3 parameters each)
ERROR_LENGTH = 512


@dataclass(frozen=True, slots=True)
class NewDelivery:
    kind: str
    ref_id: str
    chat_id: int
    payload: str
    priority: int = 0
    status: DeliveryStatus = DeliveryStatus.PENDING
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A leased row, as plain data: the sender keeps no session while it talks to Telegram."""

    id: int
    kind: str
    ref_id: str
    chat_id: int
    payload: str
    attempts: int  # this attempt's number: the fence for recording its result
    lease_until: datetime


@dataclass(frozen=True, slots=True)
class SentDelivery:
    """A row Telegram accepted: its message_id, and whether it went as a paid broadcast."""

    id: int
    message_id: int
    paid: bool = False


@dataclass(frozen=True, slots=True)
class DeliveryCounts:
    pending: int = 0
    sending: int = 0
    failed: int = 0
    sent: int = 0
    dead: int = 0
    skipped: int = 0
    paid: int = 0
    oldest_open_at: datetime | None = None

    @property
    def backlog(self) -> int:
        return self.pending + self.sending + self.failed


# The same open rows of a chat, as the "older row" a claim looks for: built once (an alias costs
# more to build than the rest of the claim's statement).
_OLDER = aliased(Delivery)


def _chunks(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _open(status: QueryableAttribute[str]) -> ColumnElement[bool]:
    """`status IN ('pending', 'sending', 'failed')` written out, not bound: the planners (SQLite's
    always, PostgreSQL's generic plans) use the partial index over open rows only when the query's
    condition matches the index's literally."""
    return status.in_(bindparam(None, list(OPEN_STATUSES), expanding=True, literal_execute=True))


def _clip(error: str) -> str:
    return error if len(error) <= ERROR_LENGTH else error[: ERROR_LENGTH - 1] + "…"


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    # ----------------------------------------------------------------- writing rows
    async def enqueue(self, rows: Sequence[NewDelivery], now: datetime) -> int:
        """Insert the rows, ignoring any (kind, ref_id, chat_id) already there; how many were new."""
        inserted = 0
        for chunk in _chunks(rows, INSERT_CHUNK):
            values = [
                {
                    "kind": row.kind,
                    "ref_id": row.ref_id,
                    "chat_id": row.chat_id,
                    "payload": row.payload,
                    "priority": row.priority,
                    "status": row.status,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "error": row.error,
                    "created_at": now,
                }
                for row in chunk
            ]
            statement = (
                dialect_insert(self.session, Delivery)
                .values(values)
                .on_conflict_do_nothing(index_elements=["kind", "ref_id", "chat_id"])
                .returning(Delivery.id)
            )
            inserted += len((await self.session.execute(statement)).all())
        return inserted

    async def unreachable_chats(self, chat_ids: Iterable[int]) -> set[int]:
        """Chats known to refuse messages: a group/channel marked inactive, a user who blocked the bot."""
        found: set[int] = set()
        for chunk in _chunks(set(chat_ids), LOOKUP_CHUNK):
            found.update(await self.session.scalars(select(Chat.id).where(Chat.id.in_(chunk), Chat.active.is_(False))))
            found.update(
                await self.session.scalars(
                    select(User.telegram_id).where(User.telegram_id.in_(chunk), User.bot_blocked.is_(True))
                )
            )
        return found

    # ----------------------------------------------------------------- claiming
    def _due(self, now: datetime) -> ColumnElement[bool]:
        older = _OLDER
        # An older row scheduled for later and never tried (a signal delayed by the chat's plan) does
        # not hold the chat's other pushes back: it takes its place in the order once it is due.
        waiting = and_(older.attempts == 0, older.next_attempt_at > now)
        is_head = ~exists().where(
            older.chat_id == Delivery.chat_id, _open(older.status), older.id < Delivery.id, ~waiting
        )
        return and_(_open(Delivery.status), Delivery.next_attempt_at <= now, is_head)

    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[ClaimedDelivery]:
        """Lease up to `limit` due rows (at most one per chat: each chat's oldest open row)."""
        candidates = select(Delivery.id).where(self._due(now)).order_by(Delivery.priority, Delivery.id).limit(limit)
        lease = {
            "status": DeliveryStatus.SENDING,
            "attempts": Delivery.attempts + 1,
            "lease_until": lease_until,
            "next_attempt_at": lease_until,
        }
        if self._postgres:
            due = candidates.with_for_update(skip_locked=True, of=Delivery).cte("due")
            statement = update(Delivery).where(Delivery.id == due.c.id)
        else:
            # SQLite runs one writer at a time (and one sender): look first, so an idle poll never
            # takes the write lock; the UPDATE re-checks that each row is still due.
            ids = list(await self.session.scalars(candidates))
            if not ids:
                return []
            statement = update(Delivery).where(
                Delivery.id.in_(ids), _open(Delivery.status), Delivery.next_attempt_at <= now
            )
        result = await self.session.execute(
            statement.values(**lease).returning(
                Delivery.id,
                Delivery.kind,
                Delivery.ref_id,
                Delivery.chat_id,
                Delivery.payload,
                Delivery.attempts,
                Delivery.priority,
            )
        )
        rows = sorted(result.all(), key=lambda row: (row.priority, row.id))
        return [
            ClaimedDelivery(
                id=row.id,
                kind=row.kind,
                ref_id=row.ref_id,
                chat_id=row.chat_id,
                payload=row.payload,
                attempts=row.attempts,
                lease_until=lease_until,
            )
            for row in rows
        ]

    async def renew(self, rows: Sequence[ClaimedDelivery], lease_until: datetime) -> int:
        """Extend the leases of rows still being sent by these attempts (a slow send, a long wait in
        the limiter): they are not due to anyone else while their sender is alive. How many."""
        if not rows:
            return 0
        mine = and_(
            Delivery.id.in_([row.id for row in rows]),  # by primary key (SQLite scans for row values)
            tuple_(Delivery.id, Delivery.attempts).in_([(row.id, row.attempts) for row in rows]),
            Delivery.status == DeliveryStatus.SENDING,
        )
        if self._postgres:
            # Never wait for a row lock: a row locked now is having its result recorded (the lease no
            # longer matters), and a renewal waiting on it while holding other rows' locks deadlocks
            # with the sent rows' group commit, which takes the same rows in another order.
            unlocked = select(Delivery.id).where(mine).with_for_update(skip_locked=True).scalar_subquery()
            mine = Delivery.id.in_(unlocked)
        result = await self.session.execute(
            update(Delivery).where(mine).values(lease_until=lease_until, next_attempt_at=lease_until)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    # ----------------------------------------------------------------- results
    def _fenced(self, row: ClaimedDelivery) -> ColumnElement[bool]:
        return and_(Delivery.id == row.id, Delivery.status == DeliveryStatus.SENDING, Delivery.attempts == row.attempts)

    async def mark_sent(self, row_id: int, message_id: int, now: datetime, *, paid: bool = False) -> bool:
        """Record a delivered message. Not fenced: once Telegram has it, no later attempt may resend it."""
        return bool(await self.mark_sent_many([SentDelivery(row_id, message_id, paid)], now))

    async def mark_sent_many(self, rows: Sequence[SentDelivery], now: datetime) -> int:
        """Record delivered messages, one statement per chunk (the sender records its results in
        groups); how many rows changed. Not fenced, like `mark_sent`."""
        changed = 0
        for chunk in _chunks(rows, SENT_CHUNK):
            message_ids = {row.id: row.message_id for row in chunk}
            paid_ids = [row.id for row in chunk if row.paid]
            result = await self.session.execute(
                update(Delivery)
                .where(Delivery.id.in_(list(message_ids)), Delivery.status.in_(OPEN_STATUSES))
                .values(
                    status=DeliveryStatus.SENT,
                    message_id=case(message_ids, value=Delivery.id),
                    sent_at=now,
                    paid=Delivery.id.in_(paid_ids) if paid_ids else false(),
                    lease_until=None,
                    error=None,
                )
            )
            changed += int(result.rowcount)  # type: ignore[attr-defined]
        return changed

    async def mark_failed(self, row: ClaimedDelivery, error: str, next_attempt_at: datetime) -> bool:
        """A retryable failure: due again at `next_attempt_at`."""
        result = await self.session.execute(
            update(Delivery)
            .where(self._fenced(row))
            .values(status=DeliveryStatus.FAILED, next_attempt_at=next_attempt_at, lease_until=None, error=_clip(error))
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def mark_dead(self, row: ClaimedDelivery, error: str) -> bool:
        """A permanent failure: never tried again."""
        result = await self.session.execute(
            update(Delivery)
            .where(self._fenced(row))
            .values(status=DeliveryStatus.DEAD, lease_until=None, error=_clip(error))
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def skip_chat(self, chat_id: int, reason: str) -> int:
        """Skip every row of a chat still waiting (pending or failed); how many."""
        result = await self.session.execute(
            update(Delivery)
            .where(Delivery.chat_id == chat_id, _open(Delivery.status), Delivery.status != DeliveryStatus.SENDING)
            .values(status=DeliveryStatus.SKIPPED, lease_until=None, error=_clip(reason))
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def move_chat(self, old_chat_id: int, new_chat_id: int, now: datetime) -> int:
        """A group became a supergroup: its open rows go to the new id, due now (a row the new chat
        already has is skipped instead). How many moved."""
        twin = aliased(Delivery)
        already_there = exists().where(
            twin.chat_id == new_chat_id, twin.kind == Delivery.kind, twin.ref_id == Delivery.ref_id
        )
        await self.session.execute(
            update(Delivery)
            .where(Delivery.chat_id == old_chat_id, _open(Delivery.status), already_there)
            .values(status=DeliveryStatus.SKIPPED, lease_until=None, error=f"chat moved to {new_chat_id}")
        )
        result = await self.session.execute(
            update(Delivery)
            .where(Delivery.chat_id == old_chat_id, _open(Delivery.status))
            .values(
                chat_id=new_chat_id,
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
                lease_until=None,
                error=None,
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def move_chat_feeds(self, old_chat_id: int, new_chat_id: int) -> int:
        """The supergroup takes over the group's chat row (as a new, active one) and its feeds; the
        old chat is marked inactive. How many feeds moved."""
        old = await self.session.get(Chat, old_chat_id)
        await self.session.execute(
            insert_ignore(
                self.session,
                Chat,
                {
                    "id": new_chat_id,
                    "type": "supergroup",
                    "title": old.title if old else None,
                    "locale": old.locale if old else None,
                    "active": True,
                },
                "id",
            )
        )
        result = await self.session.execute(update(Feed).where(Feed.chat_id == old_chat_id).values(chat_id=new_chat_id))
        await self.session.execute(update(Chat).where(Chat.id == old_chat_id).values(active=False))
        return int(result.rowcount)  # type: ignore[attr-defined]

    # ----------------------------------------------------------------- reading
    async def get(self, row_id: int) -> Delivery | None:
        return await self.session.get(Delivery, row_id, populate_existing=True)

    async def for_ref(self, kind: str, ref_id: str) -> list[Delivery]:
        return list(
            await self.session.scalars(
                select(Delivery).where(Delivery.kind == kind, Delivery.ref_id == ref_id).order_by(Delivery.id)
            )
        )

    async def counts(self) -> DeliveryCounts:
        grouped = await self.session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
        by_status: dict[str, int] = {status: count for status, count in grouped.all()}
        paid = await self.session.scalar(select(func.count()).where(Delivery.paid.is_(True)))
        oldest = await self.session.scalar(
            select(func.min(Delivery.created_at)).where(Delivery.status.in_(OPEN_STATUSES))
        )
        return DeliveryCounts(
            pending=by_status.get(DeliveryStatus.PENDING, 0),
            sending=by_status.get(DeliveryStatus.SENDING, 0),
            failed=by_status.get(DeliveryStatus.FAILED, 0),
            sent=by_status.get(DeliveryStatus.SENT, 0),
            dead=by_status.get(DeliveryStatus.DEAD, 0),
            skipped=by_status.get(DeliveryStatus.SKIPPED, 0),
            paid=int(paid or 0),
            oldest_open_at=oldest,
        )

    # ----------------------------------------------------------------- media
    async def add_media(self, sha256: str, data: bytes, filename: str) -> None:
        """Store a file once (the same bytes enqueued again are a no-op)."""
        await self.session.execute(
            insert_ignore(self.session, DeliveryMedia, {"sha256": sha256, "data": data, "filename": filename}, "sha256")
        )

    async def media(self, sha256: str) -> DeliveryMedia | None:
        return await self.session.get(DeliveryMedia, sha256, populate_existing=True)

    async def set_file_id(self, sha256: str, file_id: str | None) -> None:
        await self.session.execute(update(DeliveryMedia).where(DeliveryMedia.sha256 == sha256).values(file_id=file_id))
