"""The one chart sender: /chart and the chat analyst's answer both send their chart photo here.

One picture and one caption for every chart: the pair as the exchange lists it (BTC/USDT), the
exchange as people write it (Bybit), the timeframe and the last candle's time, in the user's
language (`services.market_text.chart_caption`). The picture comes from the chart cache
(`services.market.chart_cache`): rendered once per candle, uploaded once, then sent by Telegram's
file_id; here are only the two sends it asks for.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import BufferedInputFile

from services.i18n import Translator
from services.market import MarketView
from services.market.chart_cache import ChartCache
from services.market_text import chart_caption

log = logging.getLogger(__name__)

# How Telegram says a file_id is no good (expired, from another bot, malformed): upload again.
REFUSED_FILE_ID = (
    "wrong file identifier",
    "wrong remote file identifier",
    "invalid file_id",
    "file reference",
    "file_reference",
    "wrong padding",
    "media_empty",
)


def file_id_refused(error: TelegramBadRequest) -> bool:
    message = error.message.lower()
    return any(fragment in message for fragment in REFUSED_FILE_ID)


async def send_chart(
    bot: Bot,
    chat_id: int,
    view: MarketView,
    t: Translator,
    chart_cache: ChartCache,
    *,
    thread_id: int | None = None,
) -> bool:
    """Send the view's chart with its caption; False (logged) when Telegram refuses it.

    A chart that cannot be delivered (the user blocked the bot, the chat is gone) is no error for
    the caller: the answer it illustrates has been sent or answered already.
    """
    caption = chart_caption(t, view)

    async def by_file_id(file_id: str) -> bool:
        try:
            await bot.send_photo(chat_id, file_id, caption=caption, message_thread_id=thread_id)
        except TelegramBadRequest as exc:
            if not file_id_refused(exc):
                raise
            log.info("chart file_id refused (%s): uploading %s %s again", exc, view.resolved.pair, view.timeframe)
            return False
        return True

    async def upload(png: bytes) -> str | None:
        photo = BufferedInputFile(png, filename=f"{view.resolved.base}-{view.timeframe}.png")
        sent = await bot.send_photo(chat_id, photo, caption=caption, message_thread_id=thread_id)
        return sent.photo[-1].file_id if sent.photo else None  # the largest size: the picture itself

    try:
        await chart_cache.deliver(view, t.locale, bot_id=bot.id, send_file_id=by_file_id, upload=upload)
    except TelegramAPIError as exc:
        log.warning("chart of %s %s not delivered to %s: %s", view.resolved.pair, view.timeframe, chat_id, exc)
        return False
    return True
