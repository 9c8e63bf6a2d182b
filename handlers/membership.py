"""The bot's own membership: a user blocking or unblocking it in their private chat; the bot removed
from or added back to a group or channel; a group becoming a supergroup.

Telegram sends `my_chat_member` for the first two. Private chats: `users.bot_blocked` lets
deliveries skip people who can't receive messages instead of collecting 403s. Groups and channels:
removed → the chat goes inactive, its feeds pause and its waiting deliveries are dropped; back →
resumed, and a group is told once (in its language). A migration is announced by service messages in
both chats (`migrate_to_chat_id` in the old one, `migrate_from_chat_id` in the new one): the chat
row, its feeds and its waiting deliveries follow the new id (the same steps the outbox sender takes
when a send answers with migrate_to_chat_id).
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatMemberStatus, ChatType
from aiogram.filters import IS_MEMBER, IS_NOT_MEMBER, KICKED, MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated, Message

from services.feeds.chats import bot_removed, bot_returned, chat_migrated
from services.i18n import Translations
from services.uow import Session
from services.users import set_bot_blocked

IN_CHAT = (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.CREATOR)


async def blocked(event: ChatMemberUpdated, session: Session) -> None:
    await set_bot_blocked(session, event.from_user.id, True)


async def unblocked(event: ChatMemberUpdated, session: Session) -> None:
    await set_bot_blocked(session, event.from_user.id, False)


async def removed(event: ChatMemberUpdated, session: Session) -> None:
    await bot_removed(session, event.chat.id)


async def back(event: ChatMemberUpdated, bot: Bot, session: Session, translations: Translations) -> None:
    was_member = event.old_chat_member.status in IN_CHAT
    resumed = await bot_returned(session, event.chat.id, was_member=was_member)
    if not resumed.was_inactive or event.chat.type == ChatType.CHANNEL:
        return  # a promotion, or a channel: nothing to say
    t = translations.get(resumed.locale)
    text = t("feeds-resumed", count=resumed.feeds) if resumed.feeds else t("feeds-hello")
    await bot.send_message(event.chat.id, text)


async def migrated_to(message: Message, session: Session) -> None:
    if message.migrate_to_chat_id is not None:
        await chat_migrated(session, message.chat.id, message.migrate_to_chat_id)


async def migrated_from(message: Message, session: Session) -> None:
    if message.migrate_from_chat_id is not None:
        await chat_migrated(session, message.migrate_from_chat_id, message.chat.id)


def build_router() -> Router:
    router = Router(name="membership")
    private = F.chat.type == ChatType.PRIVATE
    router.my_chat_member.register(blocked, private, ChatMemberUpdatedFilter(member_status_changed=KICKED))
    router.my_chat_member.register(unblocked, private, ChatMemberUpdatedFilter(member_status_changed=MEMBER))
    router.my_chat_member.register(removed, ~private, ChatMemberUpdatedFilter(member_status_changed=IS_NOT_MEMBER))
    router.my_chat_member.register(back, ~private, ChatMemberUpdatedFilter(member_status_changed=IS_MEMBER))
    router.message.register(migrated_to, F.migrate_to_chat_id)
    router.message.register(migrated_from, F.migrate_from_chat_id)
    return router
