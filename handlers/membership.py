"""The bot's own membership in private chats: a user blocking or unblocking the bot.

Telegram sends `my_chat_member` when that happens; `users.bot_blocked` lets deliveries (invite
rewards now, signals later) skip people who can't receive messages instead of collecting 403s.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated

from services.uow import Session
from services.users import set_bot_blocked


async def blocked(event: ChatMemberUpdated, session: Session) -> None:
    await set_bot_blocked(session, event.from_user.id, True)


async def unblocked(event: ChatMemberUpdated, session: Session) -> None:
    await set_bot_blocked(session, event.from_user.id, False)


def build_router() -> Router:
    router = Router(name="membership")
    router.my_chat_member.filter(F.chat.type == ChatType.PRIVATE)
    router.my_chat_member.register(blocked, ChatMemberUpdatedFilter(member_status_changed=KICKED))
    router.my_chat_member.register(unblocked, ChatMemberUpdatedFilter(member_status_changed=MEMBER))
    return router
