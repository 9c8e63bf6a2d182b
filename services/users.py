"""Registering users and chats as updates arrive, and the plain views of them (`UserView`,
`ChatView`) that middlewares and handlers see instead of ORM rows. (The cached path in front of
`register`, for returning users, is `services.user_cache`.)

Every function here that changes something owns its unit of work and commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Chat, User
from db.repositories.users import USER_VIEW, ChatRepository, TelegramProfile, UserRepository
from services.i18n import normalize_locale

INSERT_ATTEMPTS = 3  # a new user's invite code taken meanwhile: tried again with another code


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


@dataclass(frozen=True)
class Registration:
    """What one update shows of its user and chat, and when it came."""

    profile: TelegramProfile | None
    chat: ChatInfo | None
    now: datetime


async def register_many(session: AsyncSession, updates: Sequence[Registration]) -> list[Seen]:
    """The users and chats behind many updates, from the database, in a few statements for all of
    them: new ones inserted (a user once: `created` for the first of their updates only), changed
    ones refreshed (Telegram's name, username, language; chat type and title), the others read.
    Returning users in known private chats cost one SELECT in all and no write (`last_seen_at` is
    batched: `services.user_cache`). Safe against other processes registering the same users (unique
    Telegram id, `ON CONFLICT DO NOTHING`).

    Always ends its transaction (commits when it wrote, else rolls back): no connection stays
    checked out while the updates go on to the network."""
    users, chats = UserRepository(session), ChatRepository(session)
    profiles = {u.profile.telegram_id: (u.profile, u.now) for u in updates if u.profile is not None}
    wanted_chats = {u.chat.chat_id: u.chat for u in updates if u.chat is not None}
    user_views: dict[int, UserView] = {}
    chat_views: dict[int, ChatView | None] = {}  # None: known not to exist
    for row in await users.views_with_private_chats(list(profiles)) if profiles else ():
        user_views[row.telegram_id] = _user_view(row)
        chat_views[row.telegram_id] = None if row.chat_id is None else _chat_view(row[len(USER_VIEW) :])
    new = [telegram_id for telegram_id in profiles if telegram_id not in user_views]
    # A new user's private chat is new too (almost always): written without being read first.
    new_ids = set(new)
    unknown = [chat_id for chat_id in wanted_chats if chat_id not in chat_views and chat_id not in new_ids]
    for row in await chats.views(unknown) if unknown else ():
        chat_views[row.id] = _chat_view(row)
    created = await _insert_users(users, [profiles[telegram_id] for telegram_id in new], user_views)
    wrote = bool(created)
    for telegram_id, (profile, now) in profiles.items():
        view = user_views[telegram_id]
        if telegram_id not in created and profile_of(view) != profile:
            await users.refresh_profile(view.id, profile, now)
            user_views[telegram_id] = replace(
                view, username=profile.username, first_name=profile.first_name, language_code=profile.language_code
            )
            wrote = True
    stale = [
        (info.chat_id, info.type, info.title)
        for info in wanted_chats.values()
        if (known := chat_views.get(info.chat_id)) is None or not chat_matches(known, info)
    ]
    for row in await chats.upsert_many(stale) if stale else ():
        chat_views[row.id] = _chat_view(row)
        wrote = True
    if wrote:
        await session.commit()
    else:
        await session.rollback()
    first_seen: set[int] = set()
    seen = []
    for update in updates:
        user = user_views[update.profile.telegram_id] if update.profile is not None else None
        is_new = user is not None and user.telegram_id in created and user.telegram_id not in first_seen
        if is_new and user is not None:
            first_seen.add(user.telegram_id)
        chat = chat_views[update.chat.chat_id] if update.chat is not None else None
        seen.append(Seen(user=user, user_created=is_new, chat=chat))
    return seen


def _user_view(row: Sequence[Any]) -> UserView:
    """A view of a row of `USER_VIEW` columns (first in `row`)."""
    return UserView(
        id=row[0],
        telegram_id=row[1],
        username=row[2],
        first_name=row[3],
        language_code=row[4],
        locale=row[5],
        plan=row[6],
        plan_expires_at=row[7],
        invite_code=row[8],
        banned=row[9],
        bot_blocked=row[10],
    )


def _chat_view(row: Sequence[Any]) -> ChatView:
    """A view of a row of `CHAT_VIEW` columns."""
    return ChatView(id=row[0], type=row[1], title=row[2], locale=row[3], active=row[4])


async def _insert_users(
    users: UserRepository, profiles: list[tuple[TelegramProfile, datetime]], views: dict[int, UserView]
) -> set[int]:
    """Insert these users into `views`; the Telegram ids of those this call inserted. Users another
    process inserted meanwhile are read instead; a user whose new invite code was taken meanwhile is
    tried again with another."""
    created: set[int] = set()
    for _attempt in range(INSERT_ATTEMPTS):
        if not profiles:
            return created
        for row in await users.insert_many(profiles):
            views[row.telegram_id] = _user_view(row)
            created.add(row.telegram_id)
        left = [profile.telegram_id for profile, _ in profiles if profile.telegram_id not in views]
        for row in await users.views(left) if left else ():
            views[row.telegram_id] = _user_view(row)
        profiles = [(profile, now) for profile, now in profiles if profile.telegram_id not in views]
    if profiles:
        raise RuntimeError(f"{len(profiles)} users not registered after {INSERT_ATTEMPTS} attempts")
    return created


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
