"""/price and /chart through the production dispatcher: fake Bot API over HTTP, real ccxt → fake Bybit."""

from __future__ import annotations

import io
import secrets
import time
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from db.models import MarketSnapshot
from services.format import format_compact, format_funding, format_pct, format_price
from services.market import MarketService
from services.market.timeframes import candle_open
from standins.exchanges import FakeBybit, SymbolSpec
from standins.telegram import FakeMessage, FakeTelegramServer, FakeUser
from tests.harness import RunningBot, running_bot

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
GENERIC_ERROR = "Something went wrong"
DOWN_TIMEOUT = 20.0  # the service retries (3 tries, ~1.5 s of backoff) before it gives up


def new_user(tg: FakeTelegramServer, name: str, language: str) -> FakeUser:
    """A user with an id of its own: with Redis, flood-control counters are shared by every test."""
    return tg.add_user(name, language_code=language, user_id=10**12 + secrets.randbelow(10**12))


def market_of(app: RunningBot) -> MarketService:
    market = app.resources.services.market
    assert isinstance(market, MarketService)
    return market


async def markets_loaded(app: RunningBot, tg: FakeTelegramServer) -> None:
    await tg.wait_until(lambda: all(s.markets_loaded for s in market_of(app).status()), 10, "markets loaded")


def actions(tg: FakeTelegramServer, chat_id: int) -> set[str]:
    return {str(c.params.get("action")) for c in tg.calls_to("sendChatAction") if c.params.get("chat_id") == chat_id}


def assert_no_generic_error(tg: FakeTelegramServer, chat_id: int) -> None:
    assert all(GENERIC_ERROR not in text for text in tg.bot_texts(chat_id))
    assert all(call.ok for call in tg.calls if call.method in ("sendMessage", "sendPhoto"))


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_MAGIC)
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    with Image.open(io.BytesIO(data)) as image:
        return image.size


async def test_price_shows_the_exchange_numbers_in_english_and_chinese(
    app: RunningBot, tg: FakeTelegramServer, exchange: FakeBybit
) -> None:
    ann = new_user(tg, "Ann", "en")
    li = new_user(tg, "李雷", "zh-hans")
    await tg.send_command(ann, "/price", "BTC")
    (en,) = await tg.wait_for_messages(ann, 1, timeout=15)
    await tg.send_command(li, "/price", "btc")
    (zh,) = await tg.wait_for_messages(li, 1, timeout=15)

    day = exchange.book.day_stats("BTC")
    spec = exchange.book.specs["BTC"]
    ticker = await market_of(app).ticker("BTC")  # the same numbers, read back through ccxt
    assert ticker.price == exchange.book.last_price("BTC") == day["last"]
    price = format_price(day["last"])
    change = format_pct(day["pct"] * 100)
    lines = en.plain_text.splitlines()
    assert lines[0] == "💹 BTC/USDT · Bybit"
    assert lines[1] == f"Price: {price} USDT"
    assert lines[2].startswith(f"24h: {'▲' if day['pct'] > 0 else '▼'} {change} · high ")
    assert lines[3] == f"24h volume: {format_compact(day['turnover'])} USDT"
    assert lines[4].startswith(f"Funding: {format_funding(spec.funding_rate)} per 8h · next in ")
    assert format_funding(spec.funding_rate) == "+0.0100%"
    assert lines[5] == f"Open interest: {format_compact(spec.open_interest * day['last'])} USDT"
    assert lines[6].startswith("Updated ") and lines[6].endswith(" UTC")
    assert en.source is not None and f"<b>{price}</b>" in en.source

    zh_lines = zh.plain_text.splitlines()
    assert zh_lines[1] == f"价格：{price} USDT"
    assert zh_lines[3] == f"24小时成交额：{format_compact(day['turnover'], 'zh')} USDT"
    assert zh_lines[4].startswith("资金费率：+0.0100% / 8小时 · ") and "后结算" in zh_lines[4]
    assert zh_lines[5].startswith("持仓量：")
    assert "typing" in actions(tg, ann.id)


async def test_price_understands_pairs_and_coin_names(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = new_user(tg, "Ann", "en")
    for count, query in enumerate(("$eth", "SOLUSDT", "bitcoin", "以太坊"), start=1):
        await tg.send_command(ann, "/price", query)
        await tg.wait_for_messages(ann, count, timeout=15)
    heads = [m.plain_text.splitlines()[0] for m in tg.bot_messages(ann)]
    assert heads == ["💹 ETH/USDT · Bybit", "💹 SOL/USDT · Bybit", "💹 BTC/USDT · Bybit", "💹 ETH/USDT · Bybit"]


async def test_chart_sends_a_photo_and_saves_one_snapshot_per_candle(
    app: RunningBot, tg: FakeTelegramServer, exchange: FakeBybit
) -> None:
    ann = new_user(tg, "Ann", "en")
    li = new_user(tg, "Li", "zh")
    before = candle_open(int(time.time() * 1000), "1h")
    await tg.send_command(ann, "/chart", "ETH 1h")
    (photo,) = await tg.wait_for_messages(ann, 1, timeout=30)
    await tg.send_command(ann, "/chart", "eth 1H")  # the same candle: no second row
    await tg.send_command(li, "/chart", "1h ETH")
    await tg.wait_for_messages(ann, 2, timeout=30)
    (zh,) = await tg.wait_for_messages(li, 1, timeout=30)
    after = candle_open(int(time.time() * 1000), "1h")

    assert photo.photo is not None and photo.photo.data is not None
    width, height = png_size(photo.photo.data)
    assert width >= 1000 and height > 0
    caption = photo.caption or ""
    assert len(caption) <= 1024
    lines = caption.splitlines()
    assert lines[0] == "📈 ETH/USDT · 1h · Bybit"
    assert lines[1].startswith(f"Price {format_price(exchange.book.last_price('ETH'))} · 24h ")
    assert lines[2].startswith("Trend: ") and "RSI " in lines[2]
    assert any(line.startswith("Funding +0.0100% per 8h") for line in lines)
    assert lines[-1].startswith("Last candle ") and lines[-1].endswith("not financial advice")
    assert zh.caption is not None and zh.caption.startswith("📈 ETH/USDT · 1h · Bybit\n价格 ")
    assert "趋势：" in zh.caption and "不构成投资建议" in zh.caption
    assert "upload_photo" in actions(tg, ann.id)
    assert_no_generic_error(tg, ann.id)

    async with app.resources.sessionmaker() as session:
        rows = (await session.scalars(select(MarketSnapshot))).all()
    # One row per candle: exactly one, unless an hour candle closed during the test (then one per candle).
    stamps = sorted(int(r.as_of.timestamp() * 1000) for r in rows)
    assert stamps and len(stamps) == len(set(stamps)) and set(stamps) <= {before, after}
    row = min(rows, key=lambda r: r.as_of)
    assert (row.symbol, row.timeframe, row.exchange) == ("ETH/USDT", "1h", "bybit")
    assert row.price == pytest.approx(exchange.book.last_price("ETH"))
    assert row.rsi14 is not None and 0 <= row.rsi14 <= 100
    assert row.funding_rate == pytest.approx(0.0001) and row.open_interest == pytest.approx(50_000)


async def test_new_listings_appear_after_the_periodic_market_refresh(
    tg: FakeTelegramServer, exchange: FakeBybit, settings_factory: Callable[..., Any]
) -> None:
    async with running_bot(settings_factory(markets_refresh_hours=0.5 / 3600), tg) as app:
        await markets_loaded(app, tg)
        ann = new_user(tg, "Ann", "en")
        await tg.send_command(ann, "/price", "NEWCOIN")
        (unknown,) = await tg.wait_for_messages(ann, 1, timeout=15)
        assert unknown.plain_text.startswith("🤔 I can't find NEWCOIN on Bybit.")
        pairs = market_of(app).status()[0].pairs
        exchange.book.specs["NEWCOIN"] = SymbolSpec("NEWCOIN", price=1.25)  # listed meanwhile
        await tg.wait_until(lambda: market_of(app).status()[0].pairs > pairs, timeout=10, what="a markets reload")
        await tg.send_command(ann, "/price", "NEWCOIN")
        messages = await tg.wait_for_messages(ann, 2, timeout=15)
        assert messages[1].plain_text.startswith("💹 NEWCOIN/USDT · Bybit\nPrice: ")


async def test_unknown_coin_offers_suggestions_as_buttons(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = new_user(tg, "Ann", "en")
    await tg.send_command(ann, "/price", "DOGGO")
    (unknown,) = await tg.wait_for_messages(ann, 1, timeout=15)
    assert unknown.plain_text.splitlines() == ["🤔 I can't find DOGGO on Bybit.", "Did you mean DOGE? Tap below."]
    assert unknown.button_texts() == [["💹 DOGE"]]
    await tg.press_button(ann, "💹 DOGE")
    messages = await tg.wait_for_messages(ann, 2, timeout=15)
    assert messages[1].plain_text.startswith("💹 DOGE/USDT · Bybit\nPrice: ")
    await tg.wait_until(lambda: not tg.bot_messages(ann)[0].reply_markup, what="suggestions retired")

    await tg.send_command(ann, "/chart", "DOGGO 4h")
    messages = await tg.wait_for_messages(ann, 3, timeout=15)
    assert messages[2].button_texts() == [["📈 DOGE"]]
    await tg.press_button(ann, "📈 DOGE")
    messages = await tg.wait_for_messages(ann, 4, timeout=30)
    assert messages[3].photo is not None and (messages[3].caption or "").startswith("📈 DOGE/USDT · 4h · Bybit")

    li = new_user(tg, "Li", "zh")
    await tg.send_command(li, "/price", "ZZZZQQ")
    (zh,) = await tg.wait_for_messages(li, 1, timeout=15)
    assert zh.plain_text.startswith("🤔 在 Bybit 上找不到 ZZZZQQ。\n请发送币种代码")
    assert not zh.reply_markup
    assert_no_generic_error(tg, ann.id)


async def test_unsupported_timeframe_lists_the_supported_ones(
    app: RunningBot, tg: FakeTelegramServer, exchange: FakeBybit
) -> None:
    ann = new_user(tg, "Ann", "en")
    li = new_user(tg, "Li", "zh")
    await tg.send_command(ann, "/chart", "BTC 3m")
    await tg.send_command(li, "/chart", "BTC 2h")
    (en,) = await tg.wait_for_messages(ann, 1)
    (zh,) = await tg.wait_for_messages(li, 1)
    assert en.plain_text == ("⏱ 3m is not a timeframe I support.\nUse one of: 5m 15m 1h 4h 1d 1w — e.g. /chart BTC 4h")
    assert zh.plain_text == "⏱ 不支持 2h 这个周期。\n可用周期：5m 15m 1h 4h 1d 1w，例如 /chart BTC 4h"
    assert exchange.count("/v5/market/kline") == 0
    assert not tg.calls_to("sendPhoto")


async def test_missing_argument_gets_a_usage_hint(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = new_user(tg, "Ann", "en")
    await tg.send_command(ann, "/price")
    await tg.wait_for_messages(ann, 1)
    await tg.send_command(ann, "/chart")
    await tg.wait_for_messages(ann, 2)
    await tg.send_command(ann, "/chart", "4h")
    texts = [m.plain_text for m in await tg.wait_for_messages(ann, 3)]
    assert texts[0].startswith("💹 Quick price: /price coin\n\nExamples: /price BTC")
    assert texts[1].startswith("📈 Chart: /chart coin [timeframe]\n\nExamples: /chart BTC · /chart ETH 4h")
    assert "Timeframes: 5m 15m 1h 4h 1d 1w (default 4h)." in texts[1]
    assert texts[2] == texts[1]
    li = new_user(tg, "Li", "zh")
    await tg.send_command(li, "/price")
    (zh,) = await tg.wait_for_messages(li, 1)
    assert zh.plain_text.startswith("💹 快速报价：/price 币种")


async def test_exchange_down_after_start_gets_a_clear_answer(
    app: RunningBot, tg: FakeTelegramServer, exchange: FakeBybit
) -> None:
    await markets_loaded(app, tg)
    exchange.inject("http500")
    ann = new_user(tg, "Ann", "en")
    li = new_user(tg, "Li", "zh")
    await tg.send_command(ann, "/price", "BTC")
    (price,) = await tg.wait_for_messages(ann, 1, timeout=DOWN_TIMEOUT)
    assert price.plain_text.startswith("⚠️ I can't reach the exchange right now (Bybit). Please try again in ")
    await tg.send_command(li, "/chart", "ETH 4h")
    (chart,) = await tg.wait_for_messages(li, 1, timeout=DOWN_TIMEOUT)
    assert chart.plain_text.startswith("⚠️ 暂时连不上交易所（Bybit），请")
    assert not tg.calls_to("sendPhoto")
    assert_no_generic_error(tg, ann.id)
    assert_no_generic_error(tg, li.id)
    async with app.resources.sessionmaker() as session:
        assert (await session.scalars(select(MarketSnapshot))).all() == []


async def test_exchange_down_from_the_start(
    tg: FakeTelegramServer, exchange: FakeBybit, settings_factory: Callable[..., Any]
) -> None:
    exchange.inject("http503")
    async with running_bot(settings_factory(), tg):
        ann = new_user(tg, "Ann", "en")
        await tg.send_command(ann, "/chart", "BTC")
        (answer,) = await tg.wait_for_messages(ann, 1, timeout=DOWN_TIMEOUT)
        assert answer.plain_text.startswith("⚠️ I can't reach the exchange right now (Bybit).")
        exchange.clear_faults()  # the exchange is back: markets load on demand
        await tg.send_command(ann, "/price", "BTC")
        messages: list[FakeMessage] = await tg.wait_for_messages(ann, 2, timeout=DOWN_TIMEOUT)
        assert messages[1].plain_text.startswith(("💹 BTC/USDT · Bybit", "⚠️ I can't reach the exchange"))
        assert_no_generic_error(tg, ann.id)
