"""`feeds`: one row per (chat, kind) with its coins and timeframes as comma-separated lists.

`FeedReadRepository` is the read side used by the scheduler's scans, the risk engine and signals;
`FeedRepository` the write side of /subscribe, /feeds and the bot's membership changes, with the
chat rows (channels linked by their admins, the chat's language, forum flag) and the plan limits it
needs. Never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.changes import chat_changed
from db.models import Plan
from db.models.market import Feed
from db.models.users import Chat, User
from db.repositories.dialect import dialect_insert

LOOKUP_CHUNK = 1000  # ids per IN (…) lookup


def split_list(value: str) -> tuple[str, ...]:
    """'BTC,ETH' → ('BTC', 'ETH'); empty parts dropped, order kept, duplicates removed."""
    return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))


def join_list(values: Sequence[str]) -> str:
    return ",".join(dict.fromkeys(values))


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedRow:
    feed_id: int
    chat_id: int
    kind: str
    symbols: tuple[str, ...]
    timeframes: tuple[str, ...]
    level: str
    thread_id: int | None
    locale: str | None
    chat_type: str
    created_by: int | None
    active: bool = True
    digest: bool = False  # signals feeds: the weekly track-record digest is on


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatRow:
    id: int
    type: str
    title: str | None
    username: str | None
    locale: str | None
    active: bool
    is_forum: bool
    managed_by: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanLimitsRow:
    code: str
    title: str
    max_feeds: int
    max_coins: int
    signal_delay_minutes: int


def _chat_row(chat: Chat) -> ChatRow:
    return ChatRow(
        id=chat.id,
        type=chat.type,
        title=chat.title,
        username=chat.username,
        locale=chat.locale,
        active=chat.active,
        is_forum=chat.is_forum,
        managed_by=chat.managed_by,
    )


def _feed_row(feed: Feed, locale: str | None, chat_type: str) -> FeedRow:
    return FeedRow(
        feed_id=feed.id,
        chat_id=feed.chat_id,
        kind=feed.kind,
        symbols=split_list(feed.symbols),
        timeframes=split_list(feed.timeframes),
        level=feed.level,
        thread_id=feed.thread_id,
        locale=locale,
        chat_type=chat_type,
        created_by=feed.created_by,
        active=feed.active,
        digest=feed.digest,
    )


class FeedReadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def live(self, kind: str | None = None) -> Sequence[FeedRow]:
        """Feeds that push: active, level not off, in a chat the bot is still in. `locale` is the
        chat's language; for a private chat without one, its user's (/language, else Telegram's
        language code as stored; the caller normalizes)."""
        statement = (
            select(Feed, Chat.locale, Chat.type, User.locale, User.language_code)
            .join(Chat, Chat.id == Feed.chat_id)
            .outerjoin(User, and_(Chat.type == "private", User.telegram_id == Chat.id))
            .where(Feed.active.is_(True), Feed.level != "off", Chat.active.is_(True))
            .order_by(Feed.id)
        )
        if kind is not None:
            statement = statement.where(Feed.kind == kind)
        rows = (await self.session.execute(statement)).all()
        return [
            _feed_row(feed, chat_locale or user_locale or language_code, chat_type)
            for feed, chat_locale, chat_type, user_locale, language_code in rows
        ]

    async def user_plans(self, telegram_ids: Iterable[int]) -> dict[int, tuple[str, datetime | None]]:
        """(plan, plan_expires_at) of these people, by Telegram id (unknown people are left out)."""
        found: dict[int, tuple[str, datetime | None]] = {}
        ids = sorted(set(telegram_ids))
        for start in range(0, len(ids), LOOKUP_CHUNK):
            statement = select(User.telegram_id, User.plan, User.plan_expires_at).where(
                User.telegram_id.in_(ids[start : start + LOOKUP_CHUNK])
            )
            for telegram_id, plan, expires_at in (await self.session.execute(statement)).all():
                found[telegram_id] = (plan, expires_at)
        return found


class FeedRepository:
    """The write side (and the reads it needs). Never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ----------------------------------------------------------------- feeds
    async def for_chat(self, chat_id: int) -> list[FeedRow]:
        statement = (
            select(Feed, Chat.locale, Chat.type)
            .join(Chat, Chat.id == Feed.chat_id)
            .where(Feed.chat_id == chat_id)
            .order_by(Feed.kind)
        )
        return [_feed_row(feed, locale, type_) for feed, locale, type_ in (await self.session.execute(statement)).all()]

    async def save(
        self,
        *,
        chat_id: int,
        kind: str,
        symbols: Sequence[str],
        timeframes: Sequence[str],
        level: str,
        thread_id: int | None,
        created_by: int | None,
        now: datetime,
    ) -> None:
        """Insert or replace the chat's feed of `kind` (its creator stays the first one)."""
        values = {
            "symbols": join_list(symbols),
            "timeframes": join_list(timeframes),
            "level": level,
            "thread_id": thread_id,
            "active": True,
        }
        statement = (
            dialect_insert(self.session, Feed)
            .values(chat_id=chat_id, kind=kind, created_by=created_by, created_at=now, **values)
            .on_conflict_do_update(index_elements=["chat_id", "kind"], set_=values)
        )
        await self.session.execute(statement)

    async def delete(self, chat_id: int, kinds: Sequence[str]) -> int:
        result = await self.session.execute(delete(Feed).where(Feed.chat_id == chat_id, Feed.kind.in_(kinds)))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def count_created_by(self, telegram_id: int, *, except_chat: int, except_kind: str) -> int:
        """Feeds this person created, in any chat, other than (except_chat, except_kind)."""
        statement = select(func.count(Feed.id)).where(
            Feed.created_by == telegram_id, ~and_(Feed.chat_id == except_chat, Feed.kind == except_kind)
        )
        return int(await self.session.scalar(statement) or 0)

    async def set_digest(self, chat_id: int, on: bool) -> bool:
        """Turn the weekly digest of the chat's signals feed on or off; False when it has none."""
        result = await self.session.execute(
            update(Feed).where(Feed.chat_id == chat_id, Feed.kind == "signals").values(digest=on)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def set_active(self, chat_id: int, active: bool) -> int:
        """Pause (or resume) every feed of a chat; how many changed."""
        result = await self.session.execute(
            update(Feed).where(Feed.chat_id == chat_id, Feed.active.is_(not active)).values(active=active)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def drop_conflicting(self, old_chat_id: int, new_chat_id: int) -> int:
        """Before a migration moves the old chat's feeds: drop those whose kind the new chat has already."""
        taken = select(Feed.kind).where(Feed.chat_id == new_chat_id).scalar_subquery()
        result = await self.session.execute(delete(Feed).where(Feed.chat_id == old_chat_id, Feed.kind.in_(taken)))
        return int(result.rowcount)  # type: ignore[attr-defined]

    # ----------------------------------------------------------------- chats
    async def chat(self, chat_id: int) -> ChatRow | None:
        chat = await self.session.get(Chat, chat_id, populate_existing=True)
        return None if chat is None else _chat_row(chat)

    async def update_chat(self, chat_id: int, **values: object) -> None:
        """Change columns of a chat row (locale, is_forum, active, managed_by …); drops its cached view."""
        await self.session.execute(update(Chat).where(Chat.id == chat_id).values(**values))
        chat_changed(self.session, chat_id)

    async def upsert_channel(self, chat_id: int, title: str | None, username: str | None, managed_by: int) -> None:
        values = {"type": "channel", "title": title, "username": username, "active": True, "managed_by": managed_by}
        statement = (
            dialect_insert(self.session, Chat)
            .values(id=chat_id, **values)
            .on_conflict_do_update(index_elements=["id"], set_=values)
        )
        await self.session.execute(statement)
        chat_changed(self.session, chat_id)

    async def managed_by(self, telegram_id: int) -> list[ChatRow]:
        """Channels this person linked (and the bot is still in)."""
        statement = (
            select(Chat).where(Chat.managed_by == telegram_id, Chat.active.is_(True)).order_by(Chat.title, Chat.id)
        )
        return [_chat_row(chat) for chat in await self.session.scalars(statement)]

    async def linked_by(self, telegram_id: int) -> list[ChatRow]:
        """Every channel this person linked, the bot still in it or not (for /unlinkchannel)."""
        statement = (
            select(Chat).where(Chat.managed_by == telegram_id, Chat.type == "channel").order_by(Chat.title, Chat.id)
        )
        return [_chat_row(chat) for chat in await self.session.scalars(statement)]

    async def unlink(self, chat_id: int, telegram_id: int) -> bool:
        """Clear the channel's manager if it is this person; False when it was not linked to them."""
        result = await self.session.execute(
            update(Chat).where(Chat.id == chat_id, Chat.managed_by == telegram_id).values(managed_by=None)
        )
        chat_changed(self.session, chat_id)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # ----------------------------------------------------------------- plans
    async def user_plan(self, telegram_id: int) -> tuple[str, datetime | None] | None:
        row = (
            await self.session.execute(select(User.plan, User.plan_expires_at).where(User.telegram_id == telegram_id))
        ).one_or_none()
        return None if row is None else (row[0], row[1])

    async def plan_limits(self, code: str) -> PlanLimitsRow | None:
        plan = await self.session.get(Plan, code)
        if plan is None:
            return None
        return PlanLimitsRow(
            code=plan.code,
            title=plan.title,
            max_feeds=plan.max_feeds,
            max_coins=plan.max_coins,
            signal_delay_minutes=plan.signal_delay_minutes,
        )
