"""Who may change a chat's feeds (and language): checked with Telegram (getChatMember), cached
briefly in `AdminCache`.

- a private chat: its user;
- a group or supergroup: its administrators (an anonymous admin writes as the group itself);
- a channel, from a private chat: the admin who linked it (`chats.managed_by`), while Telegram still
  says they are an admin of it.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError

from services.feeds.access import ADMIN_STATUSES, AdminCache
from services.feeds.chats import manager_of
from services.uow import Session

log = logging.getLogger(__name__)


async def is_chat_admin(bot: Bot, cache: AdminCache, chat_id: int, user_id: int) -> bool:
    cached = await cache.get(chat_id, user_id)
    if cached is not None:
        return cached
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except (TelegramBadRequest, TelegramForbiddenError) as exc:  # not a member, chat gone, bot not in it
        log.info("getChatMember(%s, %s): %s", chat_id, user_id, exc.message)
        admin = False
    else:
        admin = member.status in ADMIN_STATUSES
    await cache.put(chat_id, user_id, admin)
    return admin


async def may_manage(
    bot: Bot,
    cache: AdminCache,
    session: Session,
    *,
    target: int,
    here: int,
    here_type: str,
    user_id: int | None,
    sender_chat: int | None = None,
) -> bool:
    """May the person writing in chat `here` change the feeds of chat `target`?"""
    if target == here:
        if here_type == ChatType.PRIVATE:
            return True
        if here_type not in (ChatType.GROUP, ChatType.SUPERGROUP):
            return False
        if sender_chat == here:  # an anonymous admin
            return True
        return user_id is not None and await is_chat_admin(bot, cache, here, user_id)
    if here_type != ChatType.PRIVATE or user_id is None:
        return False
    if await manager_of(session, target) != user_id:
        return False
    return await is_chat_admin(bot, cache, target, user_id)
