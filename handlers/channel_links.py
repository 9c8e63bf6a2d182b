"""/unlinkchannel: undo /linkchannel (handlers/groups.py) from the private chat that linked it.

`/unlinkchannel @name` (or a numeric id) removes the link at once; `/unlinkchannel` alone lists the
person's linked channels with a button each, and a button asks to confirm first, since the
channel's feeds stop with the link (services/feeds/links.py says why). Only the person who linked
a channel can unlink it — whether or not Telegram still says they are one of its admins, so a
demoted admin can let go of it; everyone else is told it is not linked to them.
"""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import UnlinkAction, UnlinkCallback
from handlers.feeds_ui import feed_line
from handlers.groups import NAME_LIMIT, channel_ref, telegram_channel
from services.feeds.links import find_linked, linked_channels, unlink_channel
from services.feeds.model import FeedView, LinkedChannel, Unlinked
from services.feeds.service import chat_feeds
from services.i18n import Raw, Translator
from services.uow import Session

log = logging.getLogger(__name__)

BUTTON_TITLE_LIMIT = 40
# The list shows this many channels (a button each) with titles cut to LIST_TITLE_LIMIT: within
# Telegram's 4,096 characters and 100 buttons however many channels someone linked; the rest are
# counted and unlinked by name.
LIST_LIMIT = 20
LIST_TITLE_LIMIT = 64


def _title(channel: LinkedChannel) -> str:
    return channel.title or (f"@{channel.username}" if channel.username else str(channel.id))


def _lines(t: Translator, feeds: tuple[FeedView, ...]) -> Raw:
    return Raw("\n".join(feed_line(t, feed.kind, feed) for feed in feeds))


def _list_text(t: Translator, channels: list[LinkedChannel]) -> str:
    lines = [t("feeds-unlink-list-title"), ""]
    for channel in channels[:LIST_LIMIT]:
        name = f"@{channel.username}" if channel.username else str(channel.id)
        gone = t("feeds-unlink-list-bot-gone") if not channel.active else ""
        lines.append(t("feeds-unlink-list-line", channel=_title(channel)[:LIST_TITLE_LIMIT], name=name, gone=gone))
    if len(channels) > LIST_LIMIT:
        lines.append(t("feeds-unlink-list-more", count=len(channels) - LIST_LIMIT))
    lines += ["", t("feeds-unlink-list-how")]
    return "\n".join(lines)


def _list_markup(t: Translator, channels: list[LinkedChannel]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for channel in channels[:LIST_LIMIT]:
        data = UnlinkCallback(action=UnlinkAction.ASK, chat=channel.id)
        builder.button(text=t("feeds-unlink-button", channel=_title(channel)[:BUTTON_TITLE_LIMIT]), callback_data=data)
    builder.adjust(1)
    return builder.as_markup()


def _done_text(t: Translator, done: Unlinked) -> str:
    title = _title(done.channel)
    if not done.stopped:
        return t("feeds-unlink-done-no-feeds", channel=title)
    return t("feeds-unlink-done", channel=title, feeds=_lines(t, done.stopped))


async def _list(session: Session, t: Translator, user_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    channels = await linked_channels(session, user_id)
    if not channels:
        return t("feeds-unlink-none"), None
    return _list_text(t, channels), _list_markup(t, channels)


async def unlinkchannel_cmd(
    message: Message, command: CommandObject, bot: Bot, session: Session, t: Translator
) -> None:
    user = message.from_user
    if user is None:
        return
    args = (command.args or "").strip()
    if not args:
        text, markup = await _list(session, t, user.id)
        await message.answer(text, reply_markup=markup)
        return
    ref = channel_ref(args)
    if ref is None:
        await message.answer(t("feeds-unlink-bad-name", name=args.split()[0][:NAME_LIMIT]))
        return
    # Their own links first: no Telegram needed, so it works where the bot was removed or the
    # person is no longer an admin.
    channel = await find_linked(session, user.id, ref)
    if channel is None:  # as Telegram knows it: a renamed channel, a numeric id
        chat = await telegram_channel(
            message, bot, ref, t, not_found="feeds-unlink-not-found", not_channel="feeds-unlink-not-channel"
        )
        if chat is None:
            return
        channel = await find_linked(session, user.id, chat.id)
    done = None if channel is None else await unlink_channel(session, chat_id=channel.id, telegram_id=user.id)
    if done is None:
        await message.answer(t("feeds-unlink-not-linked", name=str(ref)[:NAME_LIMIT]))
        return
    await message.answer(_done_text(t, done))


async def _edit(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:  # a double tap: the message shows this already
        if "message is not modified" not in exc.message:
            raise


async def unlink_button(query: CallbackQuery, callback_data: UnlinkCallback, session: Session, t: Translator) -> None:
    message = query.message
    if not isinstance(message, Message):
        await query.answer()
        return
    user_id = query.from_user.id
    if callback_data.action is UnlinkAction.BACK:
        text, markup = await _list(session, t, user_id)
        await query.answer()
        await _edit(message, text, markup)
        return
    channel = await find_linked(session, user_id, callback_data.chat)
    if channel is None:
        await query.answer(t("feeds-unlink-gone"), show_alert=True)
        text, markup = await _list(session, t, user_id)
        await _edit(message, text, markup)
        return
    if callback_data.action is UnlinkAction.ASK:
        data = await chat_feeds(session, channel.id, None)
        feeds = tuple(data.feeds.values())
        if feeds:
            text = t("feeds-unlink-confirm", channel=_title(channel), feeds=_lines(t, feeds))
        else:
            text = t("feeds-unlink-confirm-no-feeds", channel=_title(channel))
        builder = InlineKeyboardBuilder()
        builder.button(
            text=t("feeds-unlink-button-yes"), callback_data=UnlinkCallback(action=UnlinkAction.YES, chat=channel.id)
        )
        builder.button(text=t("feeds-unlink-button-back"), callback_data=UnlinkCallback(action=UnlinkAction.BACK))
        await query.answer()
        await _edit(message, text, builder.as_markup())
        return
    done = await unlink_channel(session, chat_id=channel.id, telegram_id=user_id)
    await query.answer()
    await _edit(message, _done_text(t, done) if done is not None else t("feeds-unlink-gone"))


async def unlinkchannel_elsewhere(message: Message, t: Translator) -> None:
    await message.answer(t("feeds-unlink-private-only"))


def build_router() -> Router:
    router = Router(name="channel_links")
    private = F.chat.type == ChatType.PRIVATE
    router.message.register(unlinkchannel_cmd, Command("unlinkchannel"), private)
    router.message.register(unlinkchannel_elsewhere, Command("unlinkchannel"), ~private)
    router.callback_query.register(unlink_button, UnlinkCallback.filter(), F.message.chat.type == ChatType.PRIVATE)
    return router
