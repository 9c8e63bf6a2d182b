from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.changes import chat_changed, user_changed
from db.models import Base, Chat, User
from db.repositories.dialect import dialect_insert

INVITE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


def new_invite_code(length: int = 8) -> str:
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class TelegramProfile:
    telegram_id: int
    username: str | None
    first_name: str
    language_code: str | None


# The columns of the plain views of users and chats (services/users.py `UserView`, `ChatView`), in
# their fields' order: registration reads and writes rows as these, never as ORM objects.
USER_VIEW = (
    User.id,
    User.telegram_id,
    User.username,
    User.first_name,
    User.language_code,
    User.locale,
    User.plan,
    User.plan_expires_at,
    User.invite_code,
    User.banned,
    User.bot_blocked,
)
CHAT_VIEW = (Chat.id, Chat.type, Chat.title, Chat.locale, Chat.active)
_PRIVATE_CHAT_VIEW = tuple(column.label(f"chat_{column.key}") for column in CHAT_VIEW)
ViewRow = Row[*tuple[Any, ...]]  # a row of `USER_VIEW` or `CHAT_VIEW` columns
BATCH_ROWS = 500  # rows (or ids) per statement: far below both drivers' bound-parameter limits


def _table_insert(session: AsyncSession, entity: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """`INSERT` into a table (not an ORM entity: many rows at once run as Core's "insertmanyvalues",
    one statement compiled once and sent for many rows) with the dialect's `on_conflict_*`."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return insert(entity.metadata.tables[entity.__tablename__])


def _chunks(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[start : start + BATCH_ROWS] for start in range(0, len(items), BATCH_ROWS)]


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def by_telegram_id(self, telegram_id: int) -> User | None:
        return await self.session.scalar(select(User).where(User.telegram_id == telegram_id))

    async def with_chat(self, telegram_id: int, chat_id: int) -> tuple[User, Chat | None] | None:
        """The user and a chat in one query (None: no such user)."""
        chat = select(User, Chat).select_from(User).outerjoin(Chat, Chat.id == chat_id)
        statement = chat.where(User.telegram_id == telegram_id)
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else (row[0], row[1])

    async def by_invite_code(self, code: str) -> User | None:
        return await self.session.scalar(select(User).where(User.invite_code == code))

    async def upsert(self, profile: TelegramProfile, now: datetime) -> tuple[User, bool]:
        """Insert or refresh a user from Telegram's data; race-safe. Returns (user, created)."""
        user = await self.by_telegram_id(profile.telegram_id)
        if user is None:
            return await self.create(profile, now)
        self.refresh(user, profile, now)
        return user, False

    async def create(self, profile: TelegramProfile, now: datetime) -> tuple[User, bool]:
        """Insert a user not seen before; when another update inserted it meanwhile, that row is
        refreshed instead. Returns (user, created)."""
        statement = (
            dialect_insert(self.session, User)
            .values(
                telegram_id=profile.telegram_id,
                username=profile.username,
                first_name=profile.first_name,
                language_code=profile.language_code,
                invite_code=new_invite_code(),
                last_seen_at=now,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["telegram_id"])
            .returning(User.id)
        )
        created = (await self.session.execute(statement)).scalar() is not None
        user = await self.by_telegram_id(profile.telegram_id)
        assert user is not None
        if not created:
            self.refresh(user, profile, now)
        return user, created

    async def views_with_private_chats(self, telegram_ids: Sequence[int]) -> list[ViewRow]:
        """`USER_VIEW` columns of these users, each with its private chat's `CHAT_VIEW` columns
        (labelled `chat_…`, NULL when there is no such chat row), in one query per chunk."""
        rows: list[ViewRow] = []
        joined = User.__table__.outerjoin(Chat.__table__, Chat.id == User.telegram_id)
        for chunk in _chunks(telegram_ids):
            statement = select(*USER_VIEW, *_PRIVATE_CHAT_VIEW).select_from(joined).where(User.telegram_id.in_(chunk))
            rows.extend((await self.session.execute(statement)).all())
        return rows

    async def views(self, telegram_ids: Sequence[int]) -> list[ViewRow]:
        """`USER_VIEW` columns of these users (those that exist)."""
        rows: list[ViewRow] = []
        for chunk in _chunks(telegram_ids):
            statement = select(*USER_VIEW).where(User.telegram_id.in_(chunk))
            rows.extend((await self.session.execute(statement)).all())
        return rows

    async def insert_many(self, profiles: Sequence[tuple[TelegramProfile, datetime]]) -> list[ViewRow]:
        """Insert users not seen before, hundreds per statement; `USER_VIEW` columns of the rows inserted.
        A user that exists already (inserted meanwhile by another process) or whose new invite code
        is taken is left out (`ON CONFLICT DO NOTHING`, any unique constraint): the caller reads the
        former and tries the latter again."""
        values = [
            {
                "telegram_id": profile.telegram_id,
                "username": profile.username,
                "first_name": profile.first_name,
                "language_code": profile.language_code,
                "invite_code": new_invite_code(),
                "last_seen_at": now,
                "created_at": now,
            }
            for profile, now in profiles
        ]
        statement = _table_insert(self.session, User).on_conflict_do_nothing().returning(*USER_VIEW)
        return list((await self.session.execute(statement, values)).all())

    async def refresh_profile(self, user_id: int, profile: TelegramProfile, now: datetime) -> None:
        """Telegram's current profile on a user's row, in one UPDATE (the cached view is dropped once
        the transaction commits)."""
        await self.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(
                username=profile.username,
                first_name=profile.first_name,
                language_code=profile.language_code,
                last_seen_at=now,
            )
        )
        user_changed(self.session, user_id=user_id, telegram_id=profile.telegram_id)

    @staticmethod
    def refresh(user: User, profile: TelegramProfile, now: datetime) -> None:
        """Telegram's current profile on the row (flushed with the unit of work)."""
        user.username = profile.username
        user.first_name = profile.first_name
        user.language_code = profile.language_code
        user.last_seen_at = now

    async def set_locale(self, user_id: int, locale: str | None) -> None:
        await self.session.execute(update(User).where(User.id == user_id).values(locale=locale))
        user_changed(self.session, user_id=user_id)

    async def set_bot_blocked(self, telegram_id: int, blocked: bool) -> None:
        await self.session.execute(update(User).where(User.telegram_id == telegram_id).values(bot_blocked=blocked))
        user_changed(self.session, telegram_id=telegram_id)

    async def set_banned(self, user_id: int, banned: bool) -> None:
        await self.session.execute(update(User).where(User.id == user_id).values(banned=banned))
        user_changed(self.session, user_id=user_id)

    async def touch_seen(self, user_ids: Collection[int], now: datetime) -> None:
        """`last_seen_at = now` for these users, in one statement."""
        await self.session.execute(
            update(User)
            .where(User.id.in_(user_ids))
            .values(last_seen_at=now)
            .execution_options(synchronize_session=False)
        )


class ChatRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, chat_id: int) -> Chat | None:
        return await self.session.get(Chat, chat_id)

    async def upsert(self, chat_id: int, type_: str, title: str | None) -> Chat:
        statement = (
            dialect_insert(self.session, Chat)
            .values(id=chat_id, type=type_, title=title, active=True)
            # An update from the chat means the bot is in it again.
            .on_conflict_do_update(index_elements=["id"], set_={"type": type_, "title": title, "active": True})
        )
        await self.session.execute(statement)
        chat = await self.session.get(Chat, chat_id, populate_existing=True)
        assert chat is not None
        return chat

    async def views(self, chat_ids: Sequence[int]) -> list[ViewRow]:
        """`CHAT_VIEW` columns of these chats (those that exist)."""
        rows: list[ViewRow] = []
        for chunk in _chunks(chat_ids):
            rows.extend((await self.session.execute(select(*CHAT_VIEW).where(Chat.id.in_(chunk)))).all())
        return rows

    async def upsert_many(self, chats: Sequence[tuple[int, str, str | None]]) -> list[ViewRow]:
        """Insert these chats (id, type, title), or set type and title of those that exist and mark
        them active (an update from a chat means the bot is in it); `CHAT_VIEW` columns of each.
        Each id at most once."""
        insert = _table_insert(self.session, Chat)
        statement = insert.on_conflict_do_update(
            index_elements=["id"], set_={"type": insert.excluded.type, "title": insert.excluded.title, "active": True}
        ).returning(*CHAT_VIEW)
        values = [{"id": id_, "type": type_, "title": title, "active": True} for id_, type_, title in chats]
        return list((await self.session.execute(statement, values)).all())

    async def set_active(self, chat_id: int, active: bool) -> None:
        await self.session.execute(update(Chat).where(Chat.id == chat_id).values(active=active))
        chat_changed(self.session, chat_id)
