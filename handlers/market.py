"""/price <coin> (quick ticker) and /chart <coin> [timeframe] (chart photo + caption).

Thin: `parse_market_query` (services.intent, the chat's parser) → `MarketService` → texts from
`services.market_text`, the chart through `handlers.charts`. Every market failure gets a localized
answer here (unknown coin with "did you mean" buttons, unsupported timeframe, exchange down);
nothing reaches the generic error handler for those.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.chat_action import ChatActionSender
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import MarketAction, MarketCallback
from handlers.charts import send_chart
from services.i18n import Translator
from services.intent import MarketQuery, parse_market_query, resolve_coin
from services.market import (
    SUPPORTED_TIMEFRAMES,
    Derivatives,
    MarketError,
    MarketService,
    ResolvedSymbol,
    UnsupportedTimeframe,
)
from services.market.chart_cache import ChartCache
from services.market_text import ErrorReply, chart_usage, error_reply, price_text, price_usage
from services.snapshots import save_view
from services.uow import Session

log = logging.getLogger(__name__)

MAX_SUGGESTIONS = 3


# ---------------------------------------------------------------------------------- replies
def suggestions_keyboard(
    action: MarketAction, suggestions: tuple[str, ...], timeframe: str = ""
) -> InlineKeyboardMarkup | None:
    builder = InlineKeyboardBuilder()
    icon = "📈" if action is MarketAction.CHART else "💹"
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
    bot: Bot, chat_id: int, thread_id: int | None, reply: ErrorReply, action: MarketAction, timeframe: str = ""
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
            await send_error(bot, chat_id, thread_id, reply, MarketAction.PRICE)
            return
    await bot.send_message(chat_id, price_text(t, resolved, ticker, derivatives), message_thread_id=thread_id)


async def send_market_chart(
    bot: Bot,
    chat_id: int,
    thread_id: int | None,
    request: MarketQuery,
    market: MarketService,
    session: Session,
    t: Translator,
    chart_cache: ChartCache,
) -> None:
    resolved: ResolvedSymbol | None = None
    timeframe = request.timeframe
    async with ChatActionSender.upload_photo(bot=bot, chat_id=chat_id, message_thread_id=thread_id):
        try:
            resolved = await resolve_coin(market, request.coin)
            view = await market.snapshot(resolved, timeframe)
        except MarketError as exc:
            log.info("/chart %r %s: %s", request.coin, timeframe, exc)
            pair = resolved.pair if resolved else None
            reply = error_reply(t, exc, query=request.coin, exchanges=market.exchanges, timeframe=timeframe, pair=pair)
            await send_error(bot, chat_id, thread_id, reply, MarketAction.CHART, timeframe)
            return
        await save_view(session, view)  # a by-product: a database hiccup never costs the user the chart
        await send_chart(bot, chat_id, view, t, chart_cache, thread_id=thread_id)


# ---------------------------------------------------------------------------------- handlers
async def price(message: Message, command: CommandObject, bot: Bot, market: MarketService, t: Translator) -> None:
    request = parse_market_query(command.args or "")
    if not request.coin:  # "/price" or "/price 4h": no coin
        await message.answer(price_usage(t))
        return
    await send_price(bot, message.chat.id, message.message_thread_id, request.coin, market, t)


async def chart(
    message: Message,
    command: CommandObject,
    bot: Bot,
    market: MarketService,
    session: Session,
    t: Translator,
    chart_cache: ChartCache,
) -> None:
    request = parse_market_query(command.args or "")
    if not request.coin:  # "/chart" or "/chart 4h": no coin
        await message.answer(chart_usage(t))
        return
    if request.unsupported is not None:
        unsupported = UnsupportedTimeframe(request.unsupported, SUPPORTED_TIMEFRAMES)
        await message.answer(error_reply(t, unsupported, query=request.coin, exchanges=market.exchanges).text)
        return
    await send_market_chart(bot, message.chat.id, message.message_thread_id, request, market, session, t, chart_cache)


async def suggestion_pressed(
    query: CallbackQuery,
    callback_data: MarketCallback,
    bot: Bot,
    market: MarketService,
    session: Session,
    t: Translator,
    chart_cache: ChartCache,
) -> None:
    """A "did you mean" button: answer for the suggested coin, and retire the buttons."""
    await query.answer()
    message = query.message
    chat_id = message.chat.id if message is not None else query.from_user.id
    thread_id = message.message_thread_id if isinstance(message, Message) else None
    if isinstance(message, Message):
        with contextlib.suppress(TelegramBadRequest):  # already edited by a double tap
            await message.edit_reply_markup(reply_markup=None)
    if callback_data.action is MarketAction.CHART:
        request = parse_market_query(f"{callback_data.coin} {callback_data.timeframe}")
        await send_market_chart(bot, chat_id, thread_id, request, market, session, t, chart_cache)
    else:
        await send_price(bot, chat_id, thread_id, callback_data.coin, market, t)


def build_router() -> Router:
    router = Router(name="market")
    router.message.register(price, Command("price"))
    router.message.register(chart, Command("chart"))
    router.callback_query.register(suggestion_pressed, MarketCallback.filter())
    return router
