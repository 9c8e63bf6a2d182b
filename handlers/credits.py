"""/buy, /balance, /history (paged in place) and /paysupport. Private chats only: in groups these
commands answer with a button to the private chat (balances and payments are nobody else's business).
"""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import CreditsMenuAction, CreditsMenuCallback, HistoryCallback
from handlers.credits_ui import HISTORY_PAGE_SIZE, balance_text, history_view, offers_view, payments_block
from services.credits.catalog import list_offers, recent_payments
from services.credits.ledger import balance as ledger_balance
from services.credits.ledger import history as ledger_history
from services.credits.plans import plan_status
from services.i18n import Raw, Translations, Translator
from services.uow import Session
from services.users import UserView

log = logging.getLogger(__name__)

PRIVATE_COMMANDS = ("buy", "balance", "history", "paysupport", "invite")
MAX_HISTORY_PAGE = 1000
SUPPORT_TEXT_LIMIT = 1500


async def send_offers(bot: Bot, chat_id: int, session: Session, t: Translator) -> None:
    text, markup = offers_view(t, await list_offers(session))
    await bot.send_message(chat_id, text, reply_markup=markup)


async def buy(message: Message, bot: Bot, session: Session, t: Translator) -> None:
    await send_offers(bot, message.chat.id, session, t)


async def buy_button(query: CallbackQuery, bot: Bot, session: Session, t: Translator) -> None:
    await query.answer()
    await send_offers(bot, query.from_user.id, session, t)


async def balance(message: Message, session: Session, user: UserView, t: Translator) -> None:
    status = await plan_status(session, user.id)
    summary = await ledger_balance(session, user.id, recent=5)
    await message.answer(balance_text(t, status, summary))


async def history(message: Message, session: Session, user: UserView, t: Translator) -> None:
    page = await ledger_history(session, user.id, 1, HISTORY_PAGE_SIZE)
    text, markup = history_view(t, page)
    await message.answer(text, reply_markup=markup)


async def history_page(
    query: CallbackQuery, callback_data: HistoryCallback, session: Session, user: UserView, t: Translator
) -> None:
    number = min(max(callback_data.page, 1), MAX_HISTORY_PAGE)
    page = await ledger_history(session, user.id, number, HISTORY_PAGE_SIZE)
    text, markup = history_view(t, page)
    await query.answer()
    if not isinstance(query.message, Message):
        return
    try:
        await query.message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        if "message is not modified" not in exc.message:  # a double tap: nothing to change
            raise


async def paysupport(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: Session,
    user: UserView,
    t: Translator,
    translations: Translations,
    admin_ids: frozenset[int],
) -> None:
    payments = await recent_payments(session, user.id, limit=5)
    request = (command.args or "").strip()
    if not request:
        await message.answer("\n".join([t("paysupport"), "", payments_block(t, payments)]))
        return
    if not admin_ids:
        await message.answer(t("paysupport-unavailable"))
        return
    # Operators read requests in the default language.
    admin_t = translations.get(None)
    who = f"@{user.username}" if user.username else "—"
    text = admin_t(
        "paysupport-request",
        name=user.first_name or "—",
        username=who,
        telegram_id=str(user.telegram_id),
        request=request[:SUPPORT_TEXT_LIMIT],
        payments=Raw(payments_block(admin_t, payments)),
    )
    delivered = 0
    for admin_id in sorted(admin_ids):
        try:
            await bot.send_message(admin_id, text)
        except TelegramAPIError as exc:
            log.warning("could not forward a support request to admin %s: %s", admin_id, exc)
        else:
            delivered += 1
    await message.answer(t("paysupport-sent") if delivered else t("paysupport-unavailable"))


async def private_only(message: Message, bot: Bot, t: Translator) -> None:
    me = await bot.me()
    builder = InlineKeyboardBuilder()
    builder.button(text=t("private-only-button"), url=f"https://t.me/{me.username}")
    markup: InlineKeyboardMarkup = builder.as_markup()
    await message.reply(t("private-only"), reply_markup=markup)


def build_router() -> Router:
    router = Router(name="credits")
    private = F.chat.type == ChatType.PRIVATE
    router.message.register(buy, Command("buy"), private)
    router.message.register(balance, Command("balance"), private)
    router.message.register(history, Command("history"), private)
    router.message.register(paysupport, Command("paysupport"), private)
    router.message.register(private_only, Command(*PRIVATE_COMMANDS), ~private)
    router.callback_query.register(history_page, HistoryCallback.filter())
    router.callback_query.register(buy_button, CreditsMenuCallback.filter(F.action == CreditsMenuAction.BUY))
    return router
