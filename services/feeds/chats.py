"""The chats feeds live in: the bot leaving and coming back, a group becoming a supergroup,
channels linked by their admins, and each chat's language. Every function here commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from db.models import utcnow
from db.repositories.deliveries import DeliveryRepository
from db.repositories.feeds import FeedRepository
from services.feeds.model import ChatTarget
from services.i18n import SUPPORTED_LOCALES
from services.uow import Session

REMOVED_REASON = "the bot was removed from the chat"


@dataclass(frozen=True, slots=True, kw_only=True)
class Resumed:
    chat_id: int
    was_inactive: bool  # the bot had been removed (or never seen here): worth telling the chat
    feeds: int  # feeds that resumed
    locale: str | None  # the chat's language


async def bot_removed(session: Session, chat_id: int) -> int:
    """The bot was kicked or left: the chat goes inactive, its feeds pause and whatever was waiting
    for it in the outbox is skipped. Returns how many deliveries were dropped."""
    feeds = FeedRepository(session)
    await feeds.update_chat(chat_id, active=False)
    await feeds.set_active(chat_id, False)
    dropped = await DeliveryRepository(session).skip_chat(chat_id, REMOVED_REASON)
    await session.commit()
    return dropped


async def bot_returned(session: Session, chat_id: int, *, was_member: bool) -> Resumed:
    """The bot is in the chat again (added back, unbanned): the chat is active, its paused feeds
    resume. `was_member`: Telegram's old status already counted as in the chat (a promotion)."""
    repository = FeedRepository(session)
    chat = await repository.chat(chat_id)
    resumed = await repository.set_active(chat_id, True)
    if chat is not None and not chat.active:
        await repository.update_chat(chat_id, active=True)
    await session.commit()
    return Resumed(
        chat_id=chat_id,
        was_inactive=not was_member,
        feeds=resumed,
        locale=chat.locale if chat is not None else None,
    )


async def chat_migrated(session: Session, old_chat_id: int, new_chat_id: int, now: datetime | None = None) -> int:
    """A group became a supergroup (the service messages): `move_migrated_chat`, committed."""
    moved = await move_migrated_chat(session, old_chat_id, new_chat_id, now)
    await session.commit()
    return moved.feeds


class Moved(NamedTuple):
    feeds: int
    deliveries: int


async def move_migrated_chat(
    session: Session, old_chat_id: int, new_chat_id: int, now: datetime | None = None
) -> Moved:
    """A group became a supergroup: its chat row (language included), feeds and waiting deliveries
    follow the new id, the old row goes inactive; the old group's feed of a kind the supergroup has
    already is dropped (one feed per chat and kind). Used for the service messages and by the outbox
    sender when a send answers with migrate_to_chat_id; safe to run twice (Telegram announces a
    migration in both chats). In the caller's transaction. Returns how many feeds and rows moved."""
    if old_chat_id == new_chat_id:
        return Moved(0, 0)
    feeds = FeedRepository(session)
    deliveries = DeliveryRepository(session)
    old = await feeds.chat(old_chat_id)
    await feeds.drop_conflicting(old_chat_id, new_chat_id)
    moved = await deliveries.move_chat_feeds(old_chat_id, new_chat_id)
    rows = await deliveries.move_chat(old_chat_id, new_chat_id, now or utcnow())
    new = await feeds.chat(new_chat_id)
    if old is not None and new is not None and new.locale is None and old.locale is not None:
        await feeds.update_chat(new_chat_id, locale=old.locale)
    await feeds.update_chat(old_chat_id, active=False)
    return Moved(moved, rows)


async def link_channel(
    session: Session, *, chat_id: int, title: str | None, username: str | None, managed_by: int
) -> ChatTarget:
    """A channel whose admin (checked by the caller with Telegram) manages its feeds from their
    private chat; linking again (by another admin) moves the management to them."""
    await FeedRepository(session).upsert_channel(chat_id, title, username, managed_by)
    await session.commit()
    return ChatTarget(id=chat_id, type="channel", title=title)


async def managed_chats(session: Session, telegram_id: int) -> list[ChatTarget]:
    """The channels this person linked (for /feeds' chat picker)."""
    rows = await FeedRepository(session).managed_by(telegram_id)
    await session.rollback()
    return [ChatTarget(id=row.id, type=row.type, title=row.title, locale=row.locale) for row in rows]


async def manager_of(session: Session, chat_id: int) -> int | None:
    """Who manages a linked channel (None: nobody, or not a linked channel)."""
    chat = await FeedRepository(session).chat(chat_id)
    await session.rollback()
    return chat.managed_by if chat is not None and chat.active else None


async def set_chat_locale(session: Session, chat_id: int, locale: str) -> None:
    """The language of everything the bot pushes to (and says in) this chat."""
    if locale not in SUPPORTED_LOCALES:
        raise ValueError(locale)
    await FeedRepository(session).update_chat(chat_id, locale=locale)
    await session.commit()
