"""`feeds`: one row per (chat, kind) with its coins and timeframes as comma-separated lists.
Read side used by the scheduler's scans and the risk engine. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.market import Feed
from db.models.users import Chat


def split_list(value: str) -> tuple[str, ...]:
    """'BTC,ETH' → ('BTC', 'ETH'); empty parts dropped, order kept, duplicates removed."""
    return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))


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


class FeedReadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def live(self, kind: str | None = None) -> Sequence[FeedRow]:
        """Feeds that push: active, level not off, in a chat the bot is still in."""
        statement = (
            select(Feed, Chat.locale, Chat.type)
            .join(Chat, Chat.id == Feed.chat_id)
            .where(Feed.active.is_(True), Feed.level != "off", Chat.active.is_(True))
            .order_by(Feed.id)
        )
        if kind is not None:
            statement = statement.where(Feed.kind == kind)
        rows = (await self.session.execute(statement)).all()
        return [
            FeedRow(
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
            )
            for feed, locale, chat_type in rows
        ]
