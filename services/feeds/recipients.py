"""Who a push goes to, and which (coin, timeframe) pairs the scans must cover.

Used by the scheduler's market scan (what to fetch), the risk engine (market-risk alerts go to the
chats with a `risk` feed for that coin) and the signals engine (`signals` feeds). A recipient's
`message()` builds the outbox payload with the feed's level (silent → disable_notification) and
forum topic, validated against Telegram's limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from db.repositories.feeds import FeedReadRepository, FeedRow
from services.delivery.message import Button, OutboxMessage
from services.feeds.model import KINDS, LEVELS
from services.i18n import normalize_locale
from services.uow import Session

__all__ = ["KINDS", "LEVELS", "Recipient", "recipients", "scan_targets"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipient:
    chat_id: int
    locale: str | None  # the chat's language; None → the bot's default
    silent: bool  # level "silent": sent with disable_notification
    thread_id: int | None  # forum topic
    chat_type: str
    owner: int | None = None  # the feed's creator (Telegram id): their plan sets a signal's delay

    def message(
        self, text: str, buttons: tuple[tuple[Button, ...], ...] = (), photo: str | None = None
    ) -> OutboxMessage:
        """The outbox payload for this chat (raises `InvalidDelivery` when Telegram would refuse it)."""
        return OutboxMessage.build(
            text=text,
            buttons=buttons,
            photo=photo,
            disable_notification=self.silent,
            message_thread_id=self.thread_id,
        )


def _matches(feed: FeedRow, symbol: str, timeframe: str | None) -> bool:
    if symbol not in feed.symbols:
        return False
    return timeframe is None or not feed.timeframes or timeframe in feed.timeframes


async def recipients(session: Session, kind: str, symbol: str, timeframe: str | None = None) -> list[Recipient]:
    """Chats whose live `kind` feed covers `symbol` (and `timeframe`, when given)."""
    feeds = await FeedReadRepository(session).live(kind)
    return [
        Recipient(
            chat_id=feed.chat_id,
            locale=normalize_locale(feed.locale),
            silent=feed.level == "silent",
            thread_id=feed.thread_id,
            chat_type=feed.chat_type,
            owner=feed.created_by,
        )
        for feed in feeds
        if _matches(feed, symbol, timeframe)
    ]


async def scan_targets(session: Session, kind: str | None = None) -> Sequence[tuple[str, str]]:
    """Sorted (symbol, timeframe) pairs some live feed needs; a feed without timeframes counts as 4h."""
    pairs: set[tuple[str, str]] = set()
    for feed in await FeedReadRepository(session).live(kind):
        for symbol in feed.symbols:
            for timeframe in feed.timeframes or ("4h",):
                pairs.add((symbol, timeframe))
    return sorted(pairs)
