"""Last-resort error handler: log the update and exception; tell the user, never show internals."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from services.i18n import Translations, Translator

logger = logging.getLogger("coinsight.errors")


async def on_error(event: ErrorEvent, bot: Bot, translations: Translations, **data: Any) -> bool:
    update = event.update
    logger.error(
        "update %s failed: %r",
        update.update_id,
        update.model_dump(exclude_none=True, exclude_defaults=True),
        exc_info=event.exception,
    )
    t: Translator = data.get("t") or translations.get(None)
    chat_id: int | None = None
    if update.message is not None:
        chat_id = update.message.chat.id
    elif update.callback_query is not None:
        message = update.callback_query.message
        chat_id = message.chat.id if message is not None else update.callback_query.from_user.id
        try:
            await update.callback_query.answer()
        except TelegramAPIError:
            logger.debug("could not answer the callback query of a failed update")
    if chat_id is not None:
        try:
            await bot.send_message(chat_id, t("error-generic"))
        except TelegramAPIError as exc:
            logger.warning("could not tell chat %s about the error: %s", chat_id, exc)
    return True


def build_router() -> Router:
    router = Router(name="errors")
    router.errors.register(on_error)
    return router
