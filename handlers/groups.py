"""Channels linked to their admin's private chat (/linkchannel @name, or a post forwarded from the
channel after /linkchannel), and a group's language (/language by its admins).

A channel is linked when Telegram says both that the bot is an administrator of it allowed to post
and that the user is an administrator of it; its feeds are then managed from the user's /feeds.
/unlinkchannel (handlers/channel_links.py) undoes it.
"""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    ChatFullInfo,
    ChatMemberAdministrator,
    InlineKeyboardMarkup,
    Message,
    MessageOriginChannel,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import LanguageCallback
from handlers.chat_admins import may_manage
from handlers.common import language_keyboard
from handlers.feeds_ui import FeedAction, FeedKind, FeedsCallback
from services.feeds.access import ADMIN_STATUSES, AdminCache
from services.feeds.chats import link_channel, set_chat_locale
from services.i18n import Translations, Translator
from services.uow import Session

log = logging.getLogger(__name__)

GROUP_TYPES = (ChatType.GROUP, ChatType.SUPERGROUP)
NAME_LIMIT = 64


class LinkChannel(StatesGroup):
    waiting = State()  # for @name or a forwarded post


def _manage_markup(t: Translator, chat_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    data = FeedsCallback(action=FeedAction.VIEW, chat=chat_id, kind=FeedKind.SIGNALS)
    builder.button(text=t("feeds-button-manage"), callback_data=data)
    return builder.as_markup()


async def _link(message: Message, ref: int | str, bot: Bot, session: Session, t: Translator, cache: AdminCache) -> None:
    """Check with Telegram and link; every refusal answered in words."""
    user = message.from_user
    if user is None:
        return
    shown = str(ref)[:NAME_LIMIT]
    channel = await telegram_channel(
        message, bot, ref, t, not_found="feeds-link-not-found", not_channel="feeds-link-not-channel"
    )
    if channel is None:
        return
    title = channel.title or shown
    try:
        me = await bot.get_chat_member(channel.id, bot.id)
    except (TelegramBadRequest, TelegramForbiddenError):
        me = None
    if not isinstance(me, ChatMemberAdministrator) or not me.can_post_messages:
        await message.answer(t("feeds-link-bot-not-admin", channel=title))
        return
    try:
        member = await bot.get_chat_member(channel.id, user.id)
    except (TelegramBadRequest, TelegramForbiddenError):
        member = None
    if member is None or member.status not in ADMIN_STATUSES:
        await message.answer(t("feeds-link-user-not-admin", channel=title))
        return
    await cache.put(channel.id, user.id, True)
    await link_channel(session, chat_id=channel.id, title=channel.title, username=channel.username, managed_by=user.id)
    await message.answer(t("feeds-link-done", channel=title), reply_markup=_manage_markup(t, channel.id))


async def telegram_channel(
    message: Message, bot: Bot, ref: int | str, t: Translator, *, not_found: str, not_channel: str
) -> ChatFullInfo | None:
    """The channel `ref` names, as Telegram knows it; None once the person was told why not (the
    message keys `not_found` and `not_channel`, with the name shown). /linkchannel's and /unlinkchannel's."""
    shown = str(ref)[:NAME_LIMIT]
    try:
        chat = await bot.get_chat(ref)
    except (TelegramBadRequest, TelegramForbiddenError) as exc:
        log.info("channel %s not found: %s", shown, exc.message)
        await message.answer(t(not_found, name=shown))
        return None
    if chat.type != ChatType.CHANNEL:
        await message.answer(t(not_channel, name=shown))
        return None
    return chat


def channel_ref(text: str) -> int | str | None:
    """@name, t.me/name or a numeric id (-100…)."""
    word = text.strip().split()[0] if text.strip() else ""
    word = word.removeprefix("https://").removeprefix("http://").removeprefix("t.me/")
    if word.lstrip("-").isdigit():
        return int(word)
    name = word.lstrip("@")
    return f"@{name}" if name and name.replace("_", "").isalnum() else None


async def linkchannel_cmd(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: Session,
    t: Translator,
    feed_admins: AdminCache,
    state: FSMContext,
) -> None:
    ref = channel_ref(command.args or "")
    if ref is None:
        await state.set_state(LinkChannel.waiting)
        await message.answer(t("feeds-link-how"))
        return
    await state.clear()
    await _link(message, ref, bot, session, t, feed_admins)


async def forwarded_post(
    message: Message, bot: Bot, session: Session, t: Translator, feed_admins: AdminCache, state: FSMContext
) -> None:
    origin = message.forward_origin
    if not isinstance(origin, MessageOriginChannel):
        return
    await state.clear()
    await _link(message, origin.chat.id, bot, session, t, feed_admins)


async def channel_name(
    message: Message, bot: Bot, session: Session, t: Translator, feed_admins: AdminCache, state: FSMContext
) -> None:
    ref = channel_ref(message.text or "")
    await state.clear()
    if ref is None:
        await message.answer(t("feeds-link-how"))
        return
    await _link(message, ref, bot, session, t, feed_admins)


async def linkchannel_elsewhere(message: Message, t: Translator) -> None:
    await message.answer(t("feeds-link-private-only"))


# ----------------------------------------------------------------------------------- language
async def _group_admin(message: Message, bot: Bot, session: Session, cache: AdminCache, user_id: int) -> bool:
    return await may_manage(
        bot,
        cache,
        session,
        target=message.chat.id,
        here=message.chat.id,
        here_type=message.chat.type,
        user_id=user_id,
        sender_chat=message.sender_chat.id if message.sender_chat else None,
    )


async def group_language(message: Message, bot: Bot, session: Session, t: Translator, feed_admins: AdminCache) -> None:
    user_id = message.from_user.id if message.from_user else 0
    if not await _group_admin(message, bot, session, feed_admins, user_id):
        await message.answer(t("feeds-not-admin"))
        return
    await message.answer(t("feeds-language-choose"), reply_markup=language_keyboard())


async def group_language_chosen(
    query: CallbackQuery,
    callback_data: LanguageCallback,
    bot: Bot,
    session: Session,
    t: Translator,
    translations: Translations,
    feed_admins: AdminCache,
) -> None:
    message = query.message
    if not isinstance(message, Message):
        await query.answer()
        return
    if not await _group_admin(message, bot, session, feed_admins, query.from_user.id):
        await query.answer(t("feeds-not-admin"), show_alert=True)
        return
    await set_chat_locale(session, message.chat.id, callback_data.code.value)
    chosen = translations.get(callback_data.code.value)
    await query.answer()
    await message.edit_text(chosen("feeds-language-set"))


def build_router() -> Router:
    router = Router(name="groups")
    private = F.chat.type == ChatType.PRIVATE
    groups = F.chat.type.in_(GROUP_TYPES)
    router.message.register(linkchannel_cmd, Command("linkchannel"), private)
    router.message.register(linkchannel_elsewhere, Command("linkchannel"), ~private)
    router.message.register(forwarded_post, StateFilter(LinkChannel.waiting), private, F.forward_origin)
    router.message.register(channel_name, StateFilter(LinkChannel.waiting), private, F.text.regexp(r"^\s*@"))
    router.message.register(group_language, Command("language"), groups)
    router.callback_query.register(
        group_language_chosen, LanguageCallback.filter(), F.message.chat.type.in_(GROUP_TYPES)
    )
    return router
