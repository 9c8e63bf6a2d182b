"""The analysis texts never contradict themselves or each other (issue 13, 4), on generated candles:
the rule-based analyst, the chart caption, /price and the model's data block.

* the trend words come from one rule (`trend_key`): no "sideways" while the price is above (below)
  both EMA20 and EMA50;
* a missing support or resistance is said in words, never "—";
* "1 candle", not "1 candles" (Fluent plural selectors), in both languages;
* funding always per 8 h, the exchange always as people write it, open interest in one unit style
  per language.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from services.chat.market_block import describe as data_block
from services.chat.market_block import market_block
from services.chat.numbers import facts_from_views, verify_answer
from services.chat.rules import rule_based_answer
from services.format import exchange_name, format_funding
from services.i18n import Translations, Translator
from services.market import MarketView
from services.market.analysis import LEVEL_LOOKBACK
from services.market_text import chart_caption, price_text
from services.risk.rules import MarketEvent
from services.risk.texts import market_risk
from standins.exchanges import generate_scenario
from tests.generated_views import generated_view, view_from_rows

REGIMES = ("up", "down", "range", "random", "squeeze", "pump", "crash")
TABLE = [(seed, regime) for regime in REGIMES for seed in range(8)]
# "resistance —." / "Resistance —" / "阻力 —；": a dash where a level should be
DASH_FOR_A_LEVEL = re.compile(r"(?i:support|resistance|支撑|阻力)\W{0,4}—|—\s*[.;。；·]")
SIDEWAYS = {"en": ("sideways",), "zh": ("区间震荡", "↔ 震荡")}


@pytest.fixture(scope="module")
def translations() -> Translations:
    return Translations()


def texts(t: Translator, view: MarketView) -> list[str]:
    now = view.as_of + timedelta(minutes=5)
    return [
        rule_based_answer(t, [view], fallback=False),
        chart_caption(t, view),
        price_text(t, view.resolved, view.ticker, view.derivatives, now=now),
    ]


def _views() -> list[MarketView]:
    return [generated_view(seed, [("random", 150), (regime, 150)], start_price=3_000.0) for seed, regime in TABLE]


VIEWS = _views()


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_no_sideways_while_the_price_is_above_or_below_both_emas(translations: Translations, locale: str) -> None:
    t = translations.get(locale)
    stacked_ranges = 0
    for view in VIEWS:
        a = view.analysis
        ind = a.indicators
        above, below = a.price > max(ind.ema20, ind.ema50), a.price < min(ind.ema20, ind.ema50)
        rules, caption, _ = texts(t, view)
        block_trend = next(line for line in data_block(view).splitlines() if line.startswith("trend:"))
        if above or below:
            stacked_ranges += a.trend.direction == "range"
            for text in (rules, caption, block_trend):
                assert not any(word in text for word in SIDEWAYS[locale] + ("sideways",)), (view.as_of, text)
        if a.trend.direction == "up":
            assert not a.price < ind.ema20 < ind.ema50
        if a.trend.direction == "down":
            assert not a.price > ind.ema20 > ind.ema50
    assert stacked_ranges >= 3  # the table does hold the case of the issue: a range with stacked EMAs


def test_the_issue_case_a_range_up_3_6_pct_above_both_emas_leans_up(translations: Translations) -> None:
    candidates = [generated_view(seed, [("range", 300)], start_price=100.0, timeframe="1h") for seed in range(20)]
    found = [
        view
        for view in candidates
        if view.analysis.trend.direction == "range"
        and view.ticker.change_24h_pct is not None
        and view.ticker.change_24h_pct > 2.0
        and view.analysis.price > view.analysis.indicators.ema20 > view.analysis.indicators.ema50
    ]
    assert found, "no range with a rally in the table"
    for view in found:
        assert view.analysis.trend.lean == "up"
        assert "pushing up" in rule_based_answer(translations.get("en"), [view], fallback=False)
        assert "走强" in rule_based_answer(translations.get("zh"), [view], fallback=False)
        assert "↗" in chart_caption(translations.get("en"), view)


def _at_extreme(side: str, seed: int) -> MarketView:
    rows = generate_scenario([("range", 250), ("pump" if side == "high" else "crash", 8)], seed=seed, timeframe="4h")
    if side == "high":
        rows[-1, 2] = rows[-1, 4] = float(rows[-LEVEL_LOOKBACK:, 2].max()) * 1.01  # closes at a new high
    else:
        rows[-1, 3] = rows[-1, 4] = float(rows[-LEVEL_LOOKBACK:, 3].min()) * 0.99
    return view_from_rows(rows)


@pytest.mark.parametrize(("side", "seed"), [("high", 0), ("high", 3), ("low", 0), ("low", 5)])
@pytest.mark.parametrize("locale", ["en", "zh"])
def test_a_missing_level_is_said_in_words(translations: Translations, side: str, seed: int, locale: str) -> None:
    view = _at_extreme(side, seed)
    levels = view.analysis.levels
    assert (levels.resistance if side == "high" else levels.support) == ()
    t = translations.get(locale)
    rules, caption, _ = texts(t, view)
    words = {
        ("high", "en"): ("no resistance above", "with no resistance overhead", "no resistance above (at the high)"),
        ("low", "en"): ("no support below", "with no support underneath", "No support below (at the low)"),
        ("high", "zh"): ("上方暂无阻力：", "上方暂无阻力，收盘站上", "上方暂无阻力（处于高点）"),
        ("low", "zh"): ("下方暂无支撑：", "下方暂无支撑，收盘跌破", "下方暂无支撑（处于低点）"),
    }[(side, locale)]
    assert words[0] in rules and words[1] in rules and words[2] in caption
    for text in (rules, caption):
        assert DASH_FOR_A_LEVEL.search(text) is None, text
    block = data_block(view)
    assert ("resistance: none above" if side == "high" else "support: none below") in block


def _views_with_cross() -> dict[int, MarketView]:
    found: dict[int, MarketView] = {}
    for seed in range(60):
        view = generated_view(seed, [("random", 200)], start_price=100.0)
        bars = view.analysis.momentum.macd_cross_bars_ago
        if bars is not None and bars <= 2:
            found.setdefault(bars, view)
        if {0, 1, 2} <= set(found):
            break
    return found


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_candles_ago_in_the_right_plural(translations: Translations, locale: str) -> None:
    found = _views_with_cross()
    assert {0, 1, 2} <= set(found)
    t = translations.get(locale)
    expected = {
        "en": {0: "on the latest candle", 1: "1 candle ago.", 2: "2 candles ago."},
        "zh": {0: "在最新一根K线上", 1: "在 1 根K线前", 2: "在 2 根K线前"},
    }[locale]
    for bars, view in found.items():
        rules = rule_based_answer(t, [view], fallback=False)
        assert expected[bars] in rules
        assert re.search(r"\b1 candles\b", rules + data_block(view)) is None
    assert "macd cross " in data_block(found[1]) and "1 candle ago" in data_block(found[1])
    for candles in (1, 2, 5):
        event = MarketEvent("move", 5.0, 2.5)
        alert = market_risk(t, event, "BTC/USDT", "1h", 60_000.0, candles)
        assert re.search(r"\b1 candles\b", alert) is None
        assert ("1 candle " if candles == 1 else f"{candles} candles") in alert if locale == "en" else "根K线" in alert


@pytest.mark.parametrize(("hours", "rate"), [(1.0, 0.0000125), (4.0, 0.00005), (8.0, 0.0001), (8.0, 0.0008)])
@pytest.mark.parametrize("locale", ["en", "zh"])
def test_funding_is_per_8h_everywhere(translations: Translations, hours: float, rate: float, locale: str) -> None:
    view = generated_view(2, [("up", 200)], funding=rate, funding_hours=hours)
    per_8h = format_funding(rate * 8 / hours)
    period = {"en": "per 8h", "zh": "/ 8小时"}[locale]
    t = translations.get(locale)
    alert = market_risk(t, MarketEvent("funding", rate * 8 / hours), "ETH/USDT", "4h", 3_000.0, 1)
    for text in [*texts(t, view), alert]:
        assert f"{per_8h} {period}" in text, text
        assert re.search(r"per [1-7]h|/ ?[1-7] ?小时|per hour|每小时", text) is None
    assert f"perp_funding_rate: {per_8h} per 8h" in data_block(view)


@pytest.mark.parametrize("exchange", ["bybit", "binance", "okx"])
@pytest.mark.parametrize("locale", ["en", "zh"])
def test_the_exchange_is_written_one_way(translations: Translations, exchange: str, locale: str) -> None:
    view = generated_view(4, [("range", 200)], exchange=exchange)
    name = exchange_name(exchange)
    assert name in ("Bybit", "Binance", "OKX")
    for text in [*texts(translations.get(locale), view), data_block(view)]:
        assert name in text
        assert re.search(rf"\b{exchange}\b", text) is None and exchange.upper() not in text.replace("OKX", ""), text


@pytest.mark.parametrize(
    ("oi", "en", "zh"),
    [(1_234_567_890.0, "1.23B", "12.35亿"), (45_670_000.0, "45.67M", "4,567.0万"), (987_654.0, "987.7K", "98.77万")],
)
def test_open_interest_in_one_unit_style_per_language(translations: Translations, oi: float, en: str, zh: str) -> None:
    view = generated_view(5, [("up", 200)], open_interest=oi)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    for locale, expected, foreign in (("en", en, r"[万亿]"), ("zh", zh, r"\d[KMB]\b")):
        t = translations.get(locale)
        rules = rule_based_answer(t, [view], fallback=False)
        quick = price_text(t, view.resolved, view.ticker, view.derivatives, now=now)
        for text in (rules, quick):
            assert f"{expected} USDT" in text, text
            assert re.search(foreign, text) is None, text
    assert f"open_interest_usdt: {en}" in data_block(view).splitlines()  # the model's block is English
    # … with the Chinese style beside it for a Chinese answer, and the model may quote either as data
    assert f"open_interest_usdt: {en} ({zh})" in data_block(view, "zh").splitlines()
    facts = facts_from_views([view], market_block([view], None, "zh"))
    assert verify_answer(f"持仓量 {zh} USDT", facts).unverified == ()


def test_the_signal_commentary_model_sees_the_exchange_as_people_write_it() -> None:
    from services.signals.commentary import _messages
    from services.signals.model import SignalIdea

    at = datetime(2026, 6, 1, tzinfo=UTC)
    idea = SignalIdea(
        symbol="BTC/USDT", exchange="okx", timeframe="4h", direction="long", entry=100.0, stop=95.0,
        targets=(110.0,), confidence=60, reason=("trend-up",), signal_at=at, valid_until=at + timedelta(hours=8),
        strategy="trend", version="1",
    )  # fmt: skip
    data = _messages(idea, "en")[-1]["content"]
    assert "exchange: OKX" in data and "okx" not in data
