"""The weekly digest: the track record of each signals feed's coins, pushed through the outbox to the
chats (private, groups, channels) whose live signals feed has `digest` on. Run by the scheduler at
each weekly candle close (Monday 00:00 UTC); one delivery per chat and week (ref id = the week's
date), so a re-run tick or a second replica sends it once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from db.repositories.feeds import FeedReadRepository, FeedRepository, FeedRow
from db.repositories.signals import SignalRepository
from services.delivery import InvalidDelivery, OutboxMessage, OutboxWake, enqueue_many
from services.i18n import Translations
from services.signals.model import SignalRecord
from services.signals.performance_text import digest_text
from services.signals.record import group_records
from services.uow import Session

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

DIGEST_KIND = "digest"
RECORD_DAYS = 90  # the track record the digest shows
WEEK = timedelta(days=7)
log = logging.getLogger(__name__)


async def set_digest(session: Session, chat_id: int, on: bool) -> bool:
    """Turn the chat's digest on/off and commit; False (nothing changed) when the chat has no signals feed."""
    changed = await FeedRepository(session).set_digest(chat_id, on)
    await session.commit()
    return changed


def _covers(feed: FeedRow, row: SignalRecord) -> bool:
    return row.symbol in feed.symbols and (not feed.timeframes or row.timeframe in feed.timeframes)


async def enqueue_digests(
    session: Session,
    translations: Translations,
    *,
    now: datetime,
    min_signals: int,
    wake: OutboxWake | None = None,
) -> int:
    """Enqueue this week's digest for every live signals feed with the digest on; how many rows are new."""
    feeds = [feed for feed in await FeedReadRepository(session).live("signals") if feed.digest]
    if not feeds:
        return 0
    rows = await SignalRepository(session).closed(since=now - timedelta(days=RECORD_DAYS))
    ref = f"digest:{now:%Y-%m-%d}"
    items: list[tuple[str, int, OutboxMessage]] = []
    for feed in feeds:
        mine = [row for row in rows if _covers(feed, row)]
        week = sum(1 for row in mine if row.closed_at is not None and row.closed_at >= now - WEEK)
        text = digest_text(
            translations.get(feed.locale),
            group_records(mine, min_signals=min_signals),
            coins=feed.symbols,
            week_closed=week,
        )
        try:
            message = OutboxMessage.build(
                text=text, disable_notification=feed.level == "silent", message_thread_id=feed.thread_id
            )
        except InvalidDelivery as exc:  # e.g. too long (3 records at most keep it far below the limit)
            log.warning("digest for chat %s not sent: %s", feed.chat_id, exc)
            continue
        items.append((ref, feed.chat_id, message))
    return await enqueue_many(session, kind=DIGEST_KIND, items=items, now=now, wake=wake)


async def run_digests(
    sessionmaker: async_sessionmaker[AsyncSession],
    translations: Translations,
    tick: datetime,
    *,
    min_signals: int,
    wake: OutboxWake | None = None,
) -> int:
    """The scheduler's weekly job: enqueue and commit (the outbox sender is woken after the commit)."""
    async with sessionmaker() as session:
        count = await enqueue_digests(session, translations, now=tick, min_signals=min_signals, wake=wake)
        await session.commit()
    return count
