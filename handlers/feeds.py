"""/subscribe, /unsubscribe, /feeds and the /feeds keyboard, in private chats and groups (and, from
a private chat, channels linked with /linkchannel). Thin: parse → check who may change the chat
(handlers.chat_admins) → services.feeds → render (handlers.feeds_ui)."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from handlers.chat_admins import may_manage
from handlers.feeds_ui import (
    POPULAR_COINS,
    FeedAction,
    FeedsCallback,
    feeds_keyboard,
    feeds_text,
    kind_name,
    limit_text,
    upgrade_markup,
)
from services.feeds.access import AdminCache
from services.feeds.chats import managed_chats
from services.feeds.model import KINDS, ChatFeeds, FeedError, LastCoin, LimitReached, NoSuchFeed
from services.feeds.parse import FeedArgs, parse_feed_args
from services.feeds.service import Edit, chat_feeds, edit, subscribe, unsubscribe
from services.i18n import Translator
from services.intent import resolve_coin
from services.market import SUPPORTED_TIMEFRAMES, MarketError, MarketService, UnsupportedTimeframe
from services.market_text import error_reply
from services.uow import Session
from services.users import UserView

MAX_COINS_PER_COMMAND = 10
GROUPS = (ChatType.PRIVATE, ChatType.GROUP, ChatType.SUPERGROUP)


def topic_of(message: Message) -> int | None:
    """The forum topic a message was sent in (None: General, or not a forum)."""
    return message.message_thread_id if message.chat.is_forum and message.is_topic_message else None


def actor_of(user: UserView | None, message: Message) -> int:
    """Whose plan limits apply: the person; an anonymous admin counts as the group."""
    return user.telegram_id if user is not None else message.chat.id


async def _allowed(message: Message, bot: Bot, session: Session, feed_admins: AdminCache) -> bool:
    return await may_manage(
        bot,
        feed_admins,
        session,
        target=message.chat.id,
        here=message.chat.id,
        here_type=message.chat.type,
        user_id=message.from_user.id if message.from_user else None,
        sender_chat=message.sender_chat.id if message.sender_chat else None,
    )


async def _show(
    message: Message, session: Session, t: Translator, data: ChatFeeds, kind: str, *, prefix: str = ""
) -> None:
    here = message.chat
    picker = []
    if here.type == ChatType.PRIVATE and message.from_user is not None:
        picker = await managed_chats(session, message.from_user.id)
    text = feeds_text(t, data, here.id, can_edit=True)
    markup = feeds_keyboard(t, data, kind, here=here.id, picker=picker, topic_here=topic_of(message))
    await message.answer(f"{prefix}\n\n{text}" if prefix else text, reply_markup=markup)


async def _resolve(market: MarketService, t: Translator, message: Message, coins: tuple[str, ...]) -> list[str] | None:
    """The coins' base tickers; None after answering for the first unknown one."""
    bases: list[str] = []
    for coin in coins[:MAX_COINS_PER_COMMAND]:
        try:
            bases.append((await resolve_coin(market, coin)).base)
        except MarketError as exc:
            await message.answer(error_reply(t, exc, query=coin, exchanges=market.exchanges).text)
            return None
    return bases


async def _args(message: Message, command: CommandObject, t: Translator, market: MarketService) -> FeedArgs | None:
    try:
        return parse_feed_args(command.args or "")
    except UnsupportedTimeframe as exc:
        await message.answer(error_reply(t, exc, query="", exchanges=market.exchanges).text)
        return None


async def subscribe_cmd(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: Session,
    user: UserView | None,
    t: Translator,
    market: MarketService,
    feed_admins: AdminCache,
) -> None:
    if not await _allowed(message, bot, session, feed_admins):
        await message.answer(t("feeds-not-admin"))
        return
    args = await _args(message, command, t, market)
    if args is None:
        return
    if not args.coins:
        await message.answer(t("feeds-subscribe-usage"))
        return
    bases = await _resolve(market, t, message, args.coins)
    if bases is None:
        return
    try:
        data = await subscribe(
            session,
            chat_id=message.chat.id,
            actor=actor_of(user, message),
            kinds=args.kinds,
            coins=bases,
            timeframes=args.timeframes,
            thread_id=topic_of(message),
        )
    except LimitReached as exc:
        await message.answer(limit_text(t, exc), reply_markup=upgrade_markup(t))
        return
    kinds = args.kinds or KINDS[:1]
    done = t("feeds-subscribed", coins=", ".join(bases), kinds=", ".join(kind_name(t, k) for k in kinds))
    await _show(message, session, t, data, kinds[0], prefix=done)


async def unsubscribe_cmd(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: Session,
    user: UserView | None,
    t: Translator,
    market: MarketService,
    feed_admins: AdminCache,
) -> None:
    if not await _allowed(message, bot, session, feed_admins):
        await message.answer(t("feeds-not-admin"))
        return
    args = await _args(message, command, t, market)
    if args is None:
        return
    coins: list[str] = []
    for coin in args.coins[:MAX_COINS_PER_COMMAND]:
        try:
            coins.append((await resolve_coin(market, coin)).base)
        except MarketError:  # a coin delisted since: remove it as typed
            coins.append(coin.lstrip("$").upper())
    removed, data = await unsubscribe(
        session, chat_id=message.chat.id, actor=actor_of(user, message), kinds=args.kinds, coins=coins
    )
    done = t("feeds-unsubscribed") if removed else t("feeds-unsubscribed-nothing")
    await _show(message, session, t, data, (args.kinds or KINDS)[0], prefix=done)


async def feeds_cmd(
    message: Message, bot: Bot, session: Session, user: UserView | None, t: Translator, feed_admins: AdminCache
) -> None:
    chat = message.chat
    forum = bool(chat.is_forum) if chat.type == ChatType.SUPERGROUP else None
    data = await chat_feeds(session, chat.id, actor_of(user, message), is_forum=forum)
    if not await _allowed(message, bot, session, feed_admins):
        await message.answer(feeds_text(t, data, chat.id, can_edit=False))
        return
    kind = next((k for k in KINDS if data.feed(k)), KINDS[0])
    await _show(message, session, t, data, kind)


def _value(callback_data: FeedsCallback, message: Message) -> str | None:
    """The button's value as the service takes it; None for one no keyboard of ours offers."""
    value = callback_data.value
    match callback_data.action:
        case FeedAction.TIMEFRAME:
            return value if value in SUPPORTED_TIMEFRAMES else None
        case FeedAction.TOPIC:
            if value != "here":
                return ""
            thread = message.message_thread_id if message.is_topic_message else None
            return str(thread) if thread is not None else None
    return value


async def feeds_button(
    query: CallbackQuery,
    callback_data: FeedsCallback,
    bot: Bot,
    session: Session,
    t: Translator,
    feed_admins: AdminCache,
) -> None:
    message = query.message
    if not isinstance(message, Message):
        await query.answer()
        return
    here, actor, target, kind = message.chat, query.from_user.id, callback_data.chat, callback_data.kind.value
    allowed = await may_manage(
        bot, feed_admins, session, target=target, here=here.id, here_type=here.type, user_id=actor
    )
    value = _value(callback_data, message)
    if not allowed or value is None:
        await query.answer(t("feeds-not-admin") if not allowed else t("feeds-stale"), show_alert=True)
        return
    try:
        if callback_data.action is FeedAction.VIEW:
            data = await chat_feeds(session, target, actor)
        else:
            if callback_data.action is FeedAction.COIN and value not in POPULAR_COINS:
                current = (await chat_feeds(session, target)).feed(kind)
                if current is None or value not in current.symbols:  # only coins the keyboard shows
                    raise NoSuchFeed(value)
            data = await edit(
                session, chat_id=target, actor=actor, kind=kind, action=Edit(callback_data.action.value), value=value
            )
    except LimitReached as exc:
        await query.answer()
        await message.answer(limit_text(t, exc), reply_markup=upgrade_markup(t))
        return
    except LastCoin:
        await query.answer(t("feeds-last-coin"), show_alert=True)
        return
    except FeedError:
        await query.answer(t("feeds-stale"), show_alert=True)
        return
    await query.answer()
    picker = await managed_chats(session, actor) if here.type == ChatType.PRIVATE else []
    text = feeds_text(t, data, here.id, can_edit=True)
    markup = feeds_keyboard(t, data, kind, here=here.id, picker=picker, topic_here=topic_of(message))
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        if "message is not modified" not in exc.message:
            raise


def build_router() -> Router:
    router = Router(name="feeds")
    in_chats = F.chat.type.in_(GROUPS)
    router.message.register(subscribe_cmd, Command("subscribe"), in_chats)
    router.message.register(unsubscribe_cmd, Command("unsubscribe"), in_chats)
    router.message.register(feeds_cmd, Command("feeds"), in_chats)
    router.callback_query.register(feeds_button, FeedsCallback.filter())
    return router
