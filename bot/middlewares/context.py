from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, TelegramObject, Update, User

from bot.middlewares.banned import BannedNotice
from bot.middlewares.reads import CACHED_VIEWS
from db.models import utcnow
from db.repositories.users import TelegramProfile
from services.i18n import Translations
from services.user_cache import Registrar
from services.users import ChatInfo, resolve_locale


class ContextMiddleware(BaseMiddleware):
    """Registers the user and chat, stops updates from banned users (they get `BannedNotice`'s one
    line), and picks the language.

    A returning user costs no write and, while their view is cached, no query (`Registrar`)."""

    def __init__(self, translations: Translations, registrar: Registrar, banned: BannedNotice | None = None) -> None:
        self.translations = translations
        self.registrar = registrar
        self.banned = banned

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        tg_user: User | None = data.get("event_from_user")
        tg_chat: Chat | None = data.get("event_chat")
        profile = None
        if tg_user is not None and not tg_user.is_bot:
            profile = TelegramProfile(
                telegram_id=tg_user.id,
                username=tg_user.username,
                first_name=tg_user.first_name,
                language_code=tg_user.language_code,
            )
        chat = None
        if tg_chat is not None:
            title = tg_chat.title or tg_chat.full_name
            chat = ChatInfo(chat_id=tg_chat.id, type=tg_chat.type, title=title)
        seen = await self.registrar.register(profile, chat, utcnow(), data.get(CACHED_VIEWS))
        data["user"] = seen.user
        data["user_created"] = seen.user_created
        data["chat_view"] = seen.chat
        locale = resolve_locale(seen.user, seen.chat, self.translations.default_locale)
        data["locale"] = locale
        data["t"] = self.translations.get(locale)
        if seen.user is not None and seen.user.banned and not _is_payment(event):
            if self.banned is not None and isinstance(event, Update):
                await self.banned(event, data["bot"], data["t"])
            return None
        return await handler(event, data)


def _is_payment(event: TelegramObject) -> bool:
    """Payment updates of banned users still reach the handlers: a pre-checkout query must be refused
    with a reason (not left to time out), and money Telegram already took (and the state of a Stars
    subscription) must be recorded."""
    if not isinstance(event, Update):
        return False
    if event.pre_checkout_query is not None or event.subscription is not None:
        return True
    message = event.message
    return message is not None and (message.successful_payment is not None or message.refunded_payment is not None)
