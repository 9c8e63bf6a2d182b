from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Chat, User
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


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def by_telegram_id(self, telegram_id: int) -> User | None:
        return await self.session.scalar(select(User).where(User.telegram_id == telegram_id))

    async def by_invite_code(self, code: str) -> User | None:
        return await self.session.scalar(select(User).where(User.invite_code == code))

    async def upsert(self, profile: TelegramProfile, now: datetime) -> tuple[User, bool]:
        """Insert or refresh a user from Telegram's data; race-safe. Returns (user, created)."""
        created = False
        user = await self.by_telegram_id(profile.telegram_id)
        if user is None:
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
            if created:
                return user, True
        user.username = profile.username
        user.first_name = profile.first_name
        user.language_code = profile.language_code
        user.last_seen_at = now
        return user, created

    async def set_locale(self, user_id: int, locale: str | None) -> None:
        await self.session.execute(update(User).where(User.id == user_id).values(locale=locale))

    async def set_bot_blocked(self, telegram_id: int, blocked: bool) -> None:
        await self.session.execute(update(User).where(User.telegram_id == telegram_id).values(bot_blocked=blocked))


class ChatRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, chat_id: int) -> Chat | None:
        return await self.session.get(Chat, chat_id)

    async def upsert(self, chat_id: int, type_: str, title: str | None) -> Chat:
        statement = (
            dialect_insert(self.session, Chat)
            .values(id=chat_id, type=type_, title=title, active=True)
            .on_conflict_do_update(index_elements=["id"], set_={"type": type_, "title": title})
        )
        await self.session.execute(statement)
        chat = await self.session.get(Chat, chat_id, populate_existing=True)
        assert chat is not None
        return chat

    async def set_active(self, chat_id: int, active: bool) -> None:
        await self.session.execute(update(Chat).where(Chat.id == chat_id).values(active=active))
