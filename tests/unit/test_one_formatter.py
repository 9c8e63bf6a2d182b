"""One formatter everywhere: /price, the chart caption, the rule-based analyst and the model's data block
show each number the same way (services.format): funding per 8h, amounts in the language's units,
the exchange as people write it, and "—" for whatever is missing."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from services.chat.market_block import describe as data_block
from services.chat.rules import rule_based_answer
from services.format import MISSING, format_compact, format_funding, format_number, format_pct, format_price
from services.i18n import Translations
from services.market import Candles, Derivatives, MarketView, ResolvedSymbol, Ticker, analyze
from services.market_text import chart_caption, price_text
from standins.exchanges import generate_ohlcv

NOW = datetime(2026, 3, 2, 5, 45, tzinfo=UTC)
SOL = ResolvedSymbol("SOL", "SOL", "USDT", "bybit", "SOL/USDT", "SOL/USDT:USDT", ("bybit",))
# A perpetual funded every 4 hours: 0.0150% per 4h is 0.0300% per 8h.
FOUR_HOURLY = Derivatives("bybit", "SOL/USDT:USDT", 0.00015, NOW.replace(hour=8), 4.0, 9e6, 2_287_185_542.0, 150.0, NOW)


def make_view(candles_count: int = 300, derivatives: Derivatives | None = FOUR_HOURLY) -> MarketView:
    rows = generate_ohlcv(candles_count, seed=3, regime="up", start_price=140, start_ms=1_767_225_600_000)
    candles = Candles.from_array(rows, exchange="bybit", symbol="SOL/USDT", timeframe="4h")
    ticker = Ticker("bybit", "SOL/USDT", candles.last_close, -2.345, 456_700_000.0, None, None, candles.last_time)
    return MarketView(
        SOL, "4h", "bybit", candles.last_time, ticker, candles, analyze(candles, derivatives), derivatives
    )


@pytest.fixture(scope="module")
def translations() -> Translations:
    return Translations()


def test_every_output_shows_the_same_numbers(translations: Translations) -> None:
    view = make_view()
    price = format_price(view.ticker.price)
    rsi = format_number(view.analysis.indicators.rsi14)
    assert format_funding(0.0003) == "+0.0300%"
    block = data_block(view).splitlines()
    assert f"price: {price}" in block and f"rsi14: {rsi}" in block
    assert "change_24h: -2.35%" in block
    assert "exchange: Bybit" in block
    assert "volume_24h_usdt: 456.7M" in block
    assert any(line.startswith("perp_funding_rate: +0.0300% per 8h (") for line in block)
    assert "open_interest_usdt: 2.29B" in block
    for locale, per_8h, oi in (("en", "+0.0300% per 8h", "2.29B USDT"), ("zh", "+0.0300% / 8小时", "22.87亿 USDT")):
        t = translations.get(locale)
        quick = price_text(t, SOL, view.ticker, FOUR_HOURLY, now=NOW)
        caption = chart_caption(t, view)
        rules = rule_based_answer(t, [view], fallback=False)
        for text in (quick, caption, rules):
            assert price in text and per_8h in text, (locale, text)
        assert rsi in caption and rsi in rules
        assert "-2.35%" in quick and "-2.35%" in caption and "-2.35%" in rules
        assert oi in quick and oi in rules
        assert "Bybit" in quick and "Bybit" in caption and "Bybit" in rules
        assert "bybit" not in rules


def test_missing_values_read_as_a_dash_everywhere(translations: Translations) -> None:
    view = make_view(candles_count=120)  # fewer than 200 candles: no EMA200
    assert view.analysis.indicators.ema200 is None
    block = data_block(view)
    assert "ema200: —" in block.splitlines()
    no_oi = Derivatives("bybit", "SOL/USDT:USDT", 0.0, None, 8.0, None, None, None, NOW)
    with_gaps = make_view(derivatives=no_oi)
    lines = data_block(with_gaps).splitlines()
    assert "open_interest_usdt: —" in lines and "perp_funding_rate: 0.0000% per 8h (neutral)" in lines
    rules = rule_based_answer(translations.get("en"), [with_gaps], fallback=True)
    assert "funding 0.0000% per 8h, open interest not reported" in rules
    for text in (block, "\n".join(lines), rules):
        assert re.search(r"n/a|\b(?:nan|-?inf)\b", text, re.IGNORECASE) is None, text
    assert MISSING == "—" == format_pct(None) == format_compact(float("nan"))


def test_spot_only_views_have_no_funding_anywhere(translations: Translations) -> None:
    view = make_view(derivatives=None)
    assert "perp_funding_rate" not in data_block(view)
    for locale in ("en", "zh"):
        t = translations.get(locale)
        assert "8h" not in chart_caption(t, view) and "8小时" not in chart_caption(t, view)
        assert "8h" not in rule_based_answer(t, [view], fallback=False).replace("48h", "")
