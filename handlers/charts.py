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

from services.chat.comparison_text import comparison_caption
from services.i18n import Translator
from services.market import MarketView
from services.market.chart_cache import ChartCache
from services.market.comparison import Comparison
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
    sends = _Sends(bot, chat_id, chart_caption(t, view), f"{view.resolved.base}-{view.timeframe}.png", thread_id)
    what = f"{view.resolved.pair} {view.timeframe}"
    try:
        await chart_cache.deliver(view, t.locale, bot_id=bot.id, send_file_id=sends.by_file_id, upload=sends.upload)
    except TelegramAPIError as exc:
        log.warning("chart of %s not delivered to %s: %s", what, chat_id, exc)
        return False
    return True


async def send_comparison_chart(
    bot: Bot,
    chat_id: int,
    comparison: Comparison,
    t: Translator,
    chart_cache: ChartCache,
    *,
    thread_id: int | None = None,
) -> bool:
    """The one chart of a comparison (every coin rebased to 100, and their ratio), like `send_chart`."""
    bases = "-".join(view.resolved.base for view in comparison.views)
    sends = _Sends(bot, chat_id, comparison_caption(t, comparison), f"{bases}-{comparison.timeframe}.png", thread_id)
    try:
        await chart_cache.deliver_comparison(
            comparison, t.locale, bot_id=bot.id, send_file_id=sends.by_file_id, upload=sends.upload
        )
    except TelegramAPIError as exc:
        log.warning("comparison chart %s not delivered to %s: %s", bases, chat_id, exc)
        return False
    return True


class _Sends:
    """The two sends the chart cache asks for: a known file_id, or the PNG uploaded."""

    def __init__(self, bot: Bot, chat_id: int, caption: str, filename: str, thread_id: int | None) -> None:
        self.bot, self.chat_id, self.caption, self.filename, self.thread_id = bot, chat_id, caption, filename, thread_id

    async def by_file_id(self, file_id: str) -> bool:
        try:
            await self.bot.send_photo(self.chat_id, file_id, caption=self.caption, message_thread_id=self.thread_id)
        except TelegramBadRequest as exc:
            if not file_id_refused(exc):
                raise
            log.info("chart file_id refused (%s): uploading %s again", exc, self.filename)
            return False
        return True

    async def upload(self, png: bytes) -> str | None:
        photo = BufferedInputFile(png, filename=self.filename)
        sent = await self.bot.send_photo(self.chat_id, photo, caption=self.caption, message_thread_id=self.thread_id)
        return sent.photo[-1].file_id if sent.photo else None  # the largest size: the picture itself
