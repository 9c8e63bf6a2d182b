"""/price <coin> (quick ticker) and /chart <coin> [timeframe] (chart photo + caption).

Thin: parse the arguments → `MarketService` → texts from `handlers.market_format`. Every market
failure gets a localized answer here (unknown coin with "did you mean" buttons, unsupported
timeframe, exchange down); nothing reaches the generic error handler for those.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.chat_action import ChatActionSender
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.callbacks import MarketCallback
from handlers.market_format import (
    DEFAULT_TIMEFRAME,
    ErrorReply,
    chart_caption,
    chart_usage,
    error_reply,
    price_text,
    price_usage,
)
from services.i18n import Translator
from services.intent import extract, find_timeframe
from services.market import (
    SUPPORTED_TIMEFRAMES,
    Derivatives,
    MarketError,
    MarketService,
    ResolvedSymbol,
    UnknownSymbol,
    UnsupportedTimeframe,
    render_chart_async,
    validate_timeframe,
)
from services.market_format import exchange_name
from services.snapshots import save_view

log = logging.getLogger(__name__)

MAX_QUERY = 64  # characters of a coin query we look at
MAX_SUGGESTIONS = 3
# Things that are clearly meant as a timeframe ("3m", "2h", "30min", "1mo", "monthly") even when we
# don't support them: the answer lists the supported ones instead of looking for a coin "3M".
_TIMEFRAME_LIKE = re.compile(
    r"\d{1,4}\s?(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?|mo|mons?|months?|y|yrs?|years?)"
    r"|monthly|yearly|quarterly",
    re.IGNORECASE,
)
_CJK = re.compile(r"[\u3400-\u9fff]")


# ---------------------------------------------------------------------------------- parsing
def read_timeframe(token: str) -> str | None:
    """The canonical timeframe a token means, None if it is no timeframe at all.

    Raises `UnsupportedTimeframe` for timeframe-looking tokens we don't serve ("3m", "2h", "monthly").
    """
    candidates = [token]
    if len(token) > 2 and token[-1] in "sS":  # 4hours, 15mins
        candidates.append(token[:-1])
    for candidate in candidates:
        with contextlib.suppress(UnsupportedTimeframe):
            return validate_timeframe(candidate)
    if _TIMEFRAME_LIKE.fullmatch(token):
        raise UnsupportedTimeframe(token, SUPPORTED_TIMEFRAMES)
    if not _CJK.search(token):
        return None
    found = find_timeframe(token)  # 4小时, 日线, 15分钟
    digits = re.findall(r"\d+", token)
    if found is not None and ("月" in token or (digits and not found.startswith(digits[0]))):
        raise UnsupportedTimeframe(token, SUPPORTED_TIMEFRAMES)  # 月线, 3分钟: not the nearest one
    return found


def parse_chart_args(args: str) -> tuple[str, str | None]:
    """(coin query, raw timeframe or None) from "ETH 4h", "4h ETH", "bitcoin cash 1d", "ETH"."""
    tokens = args.split()
    if len(tokens) < 2:
        return " ".join(tokens), None
    if _is_timeframe_token(tokens[-1]):
        return " ".join(tokens[:-1]), tokens[-1]
    if _is_timeframe_token(tokens[0]):
        return " ".join(tokens[1:]), tokens[0]
    return " ".join(tokens), None


def _is_timeframe_token(token: str) -> bool:
    try:
        return read_timeframe(token) is not None
    except UnsupportedTimeframe:
        return True


def _is_bare_timeframe(query: str) -> bool:
    """A query like "/chart 4h" (no coin). Letters alone ("W", "D", "daily") are coins: W is a ticker."""
    return bool(re.search(r"\d", query) or _CJK.search(query)) and " " not in query and _is_timeframe_token(query)


async def resolve_coin(market: MarketService, query: str) -> ResolvedSymbol:
    """A ticker or pair (`BTC`, `$eth`, `SOLUSDT`), else a coin name (`bitcoin`, `以太坊`)."""
    query = query.strip()[:MAX_QUERY]
    first = query.split()[0] if query.split() else query
    try:
        return await market.resolve(first)
    except UnknownSymbol as unknown:
        coins = extract(query, known_bases=market.known_bases()).coins
        if not coins:
            raise
        try:
            return await market.resolve(coins[0])
        except UnknownSymbol:
            raise unknown from None


# ---------------------------------------------------------------------------------- replies
def suggestions_keyboard(action: str, suggestions: tuple[str, ...], timeframe: str = "") -> InlineKeyboardMarkup | None:
    builder = InlineKeyboardBuilder()
    icon = "📈" if action == "chart" else "💹"
    for coin in suggestions[:MAX_SUGGESTIONS]:
        if ":" in coin:
            continue
        data = MarketCallback(action=action, coin=coin, timeframe=timeframe)
        if len(data.pack().encode()) <= 64:
            builder.button(text=f"{icon} {coin}", callback_data=data)
    if not builder.buttons:
        return None
    return builder.as_markup()


async def send_error(
    bot: Bot, chat_id: int, thread_id: int | None, reply: ErrorReply, action: str, timeframe: str = ""
) -> None:
    markup = suggestions_keyboard(action, reply.suggestions, timeframe) if reply.suggestions else None
    await bot.send_message(chat_id, reply.text, reply_markup=markup, message_thread_id=thread_id)


async def _optional_derivatives(market: MarketService, resolved: ResolvedSymbol) -> Derivatives | None:
    """Funding and open interest, or None: /price still answers when only the perp data is missing."""
    try:
        return await market.derivatives(resolved)
    except MarketError as exc:
        log.info("derivatives for %s unavailable: %s", resolved.pair, exc)
        return None


async def send_price(
    bot: Bot, chat_id: int, thread_id: int | None, query: str, market: MarketService, t: Translator
) -> None:
    async with ChatActionSender.typing(bot=bot, chat_id=chat_id, message_thread_id=thread_id):
        try:
            resolved = await resolve_coin(market, query)
            ticker, derivatives = await asyncio.gather(
                market.ticker(resolved), _optional_derivatives(market, resolved), return_exceptions=True
            )
            if isinstance(ticker, BaseException):
                raise ticker
            if isinstance(derivatives, BaseException):  # not a MarketError (those read as None): a bug
                raise derivatives
        except MarketError as exc:
            log.info("/price %r: %s", query, exc)
            reply = error_reply(t, exc, query=query, exchanges=market.exchanges)
            await send_error(bot, chat_id, thread_id, reply, "price")
            return
    await bot.send_message(chat_id, price_text(t, resolved, ticker, derivatives), message_thread_id=thread_id)


async def send_chart(
    bot: Bot,
    chat_id: int,
    thread_id: int | None,
    query: str,
    timeframe: str,
    market: MarketService,
    session: AsyncSession,
    t: Translator,
) -> None:
    resolved: ResolvedSymbol | None = None
    async with ChatActionSender.upload_photo(bot=bot, chat_id=chat_id, message_thread_id=thread_id):
        try:
            resolved = await resolve_coin(market, query)
            view = await market.snapshot(resolved, timeframe)
            png = await render_chart_async(view.candles, view.analysis, symbol=view.resolved.pair,
                                           timeframe=view.timeframe, exchange=exchange_name(view.exchange))  # fmt: skip
        except MarketError as exc:
            log.info("/chart %r %s: %s", query, timeframe, exc)
            reply = error_reply(t, exc, query=query, exchanges=market.exchanges, timeframe=timeframe,
                                pair=resolved.pair if resolved else None)  # fmt: skip
            await send_error(bot, chat_id, thread_id, reply, "chart", timeframe)
            return
        try:  # the snapshot row is a by-product: a database hiccup must not cost the user the chart
            await save_view(session, view)
        except SQLAlchemyError:
            log.exception("could not save the market snapshot of %s %s", view.resolved.pair, view.timeframe)
            await session.rollback()
    photo = BufferedInputFile(png, filename=f"{view.resolved.base}-{view.timeframe}.png")
    await bot.send_photo(chat_id, photo, caption=chart_caption(t, view), message_thread_id=thread_id)


# ---------------------------------------------------------------------------------- handlers
async def price(message: Message, command: CommandObject, bot: Bot, market: MarketService, t: Translator) -> None:
    query = (command.args or "").strip()
    if not query:
        await message.answer(price_usage(t))
        return
    await send_price(bot, message.chat.id, message.message_thread_id, query, market, t)


async def chart(
    message: Message, command: CommandObject, bot: Bot, market: MarketService, session: AsyncSession, t: Translator
) -> None:
    query, raw_timeframe = parse_chart_args(command.args or "")
    if not query or _is_bare_timeframe(query):  # "/chart" or "/chart 4h": no coin
        await message.answer(chart_usage(t))
        return
    timeframe = DEFAULT_TIMEFRAME
    if raw_timeframe is not None:
        try:
            timeframe = read_timeframe(raw_timeframe) or DEFAULT_TIMEFRAME
        except UnsupportedTimeframe as exc:
            await message.answer(error_reply(t, exc, query=query, exchanges=market.exchanges).text)
            return
    await send_chart(bot, message.chat.id, message.message_thread_id, query, timeframe, market, session, t)


async def suggestion_pressed(
    query: CallbackQuery,
    callback_data: MarketCallback,
    bot: Bot,
    market: MarketService,
    session: AsyncSession,
    t: Translator,
) -> None:
    """A "did you mean" button: answer for the suggested coin, and retire the buttons."""
    await query.answer()
    message = query.message
    chat_id = message.chat.id if message is not None else query.from_user.id
    thread_id = message.message_thread_id if isinstance(message, Message) else None
    if isinstance(message, Message):
        with contextlib.suppress(TelegramBadRequest):  # already edited by a double tap
            await message.edit_reply_markup(reply_markup=None)
    if callback_data.action == "chart":
        try:
            timeframe = read_timeframe(callback_data.timeframe) or DEFAULT_TIMEFRAME
        except UnsupportedTimeframe:
            timeframe = DEFAULT_TIMEFRAME
        await send_chart(bot, chat_id, thread_id, callback_data.coin, timeframe, market, session, t)
    else:
        await send_price(bot, chat_id, thread_id, callback_data.coin, market, t)


def build_router() -> Router:
    router = Router(name="market")
    router.message.register(price, Command("price"))
    router.message.register(chart, Command("chart"))
    router.callback_query.register(suggestion_pressed, MarketCallback.filter())
    return router
