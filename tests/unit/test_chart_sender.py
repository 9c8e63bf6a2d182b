"""The one chart sender (handlers.charts), driven through the real aiogram Bot against the Bot API stand-in."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from handlers.charts import send_chart
from services.i18n import Translations
from services.kv import MemoryStore
from services.market.chart_cache import ChartCache
from services.market.charts import CHART_STYLE, render_view
from services.market_text import chart_caption
from standins.telegram import FakeTelegramServer, make_bot
from tests.unit.test_one_formatter import make_view

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def bot(tg: FakeTelegramServer) -> AsyncIterator[Bot]:
    """The real aiogram Bot against the Bot API stand-in (`tg`, from tests/conftest.py)."""
    client = make_bot(tg)
    yield client
    await client.session.close()


@pytest.fixture
async def charts() -> AsyncIterator[ChartCache]:
    cache = ChartCache.threaded(MemoryStore(), render_view, workers=1, style=CHART_STYLE, max_entries=8, ttl=60)
    yield cache
    await cache.close()


async def test_the_chart_arrives_with_the_one_caption(tg: FakeTelegramServer, bot: Bot, charts: ChartCache) -> None:
    translations = Translations()
    view = make_view()
    for locale in ("en", "zh"):
        user = tg.add_user(f"user-{locale}", language_code=locale)
        assert await send_chart(bot, user.id, view, translations.get(locale), charts) is True
        (photo,) = tg.bot_messages(user)
        assert photo.photo is not None and photo.photo.data is not None and photo.photo.data.startswith(PNG_MAGIC)
        assert photo.caption is not None and photo.caption.startswith("📈 SOL/USDT · 4h · Bybit\n")
        assert photo.source is not None and photo.source == chart_caption(translations.get(locale), view)
    names = {call.params["photo"].split()[1] for call in tg.calls_to("sendPhoto")}
    assert names == {"SOL-4h.png"}


async def test_an_undeliverable_chart_is_logged_not_raised(
    tg: FakeTelegramServer, bot: Bot, charts: ChartCache, caplog: pytest.LogCaptureFixture
) -> None:
    ann = tg.add_user("Ann", language_code="en")
    tg.block_bot(ann)
    with caplog.at_level(logging.WARNING, logger="handlers.charts"):
        assert await send_chart(bot, ann.id, make_view(), Translations().get("en"), charts) is False
    assert tg.bot_messages(ann) == []
    assert [call.ok for call in tg.calls_to("sendPhoto")] == [False]
    assert any("SOL/USDT 4h not delivered" in record.getMessage() for record in caplog.records)
