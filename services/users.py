"""Registering users and chats as updates arrive (one small unit of work per update)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Chat, User
from db.repositories.users import ChatRepository, TelegramProfile, UserRepository
from services.i18n import normalize_locale

LAST_SEEN_RESOLUTION = timedelta(minutes=5)


@dataclass(frozen=True)
class ChatInfo:
    chat_id: int
    type: str
    title: str | None


@dataclass
class Seen:
    user: User | None
    user_created: bool
    chat: Chat | None


async def register(
    session: AsyncSession, profile: TelegramProfile | None, chat: ChatInfo | None, now: datetime
) -> Seen:
    """Upsert the user and chat behind an update and commit; cheap when nothing changed."""
    users = UserRepository(session)
    user: User | None = None
    created = False
    if profile is not None:
        existing = await users.by_telegram_id(profile.telegram_id)
        if existing is None:
            user, created = await users.upsert(profile, now)
        else:
            user = existing
            if (existing.username, existing.first_name, existing.language_code) != (
                profile.username,
                profile.first_name,
                profile.language_code,
            ) or now - existing.last_seen_at >= LAST_SEEN_RESOLUTION:
                user, _ = await users.upsert(profile, now)
    chat_row: Chat | None = None
    if chat is not None:
        chats = ChatRepository(session)
        chat_row = await chats.get(chat.chat_id)
        if chat_row is None or (chat_row.type, chat_row.title, chat_row.active) != (
            chat.type,
            chat.title,
            True,
        ):
            chat_row = await chats.upsert(chat.chat_id, chat.type, chat.title)
    if session.dirty or session.new or created or chat_row is not None:
        await session.commit()
    return Seen(user, created, chat_row)


def resolve_locale(user: User | None, chat: Chat | None, default: str) -> str:
    """A user's explicit choice wins, then Telegram's language, then the chat's, then the default."""
    if user is not None:
        if user.locale:
            return user.locale
        from_telegram = normalize_locale(user.language_code)
        if from_telegram:
            return from_telegram
    if chat is not None and chat.locale:
        return chat.locale
    return default


async def set_locale(session: AsyncSession, user: User, locale: str) -> None:
    await UserRepository(session).set_locale(user.id, locale)
    user.locale = locale
    await session.commit()


async def set_bot_blocked(session: AsyncSession, telegram_id: int, blocked: bool) -> None:
    """Record that the user blocked (or unblocked) the bot; commits."""
    await UserRepository(session).set_bot_blocked(telegram_id, blocked)
    await session.commit()
