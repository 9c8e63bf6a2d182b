"""Reusable filters."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject
from aiogram.types import User as TelegramUser

from services.container import Services


class IsAdmin(Filter):
    """The update comes from an operator (a Telegram user id in ADMIN_IDS, `Services.admin_ids`).

    Routers of admin commands filter on it, so for everyone else those commands fall through to the
    ordinary unknown-command hint and nothing reveals that they exist."""

    async def __call__(
        self, event: TelegramObject, services: Services, event_from_user: TelegramUser | None = None
    ) -> bool:
        return services.is_admin(event_from_user.id if event_from_user is not None else None)
