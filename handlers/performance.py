"""/performance [coin] [timeframe] [30d|90d|all]: the signals' track record (private chats and
groups); /digest on|off: the weekly digest of a chat's signal feed, for whoever may change its feeds
(a private chat's user, a group's admins; a linked channel's admin from a private chat:
`/digest on <channel title or id>`). Thin: parse → services.signals → render (services/signals/performance_text.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from handlers.chat_admins import may_manage
from services.feeds.access import AdminCache
from services.feeds.chats import managed_chats
from services.i18n import Translator
from services.signals.digest import set_digest
from services.signals.performance_text import performance_text
from services.signals.record import parse_scope, track_records
from services.uow import Session

CHATS = (ChatType.PRIVATE, ChatType.GROUP, ChatType.SUPERGROUP)


def _now() -> datetime:
    return datetime.now(UTC)


async def performance_cmd(
    message: Message, command: CommandObject, session: Session, t: Translator, performance_min_signals: int
) -> None:
    scope = parse_scope(command.args or "")
    if scope is None:
        await message.answer(t("performance-usage"))
        return
    records = await track_records(
        session,
        now=_now(),
        symbol=scope.symbol,
        timeframe=scope.timeframe,
        period=scope.period,
        min_signals=performance_min_signals,
    )
    text = performance_text(t, records, symbol=scope.symbol, timeframe=scope.timeframe, period=scope.period)
    await message.answer(text)


async def _target(message: Message, session: Session, name: str | None) -> int | None:
    """The chat the command is about: this one, or a channel this person linked (by title or id)."""
    if not name:
        return message.chat.id
    if message.chat.type != ChatType.PRIVATE or message.from_user is None:
        return None
    wanted = name.strip().casefold()
    for chat in await managed_chats(session, message.from_user.id):
        if str(chat.id) == wanted or (chat.title or "").strip().casefold() == wanted:
            return chat.id
    return None


async def digest_cmd(
    message: Message, command: CommandObject, bot: Bot, session: Session, t: Translator, feed_admins: AdminCache
) -> None:
    words = (command.args or "").split(maxsplit=1)
    if not words or words[0].lower() not in ("on", "off"):
        await message.answer(t("digest-usage"))
        return
    target = await _target(message, session, words[1] if len(words) == 2 else None)
    allowed = target is not None and await may_manage(
        bot,
        feed_admins,
        session,
        target=target,
        here=message.chat.id,
        here_type=message.chat.type,
        user_id=message.from_user.id if message.from_user else None,
        sender_chat=message.sender_chat.id if message.sender_chat else None,
    )
    if target is None or not allowed:
        await message.answer(t("feeds-not-admin"))
        return
    on = words[0].lower() == "on"
    if not await set_digest(session, target, on):
        await message.answer(t("digest-no-feed"))
        return
    await message.answer(t("digest-on" if on else "digest-off"))


def build_router() -> Router:
    router = Router(name="performance")
    in_chats = F.chat.type.in_(CHATS)
    router.message.register(performance_cmd, Command("performance"), in_chats)
    router.message.register(digest_cmd, Command("digest"), in_chats)
    return router
