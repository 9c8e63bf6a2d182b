"""Plain data the feed services return (no ORM rows, no aiogram)."""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("signals", "risk")
LEVELS = ("on", "silent", "off")
DEFAULT_COINS = ("BTC",)
DEFAULT_TIMEFRAMES = {"signals": ("4h",), "risk": ()}
# Kinds whose pushes depend on a timeframe (risk alerts are about the coin, whatever the candle).
TIMEFRAME_KINDS = ("signals",)


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedView:
    kind: str
    symbols: tuple[str, ...]
    timeframes: tuple[str, ...]
    level: str  # on / silent / off
    thread_id: int | None  # forum topic; None = General
    active: bool  # False while the bot is out of the chat


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanLimits:
    code: str
    title: str
    max_feeds: int  # feeds one person may create, over every chat
    max_coins: int  # per feed
    signal_delay_minutes: int  # the signals engine delays signals by this much on this plan


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatTarget:
    """A chat whose feeds someone may manage: the chat itself, or a channel linked to them."""

    id: int
    type: str
    title: str | None
    is_forum: bool = False
    locale: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatFeeds:
    chat: ChatTarget
    feeds: dict[str, FeedView] = field(default_factory=dict)
    limits: PlanLimits | None = None  # of the person looking (None: nobody in particular)
    used_feeds: int = 0  # feeds that person created, in any chat

    def feed(self, kind: str) -> FeedView | None:
        return self.feeds.get(kind)


class FeedError(Exception):
    """A change the feed services refuse; `code` names it for the handler's answer."""

    code = "error"


class LimitReached(FeedError):
    code = "limit"

    def __init__(self, what: str, limit: int, plan: PlanLimits) -> None:
        super().__init__(f"{what} limit {limit} on plan {plan.code}")
        self.what = what  # "feeds" or "coins"
        self.limit = limit
        self.plan = plan


class LastCoin(FeedError):
    """A feed keeps at least one coin (unsubscribing is the way to empty it)."""

    code = "last-coin"


class NoSuchFeed(FeedError):
    code = "no-feed"


class UnknownChat(FeedError):
    code = "no-chat"


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkedChannel:
    """A channel someone linked with /linkchannel (`active`: the bot is still in it)."""

    id: int
    title: str | None
    username: str | None
    active: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Unlinked:
    """What /unlinkchannel did: the channel, and the feeds that stopped with the link."""

    channel: LinkedChannel
    stopped: tuple[FeedView, ...]
