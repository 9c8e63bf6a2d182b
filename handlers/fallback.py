"""Last router: unknown commands and messages we don't handle get a short hint."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message

from services.i18n import Translator


async def unknown_command(message: Message, t: Translator) -> None:
    await message.answer(t("unknown-command"))


async def non_text(message: Message, t: Translator) -> None:
    if message.successful_payment or message.pinned_message:
        return
    await message.answer(t("non-text"))


async def stale_button(query: CallbackQuery) -> None:
    await query.answer()


def build_router() -> Router:
    router = Router(name="fallback")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(unknown_command, F.text.startswith("/"))
    router.message.register(non_text, ~F.text)
    router.callback_query.register(stale_button)
    return router
