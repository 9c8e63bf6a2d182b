"""Aggregates for the operators' /stats: a fixed handful of statements, whatever the number of
users (conditional counts in one pass per table, never a query per user). Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, aliased

from db.models import (
    Chat,
    ChatMessage,
    CreditTransaction,
    Delivery,
    DeliveryStatus,
    Feed,
    Payment,
    Position,
    PriceAlert,
    Signal,
    User,
)
from db.models.deliveries import OPEN_STATUSES

RATE_LIMITED_ERROR = "Too Many Requests"  # how Telegram's 429 description starts (kept in deliveries.error)
SIGNAL_DELIVERY_KIND = "signal"


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _sum_if(condition: ColumnElement[bool], value: ColumnElement[int] | QueryableAttribute[int]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


@dataclass(frozen=True)
class UserCounts:
    total: int
    active_1d: int
    active_7d: int
    active_30d: int
    new_today: int
    banned: int
    blocked: int


@dataclass(frozen=True)
class ModelUsage:
    """Answers of one model (an LLM's name, or `rules:*` for the built-in analyst) since `since`."""

    model: str
    requests: int
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class LedgerSums:
    sold: int  # credits from purchases
    refunded: int  # credits taken back by refunds
    spent: int  # question charges, less holds given back
    granted: int  # admin grants
    revoked: int  # admin revokes


@dataclass(frozen=True)
class StarsSums:
    payments: int  # paid or later refunded
    gross: int  # ⭐ of those
    refunded: int  # ⭐ given back


@dataclass(frozen=True)
class FeedCounts:
    private_chats: int  # chats with an active feed, by type
    groups: int
    channels: int
    signal_feeds: int
    risk_feeds: int
    alerts_active: int
    positions_active: int


@dataclass(frozen=True)
class OutboxCounts:
    backlog: int
    oldest_open_at: datetime | None
    rate_limited_last_hour: int  # open rows whose last attempt got a 429 within the hour
    signals_delivered: int


@dataclass(frozen=True)
class SignalCounts:
    created_7d: int
    open: int


class AdminStatsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def users(self, day_start: datetime, now: datetime) -> UserCounts:
        seen = User.last_seen_at
        row = (
            await self.session.execute(
                select(
                    func.count(),
                    _count_if(seen >= now - timedelta(days=1)),
                    _count_if(seen >= now - timedelta(days=7)),
                    _count_if(seen >= now - timedelta(days=30)),
                    _count_if(User.created_at >= day_start),
                    _count_if(User.banned.is_(True)),
                    _count_if(User.bot_blocked.is_(True)),
                ).select_from(User)
            )
        ).one()
        return UserCounts(*(int(value) for value in row))

    async def plans(self, now: datetime) -> dict[str, int]:
        """Users on a paid plan that has not run out, by plan."""
        live = (User.plan != "free") & (User.plan_expires_at.is_(None) | (User.plan_expires_at > now))
        rows = await self.session.execute(select(User.plan, func.count()).where(live).group_by(User.plan))
        return {plan: int(count) for plan, count in rows.all()}

    async def questions(self, day_start: datetime, week_start: datetime) -> tuple[int, int]:
        row = (
            await self.session.execute(
                select(
                    _count_if(ChatMessage.created_at >= day_start), _count_if(ChatMessage.created_at >= week_start)
                ).where(ChatMessage.role == "user", ChatMessage.created_at >= week_start)
            )
        ).one()
        return int(row[0]), int(row[1])

    async def model_usage(self, since: datetime) -> list[ModelUsage]:
        """Answers by model since `since`, with the prompt tokens of the question each answered (the
        user's message just before it in its conversation)."""
        question = aliased(ChatMessage)
        asked = (
            select(func.max(question.id))
            .where(
                question.conversation_id == ChatMessage.conversation_id,
                question.role == "user",
                question.id < ChatMessage.id,
            )
            .correlate(ChatMessage)
            .scalar_subquery()
        )
        prompt = aliased(ChatMessage)
        statement = (
            select(
                ChatMessage.model,
                func.count(),
                func.coalesce(func.sum(prompt.tokens), 0),
                func.coalesce(func.sum(ChatMessage.tokens), 0),
            )
            .select_from(ChatMessage)
            .outerjoin(prompt, prompt.id == asked)
            .where(ChatMessage.role == "assistant", ChatMessage.created_at >= since, ChatMessage.model.is_not(None))
            .group_by(ChatMessage.model)
            .order_by(ChatMessage.model)
        )
        return [ModelUsage(str(m), int(n), int(p), int(c)) for m, n, p, c in await self.session.execute(statement)]

    async def ledger(self) -> LedgerSums:
        tx = CreditTransaction
        credit, debit = tx.type == "credit", tx.type == "debit"
        row = (
            await self.session.execute(
                select(
                    _sum_if(and_(credit, tx.category == "purchase"), tx.amount),
                    _sum_if(and_(debit, tx.category == "refund"), tx.amount),
                    _sum_if(and_(debit, tx.category == "chat"), tx.amount),
                    _sum_if(and_(credit, tx.category == "hold_release"), tx.amount),
                    _sum_if(and_(credit, tx.category == "admin_grant"), tx.amount),
                    _sum_if(and_(debit, tx.category == "admin_revoke"), tx.amount),
                )
            )
        ).one()
        sold, refunded, charged, released, granted, revoked = (int(value) for value in row)
        return LedgerSums(sold, refunded, charged - released, granted, revoked)

    async def stars(self) -> StarsSums:
        taken = Payment.status.in_(("paid", "refunded"))
        row = (
            await self.session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(Payment.amount), 0),
                    _sum_if(Payment.status == "refunded", Payment.amount),
                ).where(taken, Payment.currency == "XTR")
            )
        ).one()
        return StarsSums(*(int(value) for value in row))

    async def feeds(self) -> FeedCounts:
        chats = (
            await self.session.execute(
                select(
                    _count_if(Chat.type == "private"),
                    _count_if(Chat.type.in_(("group", "supergroup"))),
                    _count_if(Chat.type == "channel"),
                ).where(Chat.id.in_(select(Feed.chat_id).where(Feed.active.is_(True))))
            )
        ).one()
        active_feeds = select(func.count()).where(Feed.active.is_(True))
        counts = (
            await self.session.execute(
                select(
                    active_feeds.where(Feed.kind == "signals").scalar_subquery(),
                    active_feeds.where(Feed.kind == "risk").scalar_subquery(),
                    select(func.count()).where(PriceAlert.active.is_(True)).scalar_subquery(),
                    select(func.count()).where(Position.active.is_(True)).scalar_subquery(),
                )
            )
        ).one()
        return FeedCounts(
            private_chats=int(chats[0]),
            groups=int(chats[1]),
            channels=int(chats[2]),
            signal_feeds=int(counts[0]),
            risk_feeds=int(counts[1]),
            alerts_active=int(counts[2]),
            positions_active=int(counts[3]),
        )

    async def signals(self, week_start: datetime) -> SignalCounts:
        row = (
            await self.session.execute(
                select(_count_if(Signal.created_at >= week_start), _count_if(Signal.status == "open")).select_from(
                    Signal
                )
            )
        ).one()
        return SignalCounts(int(row[0]), int(row[1]))

    async def outbox(self, hour_ago: datetime) -> OutboxCounts:
        # Open rows only, the statuses written out: the partial indexes over open rows serve it.
        is_open = Delivery.status.in_(bindparam(None, list(OPEN_STATUSES), expanding=True, literal_execute=True))
        row = (
            await self.session.execute(
                select(
                    func.count(),
                    func.min(Delivery.created_at),
                    _count_if(
                        and_(
                            Delivery.status == DeliveryStatus.FAILED,
                            Delivery.error.startswith(RATE_LIMITED_ERROR, autoescape=True),
                            Delivery.next_attempt_at >= hour_ago,
                        )
                    ),
                ).where(is_open)
            )
        ).one()
        delivered = await self.session.scalar(
            select(func.count()).where(Delivery.kind == SIGNAL_DELIVERY_KIND, Delivery.status == DeliveryStatus.SENT)
        )
        return OutboxCounts(int(row[0]), row[1], int(row[2]), int(delivered or 0))
