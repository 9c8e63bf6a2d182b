from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class DbSessionMiddleware(BaseMiddleware):
    """One database session per update; whatever was not committed is rolled back at the end.

    The session is lazy: it takes a connection on its first statement, so an update that needs no
    database (a returning user's /help while their view is cached: `services.user_cache`) checks out
    none, and closing it unused costs nothing (db/changes.py `AnnouncingSession.close`). Registration
    does not use it either: new users are written in groups by `Registrations`, in sessions of its
    own."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with self.sessionmaker() as session:
            data["session"] = session
            return await handler(event, data)
