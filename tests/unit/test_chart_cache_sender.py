"""The chart sender with the chart cache, through the real aiogram Bot against the Bot API stand-in and
the real MarketService against the exchange stand-ins (on one clock the test moves): a new candle is
a new render; a file_id Telegram forgot is uploaded once more; other refusals are not retried."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from handlers.charts import send_chart
from services.i18n import Translations
from services.kv import MemoryStore
from services.market import MarketView
from services.market.chart_cache import ChartCache
from services.market.charts import CHART_STYLE, render_view
from standins.exchanges import MarketEnv, market_env
from standins.telegram import FakeTelegramServer, make_bot

FOUR_HOURS = 4 * 3600


class Renders:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, view: MarketView) -> bytes:
        self.calls += 1
        return render_view(view)


@pytest.fixture
async def bot(tg: FakeTelegramServer) -> AsyncIterator[Bot]:
    client = make_bot(tg)
    yield client
    await client.session.close()


@pytest.fixture
async def env() -> AsyncIterator[MarketEnv]:
    async with market_env() as env:
        yield env


@pytest.fixture
def renders() -> Renders:
    return Renders()


@pytest.fixture
async def charts(renders: Renders) -> AsyncIterator[ChartCache]:
    cache = ChartCache.threaded(MemoryStore(), renders, workers=1, style=CHART_STYLE, max_entries=8, ttl=3600)
    yield cache
    await cache.close()


def photos(tg: FakeTelegramServer, chat_id: int) -> list[str]:
    """What each sendPhoto to the chat carried: "<file … bytes>" for an upload, else the file_id."""
    return [str(call.params["photo"]) for call in tg.calls_to("sendPhoto") if call.params.get("chat_id") == chat_id]


def uploaded_file_id(tg: FakeTelegramServer, chat_id: int) -> str:
    (call,) = [
        c
        for c in tg.calls_to("sendPhoto")
        if c.ok and c.params.get("chat_id") == chat_id and str(c.params["photo"]).startswith("<file")
    ]
    return str(call.response["photo"][-1]["file_id"])


async def test_a_new_candle_is_drawn_and_uploaded_again(
    tg: FakeTelegramServer, bot: Bot, env: MarketEnv, charts: ChartCache, renders: Renders
) -> None:
    t = Translations().get("en")
    ann, bob = tg.add_user("Ann", language_code="en"), tg.add_user("Bob", language_code="en")
    first = await env.service.snapshot("SOL", "4h")
    assert await send_chart(bot, ann.id, first, t, charts) is True
    env.clock.advance(60)  # the same candle a minute later: the stored file_id
    assert await send_chart(bot, bob.id, await env.service.snapshot("SOL", "4h"), t, charts) is True
    file_id = uploaded_file_id(tg, ann.id)
    assert photos(tg, bob.id) == [file_id] and renders.calls == 1

    env.clock.advance(FOUR_HOURS)  # the next candle
    later = await env.service.snapshot("SOL", "4h")
    assert later.candles.timestamp[-1] == first.candles.timestamp[-1] + FOUR_HOURS * 1000
    assert await send_chart(bot, bob.id, later, t, charts) is True
    assert renders.calls == 2 and photos(tg, bob.id)[-1].startswith("<file SOL-4h.png ")
    old, new = tg.bot_messages(ann)[0].photo, tg.bot_messages(bob)[-1].photo
    assert old is not None and new is not None and old.data != new.data
    assert (charts.stats.uploads, charts.stats.reuses) == (2, 1)


async def test_a_forgotten_file_id_is_uploaded_once_more_with_the_same_bytes(
    tg: FakeTelegramServer, bot: Bot, env: MarketEnv, charts: ChartCache, renders: Renders
) -> None:
    t = Translations().get("zh")
    ann, bob, cy = (tg.add_user(name, language_code="zh") for name in ("Ann", "Bob", "Cy"))
    view = await env.service.snapshot("BTC", "1h")
    assert await send_chart(bot, ann.id, view, t, charts) is True
    forgotten = uploaded_file_id(tg, ann.id)
    del tg.state.files[forgotten]  # Telegram no longer knows it
    assert await send_chart(bot, bob.id, view, t, charts) is True
    assert photos(tg, bob.id)[0] == forgotten and photos(tg, bob.id)[1].startswith("<file BTC-1h.png ")
    refused = [c for c in tg.calls_to("sendPhoto") if not c.ok]
    assert [c.description for c in refused] == ["Bad Request: wrong file identifier/HTTP URL specified"]
    renewed = uploaded_file_id(tg, bob.id)
    assert await send_chart(bot, cy.id, view, t, charts) is True
    assert photos(tg, cy.id) == [renewed]
    pictures = [tg.bot_messages(user)[0].photo for user in (ann, bob, cy)]
    assert all(p is not None and p.data is not None for p in pictures)
    assert pictures[0].data == pictures[1].data == pictures[2].data  # type: ignore[union-attr]
    assert renders.calls == 1 and (charts.stats.uploads, charts.stats.reuses, charts.stats.refused) == (2, 1, 1)


async def test_a_blocked_user_costs_no_upload_and_keeps_the_file_id(
    tg: FakeTelegramServer, bot: Bot, env: MarketEnv, charts: ChartCache
) -> None:
    t = Translations().get("en")
    ann, bob, cy = (tg.add_user(name, language_code="en") for name in ("Ann", "Bob", "Cy"))
    view = await env.service.snapshot("ETH", "1d")
    assert await send_chart(bot, ann.id, view, t, charts) is True
    file_id = uploaded_file_id(tg, ann.id)
    tg.block_bot(bob)
    assert await send_chart(bot, bob.id, view, t, charts) is False  # 403 for the file_id: not a refusal
    assert photos(tg, bob.id) == [file_id]
    assert await send_chart(bot, cy.id, view, t, charts) is True
    assert photos(tg, cy.id) == [file_id] and charts.stats.uploads == 1 and charts.stats.refused == 0
