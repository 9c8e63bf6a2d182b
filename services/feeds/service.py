"""Subscriptions: what /subscribe, /unsubscribe and the /feeds keyboard change, with plan limits.

Plan limits are the acting person's (the admin changing a group's feeds, the channel's manager, the
user in their private chat): `plans.max_feeds` feeds created over every chat, `plans.max_coins` coins
per feed. A feed over a limit (after a downgrade) can still shrink; it cannot grow. Every function
that changes something commits; the reads end their transaction before returning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from enum import StrEnum

from db.models import utcnow
from db.repositories.feeds import FeedRepository, FeedRow
from services.credits.plans import FREE, effective_plan_code
from services.feeds.model import (
    DEFAULT_COINS,
    DEFAULT_TIMEFRAMES,
    KINDS,
    LEVELS,
    ChatFeeds,
    ChatTarget,
    FeedView,
    LastCoin,
    LimitReached,
    NoSuchFeed,
    PlanLimits,
    UnknownChat,
)
from services.uow import Session

KEEP = object()  # "leave the topic as it is"


class Edit(StrEnum):
    """What one /feeds button does to one feed."""

    ADD = "add"  # subscribe the chat to this kind
    REMOVE = "remove"  # unsubscribe it
    COIN = "coin"  # toggle a coin
    TIMEFRAME = "tf"  # toggle a timeframe
    LEVEL = "level"  # on / silent / off
    TOPIC = "topic"  # the forum topic it posts into ("" = General)


def feed_view(row: FeedRow) -> FeedView:
    return FeedView(
        kind=row.kind,
        symbols=row.symbols,
        timeframes=row.timeframes,
        level=row.level,
        thread_id=row.thread_id,
        active=row.active,
    )


async def plan_limits(session: Session, telegram_id: int | None, now: datetime | None = None) -> PlanLimits:
    """The limits of this person's effective plan (free when unknown or expired)."""
    repository = FeedRepository(session)
    code = FREE
    found = await repository.user_plan(telegram_id) if telegram_id is not None else None
    if found is not None:
        code = effective_plan_code(found[0], found[1], now or utcnow())
    row = await repository.plan_limits(code) or await repository.plan_limits(FREE)
    if row is None:
        raise LookupError("the free plan is missing (migrations not applied?)")
    return PlanLimits(
        code=row.code,
        title=row.title,
        max_feeds=row.max_feeds,
        max_coins=row.max_coins,
        signal_delay_minutes=row.signal_delay_minutes,
    )


async def _load(session: Session, chat_id: int, viewer: int | None, now: datetime | None) -> ChatFeeds:
    repository = FeedRepository(session)
    chat = await repository.chat(chat_id)
    if chat is None:
        raise UnknownChat(str(chat_id))
    feeds = {row.kind: feed_view(row) for row in await repository.for_chat(chat_id)}
    limits = used = None
    if viewer is not None:
        limits = await plan_limits(session, viewer, now)
        used = await repository.count_created_by(viewer, except_chat=0, except_kind="")
    return ChatFeeds(
        chat=ChatTarget(id=chat.id, type=chat.type, title=chat.title, is_forum=chat.is_forum, locale=chat.locale),
        feeds=feeds,
        limits=limits,
        used_feeds=used or 0,
    )


async def chat_feeds(
    session: Session, chat_id: int, viewer: int | None = None, *, is_forum: bool | None = None
) -> ChatFeeds:
    """A chat's feeds (and the viewer's plan limits). `is_forum`: what Telegram says now, stored
    when it changed (a supergroup can turn topics on or off)."""
    if is_forum is not None:
        repository = FeedRepository(session)
        chat = await repository.chat(chat_id)
        if chat is not None and chat.is_forum != is_forum:
            await repository.update_chat(chat_id, is_forum=is_forum)
            await session.commit()
    result = await _load(session, chat_id, viewer, None)
    await session.rollback()  # a read: no connection held while the caller talks to Telegram
    return result


async def _store(
    session: Session,
    *,
    chat_id: int,
    actor: int,
    kind: str,
    before: FeedView | None,
    after: FeedView,
    limits: PlanLimits,
    now: datetime,
) -> None:
    repository = FeedRepository(session)
    if before is None:
        used = await repository.count_created_by(actor, except_chat=chat_id, except_kind=kind)
        if used >= limits.max_feeds:
            raise LimitReached("feeds", limits.max_feeds, limits)
    grew = before is None or not set(after.symbols) <= set(before.symbols)
    if grew and len(after.symbols) > limits.max_coins:
        raise LimitReached("coins", limits.max_coins, limits)
    await repository.save(
        chat_id=chat_id,
        kind=kind,
        symbols=after.symbols,
        timeframes=after.timeframes,
        level=after.level,
        thread_id=after.thread_id,
        created_by=actor,
        now=now,
    )


async def subscribe(
    session: Session,
    *,
    chat_id: int,
    actor: int,
    kinds: Sequence[str],
    coins: Sequence[str],
    timeframes: Sequence[str] = (),
    thread_id: int | object | None = KEEP,
    now: datetime | None = None,
) -> ChatFeeds:
    """Add coins (and timeframes) to the chat's feeds of `kinds`, creating them as needed; commits.
    Raises `LimitReached` (nothing changed) when the actor's plan does not allow it."""
    now = now or utcnow()
    current = await _load(session, chat_id, None, now)
    limits = await plan_limits(session, actor, now)
    try:
        for kind in dict.fromkeys(kinds or KINDS[:1]):
            before = current.feed(kind)
            wanted_timeframes = tuple(timeframes) if kind in ("signals",) else ()
            if before is None:
                after = FeedView(
                    kind=kind,
                    symbols=tuple(dict.fromkeys(coins)),
                    timeframes=wanted_timeframes or DEFAULT_TIMEFRAMES[kind],
                    level="on",
                    thread_id=None if thread_id is KEEP else thread_id,  # type: ignore[arg-type]
                    active=True,
                )
            else:
                after = replace(
                    before,
                    symbols=tuple(dict.fromkeys((*before.symbols, *coins))),
                    timeframes=tuple(dict.fromkeys((*before.timeframes, *wanted_timeframes))),
                    level="on" if before.level == "off" else before.level,
                    thread_id=before.thread_id if thread_id is KEEP else thread_id,  # type: ignore[arg-type]
                )
            await _store(
                session, chat_id=chat_id, actor=actor, kind=kind, before=before, after=after, limits=limits, now=now
            )
    except LimitReached:
        await session.rollback()
        raise
    await session.commit()
    return await chat_feeds(session, chat_id, actor)


async def unsubscribe(
    session: Session, *, chat_id: int, actor: int | None, kinds: Sequence[str] = (), coins: Sequence[str] = ()
) -> tuple[int, ChatFeeds]:
    """Remove coins from the chat's feeds (a feed left without coins goes), or whole feeds of
    `kinds` (every feed when neither is given); commits. Returns (how many coins/feeds went, feeds)."""
    repository = FeedRepository(session)
    removed = 0
    if coins:
        for row in await repository.for_chat(chat_id):
            if kinds and row.kind not in kinds:
                continue
            kept = tuple(symbol for symbol in row.symbols if symbol not in coins)
            removed += len(row.symbols) - len(kept)
            if not kept:
                await repository.delete(chat_id, [row.kind])
            elif kept != row.symbols:
                await repository.save(
                    chat_id=chat_id,
                    kind=row.kind,
                    symbols=kept,
                    timeframes=row.timeframes,
                    level=row.level,
                    thread_id=row.thread_id,
                    created_by=row.created_by,
                    now=utcnow(),
                )
    else:
        removed = await repository.delete(chat_id, list(kinds or KINDS))
    await session.commit()
    return removed, await chat_feeds(session, chat_id, actor)


def _toggle(values: tuple[str, ...], value: str) -> tuple[str, ...]:
    return tuple(v for v in values if v != value) if value in values else (*values, value)


async def edit(
    session: Session,
    *,
    chat_id: int,
    actor: int,
    kind: str,
    action: Edit,
    value: str = "",
    now: datetime | None = None,
) -> ChatFeeds:
    """One /feeds button: change one feed of the chat; commits. Raises `LimitReached`, `LastCoin`,
    `NoSuchFeed` (nothing changed)."""
    if kind not in KINDS:
        raise NoSuchFeed(kind)
    now = now or utcnow()
    current = await _load(session, chat_id, None, now)
    before = current.feed(kind)
    if action is Edit.REMOVE:
        await FeedRepository(session).delete(chat_id, [kind])
        await session.commit()
        return await chat_feeds(session, chat_id, actor)
    if action is Edit.ADD:
        if before is not None:
            return await chat_feeds(session, chat_id, actor)
        other = next((feed for feed in current.feeds.values() if feed.kind != kind), None)
        after = FeedView(
            kind=kind,
            symbols=other.symbols if other else DEFAULT_COINS,
            timeframes=DEFAULT_TIMEFRAMES[kind],
            level="on",
            thread_id=other.thread_id if other else None,
            active=True,
        )
        limits = await plan_limits(session, actor, now)
        after = replace(after, symbols=after.symbols[: max(1, limits.max_coins)])
    else:
        if before is None:
            raise NoSuchFeed(kind)
        after = _edited(before, action, value)
        limits = await plan_limits(session, actor, now)
    try:
        await _store(
            session, chat_id=chat_id, actor=actor, kind=kind, before=before, after=after, limits=limits, now=now
        )
    except LimitReached:
        await session.rollback()
        raise
    await session.commit()
    return await chat_feeds(session, chat_id, actor)


def _edited(before: FeedView, action: Edit, value: str) -> FeedView:
    match action:
        case Edit.COIN:
            symbols = _toggle(before.symbols, value)
            if not symbols:
                raise LastCoin(before.kind)
            return replace(before, symbols=symbols)
        case Edit.TIMEFRAME:
            return replace(before, timeframes=_toggle(before.timeframes, value))
        case Edit.LEVEL:
            if value not in LEVELS:
                raise NoSuchFeed(value)
            return replace(before, level=value)
        case Edit.TOPIC:
            return replace(before, thread_id=int(value) if value else None)
    raise NoSuchFeed(str(action))
