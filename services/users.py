"""Registering users and chats as updates arrive, and the plain views of them (`UserView`,
`ChatView`) that middlewares and handlers see instead of ORM rows. (The cached path in front of
`register`, for returning users, is `services.user_cache`.)

Every function here that changes something owns its unit of work and commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Chat, User
from db.repositories.users import ChatRepository, TelegramProfile, UserRepository
from services.i18n import normalize_locale


@dataclass(frozen=True)
class ChatInfo:
    chat_id: int
    type: str
    title: str | None


@dataclass(frozen=True, kw_only=True)
class UserView:
    """A user as handlers see it: plain data, read once per update."""

    id: int
    telegram_id: int
    username: str | None
    first_name: str
    language_code: str | None
    locale: str | None
    plan: str
    plan_expires_at: datetime | None
    invite_code: str
    banned: bool
    bot_blocked: bool

    @classmethod
    def of(cls, row: User) -> UserView:
        return cls(
            id=row.id,
            telegram_id=row.telegram_id,
            username=row.username,
            first_name=row.first_name,
            language_code=row.language_code,
            locale=row.locale,
            plan=row.plan,
            plan_expires_at=row.plan_expires_at,
            invite_code=row.invite_code,
            banned=row.banned,
            bot_blocked=row.bot_blocked,
        )


@dataclass(frozen=True, kw_only=True)
class ChatView:
    id: int
    type: str
    title: str | None
    locale: str | None
    active: bool

    @classmethod
    def of(cls, row: Chat) -> ChatView:
        return cls(id=row.id, type=row.type, title=row.title, locale=row.locale, active=row.active)


@dataclass(frozen=True, kw_only=True)
class Seen:
    user: UserView | None
    user_created: bool
    chat: ChatView | None


async def register(
    session: AsyncSession, profile: TelegramProfile | None, chat: ChatInfo | None, now: datetime
) -> Seen:
    """The user and chat behind an update, from the database: inserted when new, refreshed when
    Telegram's data changed (name, username, language; chat type and title). A returning user in a
    known chat costs one SELECT and no write (`last_seen_at` is batched: `services.user_cache`).

    Always ends its transaction, also when nothing changed: no connection stays checked out while
    the update goes on to the network."""
    users = UserRepository(session)
    user: User | None = None
    chat_row: Chat | None = None
    chat_read = False
    created = False
    if profile is not None:
        if chat is not None:
            found = await users.with_chat(profile.telegram_id, chat.chat_id)
            if found is not None:
                user, chat_row = found
                chat_read = True
        else:
            user = await users.by_telegram_id(profile.telegram_id)
        if user is None:
            user, created = await users.create(profile, now)
        elif profile_of(user) != profile:
            users.refresh(user, profile, now)
    if chat is not None:
        chats = ChatRepository(session)
        if not chat_read:
            chat_row = await chats.get(chat.chat_id)
        if chat_row is None or (chat_row.type, chat_row.title, chat_row.active) != (chat.type, chat.title, True):
            chat_row = await chats.upsert(chat.chat_id, chat.type, chat.title)
    await session.commit()
    return Seen(
        user=UserView.of(user) if user is not None else None,
        user_created=created,
        chat=ChatView.of(chat_row) if chat_row is not None else None,
    )


def profile_of(user: User | UserView) -> TelegramProfile:
    """What Telegram tells us about a user, as last stored."""
    return TelegramProfile(
        telegram_id=user.telegram_id,
        username=user.username,
        first_name=user.first_name,
        language_code=user.language_code,
    )


def chat_matches(view: ChatView, chat: ChatInfo) -> bool:
    """The stored chat is what the update shows (and the bot is in it)."""
    return (view.type, view.title, view.active) == (chat.type, chat.title, True)


def resolve_locale(user: UserView | User | None, chat: ChatView | Chat | None, default: str) -> str:
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


async def set_locale(session: AsyncSession, user_id: int, locale: str) -> None:
    """The user's explicit language choice; commits."""
    await UserRepository(session).set_locale(user_id, locale)
    await session.commit()


async def record_start_payload(session: AsyncSession, user_id: int, payload: str) -> None:
    """Keep the deep-link payload of a user's first /start (attribution); commits."""
    row = await UserRepository(session).get(user_id)
    if row is not None and row.start_payload is None:
        row.start_payload = payload[:64]
    await session.commit()


async def notification_locale(session: AsyncSession, user_id: int, default: str) -> str | None:
    """The language to write to a user in, or None when they cannot be written to (blocked the bot,
    banned, unknown)."""
    row = await UserRepository(session).get(user_id)
    locale = None if row is None or row.bot_blocked or row.banned else resolve_locale(row, None, default)
    await session.rollback()  # a read: no connection held while the caller writes to the user
    return locale


async def set_banned(session: AsyncSession, user_id: int, banned: bool = True) -> None:
    """Ban (or unban) a user: their updates are ignored from the next one on (the cached view of
    them is dropped by the commit); commits."""
    await UserRepository(session).set_banned(user_id, banned)
    await session.commit()


async def set_bot_blocked(session: AsyncSession, telegram_id: int, blocked: bool) -> None:
    """Record that the user blocked (or unblocked) the bot; commits."""
    await UserRepository(session).set_bot_blocked(telegram_id, blocked)
    await session.commit()
