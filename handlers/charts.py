"""The one chart sender: /chart and the chat analyst's answer both send their chart photo here.

One picture and one caption for every chart: the pair as the exchange lists it (BTC/USDT), the
exchange as people write it (Bybit), the timeframe and the last candle's time, in the user's
language (`services.market_text.chart_caption`).
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BufferedInputFile

from services.format import exchange_name
from services.i18n import Translator
from services.market import MarketView, render_chart_async
from services.market_text import chart_caption

log = logging.getLogger(__name__)


async def send_chart(bot: Bot, chat_id: int, view: MarketView, t: Translator, *, thread_id: int | None = None) -> bool:
    """Draw the view's chart and send it with its caption; False (logged) when Telegram refuses it.

    A chart that cannot be delivered (the user blocked the bot, the chat is gone) is no error for
    the caller: the answer it illustrates has been sent or answered already.
    """
    png = await render_chart_async(
        view.candles,
        view.analysis,
        symbol=view.resolved.pair,
        timeframe=view.timeframe,
        exchange=exchange_name(view.exchange),
    )
    photo = BufferedInputFile(png, filename=f"{view.resolved.base}-{view.timeframe}.png")
    try:
        await bot.send_photo(chat_id, photo, caption=chart_caption(t, view), message_thread_id=thread_id)
    except TelegramAPIError as exc:
        log.warning("chart of %s %s not delivered to %s: %s", view.resolved.pair, view.timeframe, chat_id, exc)
        return False
    return True
