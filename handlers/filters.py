"""Reusable filters."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject
from aiogram.types import User as TelegramUser

from bot.settings import Settings


class IsAdmin(Filter):
    """The update comes from an operator (a Telegram user id in settings.admin_ids).

    Routers of admin commands filter on it, so for everyone else those commands fall through to the
    ordinary unknown-command hint and nothing reveals that they exist."""

    async def __call__(
        self, event: TelegramObject, settings: Settings, event_from_user: TelegramUser | None = None
    ) -> bool:
        return event_from_user is not None and event_from_user.id in settings.admin_ids
