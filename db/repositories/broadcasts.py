"""Broadcasts: who is in an audience, how a broadcast's outbox rows stand, stopping the rest, and the
broadcasts still running. Never commits: callers own the transaction.

A broadcast is its outbox rows (kind "broadcast", ref_id = the broadcast's id) and its audit rows:
`broadcast_start` (its id is the broadcast's id; target "broadcast:<id>"; details its state as JSON)
and, once every row has an answer, `broadcast_done` with the same target.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, bindparam, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import AuditLog, Delivery, DeliveryStatus, User

START_ACTION = "broadcast_start"
DONE_ACTION = "broadcast_done"
CANCELLED_PREFIX = "cancelled"  # the error of a row an operator's /broadcast cancel skipped


@dataclass(frozen=True, slots=True)
class AudienceRow:
    telegram_id: int
    locale: str | None
    language_code: str | None
    plan: str
    plan_expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class BroadcastCounts:
    """A broadcast's rows by outcome: `blocked` are rows for users who blocked the bot (skipped, or
    the attempt that found out), `failed` other permanent failures, `remaining` rows still to go."""

    sent: int = 0
    failed: int = 0
    blocked: int = 0
    cancelled: int = 0
    remaining: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.blocked + self.cancelled + self.remaining

    @property
    def done(self) -> int:
        return self.total - self.remaining


@dataclass(frozen=True, slots=True)
class StartedBroadcast:
    id: int
    actor_telegram_id: int
    details: str
    created_at: datetime


def _target(broadcast_id: int) -> str:
    return f"broadcast:{broadcast_id}"


def _unfinished(started: type[AuditLog], after_id: int) -> ColumnElement[bool]:
    """`started` is a broadcast's start row after `after_id` with no `broadcast_done` row yet."""
    done = aliased(AuditLog)
    finished = exists().where(and_(done.action == DONE_ACTION, done.target == started.target))
    return and_(started.id > after_id, started.action == START_ACTION, started.target.is_not(None), ~finished)


class BroadcastRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def audience(self) -> list[AudienceRow]:
        """Every user who may get a broadcast (not banned), with what audiences are chosen by."""
        rows = await self.session.execute(
            select(User.telegram_id, User.locale, User.language_code, User.plan, User.plan_expires_at)
            .where(User.banned.is_(False))
            .order_by(User.id)
        )
        return [AudienceRow(*row) for row in rows]

    async def counts(self, kind: str, ref_id: str) -> BroadcastCounts:
        """One grouped statement over the broadcast's rows (UNIQUE(kind, ref_id, chat_id) indexes them)."""
        cancelled = Delivery.error.like(f"{CANCELLED_PREFIX}%")
        blocked = func.coalesce(User.bot_blocked, False)
        statement = (
            select(Delivery.status, cancelled, blocked, func.count())
            .select_from(Delivery)
            .outerjoin(User, User.telegram_id == Delivery.chat_id)
            .where(Delivery.kind == kind, Delivery.ref_id == ref_id)
            .group_by(Delivery.status, cancelled, blocked)
        )
        sent = failed = gone = stopped = remaining = 0
        for status, was_cancelled, is_blocked, count in await self.session.execute(statement):
            if status == DeliveryStatus.SENT:
                sent += count
            elif status == DeliveryStatus.SKIPPED:
                if was_cancelled:
                    stopped += count
                else:
                    gone += count
            elif status == DeliveryStatus.DEAD:
                if is_blocked:
                    gone += count
                else:
                    failed += count
            else:
                remaining += count
        return BroadcastCounts(sent=sent, failed=failed, blocked=gone, cancelled=stopped, remaining=remaining)

    async def cancel(self, kind: str, ref_id: str, reason: str) -> int:
        """Skip the rows still waiting (pending or failed; a row being sent right now finishes);
        how many. The sender never claims a skipped row, and a late result cannot revive one."""
        waiting = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
        result = await self.session.execute(
            update(Delivery)
            .where(
                Delivery.kind == kind,
                Delivery.ref_id == ref_id,
                Delivery.status.in_(bindparam(None, list(waiting), expanding=True, literal_execute=True)),
            )
            .values(status=DeliveryStatus.SKIPPED, lease_until=None, error=f"{CANCELLED_PREFIX}: {reason}"[:512])
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def stage_start(self, actor: int, details: str, now: datetime) -> AuditLog:
        row = AuditLog(actor_telegram_id=actor, action=START_ACTION, target=None, details=details, created_at=now)
        self.session.add(row)
        return row

    async def name_started(self, row: AuditLog) -> int:
        """Give a staged start row its id and its target ("broadcast:<id>")."""
        await self.session.flush()
        row.target = _target(row.id)
        return row.id

    async def get_started(self, broadcast_id: int) -> StartedBroadcast | None:
        row = await self.session.scalar(
            select(AuditLog).where(AuditLog.id == broadcast_id, AuditLog.action == START_ACTION)
        )
        if row is None:
            return None
        return StartedBroadcast(row.id, row.actor_telegram_id, row.details or "{}", row.created_at)

    async def running(self, after_id: int = 0) -> list[StartedBroadcast]:
        """Started broadcasts without a `broadcast_done` row, oldest first; only audit rows after
        `after_id` are looked at (a range of the primary key: a caller that knows every broadcast up
        to there has finished does not scan the whole audit log)."""
        rows = await self.session.execute(
            select(AuditLog.id, AuditLog.actor_telegram_id, AuditLog.details, AuditLog.created_at)
            .where(_unfinished(AuditLog, after_id))
            .order_by(AuditLog.id)
        )
        return [StartedBroadcast(id_, actor, details or "{}", at) for id_, actor, details, at in rows]

    async def running_and_last_id(self, after_id: int = 0) -> tuple[list[StartedBroadcast], int]:
        """`running(after_id)` and the newest audit id, in one statement (one snapshot): the
        progress loop's look while nothing runs is this one query. The newest id is a one-row derived
        table the running broadcasts are outer-joined to, so it comes back with none of them too."""
        started = aliased(AuditLog)
        newest = select(func.max(AuditLog.id).label("last_id")).subquery()
        rows = (
            await self.session.execute(
                select(newest.c.last_id, started.id, started.actor_telegram_id, started.details, started.created_at)
                .select_from(newest)
                .outerjoin(started, _unfinished(started, after_id))
                .order_by(started.id)
            )
        ).all()
        last_id = int(rows[0][0] or 0) if rows else 0
        found = [
            StartedBroadcast(id_, actor, details or "{}", at) for _, id_, actor, details, at in rows if id_ is not None
        ]
        return found, last_id

    async def claim_done(self, broadcast_id: int) -> bool:
        """Whether this transaction may finish the broadcast: its start row is locked (PostgreSQL:
        replicas finishing it at once take turns) and it has no `broadcast_done` row yet."""
        await self.session.execute(select(AuditLog.id).where(AuditLog.id == broadcast_id).with_for_update())
        found = await self.session.scalar(
            select(AuditLog.id).where(AuditLog.action == DONE_ACTION, AuditLog.target == _target(broadcast_id)).limit(1)
        )
        return found is None

    def stage_done(self, broadcast_id: int, actor: int, details: str, now: datetime) -> None:
        self.session.add(
            AuditLog(
                actor_telegram_id=actor,
                action=DONE_ACTION,
                target=_target(broadcast_id),
                details=details,
                created_at=now,
            )
        )
