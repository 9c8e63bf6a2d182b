"""Number formatting (services.format), the /price and /chart texts (services.market_text), argument parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services import format as fmt
from services.i18n import SUPPORTED_LOCALES, Translations
from services.intent import DEFAULT_TIMEFRAME, MarketQuery, parse_market_query, read_timeframe
from services.market import (
    Candles,
    Derivatives,
    ExchangeUnavailable,
    MarketView,
    NotEnoughData,
    RateLimited,
    ResolvedSymbol,
    Ticker,
    UnknownSymbol,
    UnsupportedTimeframe,
    analyze,
)
from services.market_text import (
    RSI_STATE_KEYS,
    STRENGTH_KEYS,
    TREND_KEYS,
    chart_caption,
    chart_usage,
    error_reply,
    price_text,
    price_usage,
)
from standins.exchanges import generate_ohlcv

NOW = datetime(2026, 3, 2, 5, 45, tzinfo=UTC)
BTC = ResolvedSymbol("BTC", "BTC", "USDT", "bybit", "BTC/USDT", "BTC/USDT:USDT", ("bybit",))
SPOT_ONLY = ResolvedSymbol("XYZ", "XYZ", "USDT", "bybit", "XYZ/USDT", None, ("bybit",))
TICKER = Ticker("bybit", "BTC/USDT", 67_234.54, 3.5873, 2_287_185_542.66, 68_000.0, 65_100.25, NOW)
DERIVATIVES = Derivatives(
    "bybit", "BTC/USDT:USDT", 0.0001, NOW.replace(hour=8, minute=0), 8.0, 50_000.0, 3.36e9, 67_230.0, NOW
)


@pytest.fixture(scope="module")
def translations() -> Translations:
    return Translations()


# ------------------------------------------------------------------------------ numbers
@pytest.mark.parametrize(
    ("price", "text"),
    [
        (67_234.54, "67,234.5"),
        (60_000, "60,000.0"),
        (3_012.254, "3,012.25"),
        (150.255, "150.26"),
        (15.1234, "15.123"),
        (1.23456, "1.2346"),
        (0.6, "0.6000"),
        (0.08123, "0.08123"),
        (0.00001234, "0.00001234"),
        (0.000000001234, "0.000000001234"),
        (0.125, "0.1250"),
        (-5.5, "-5.5000"),
        (0, "0.00"),
        (None, "—"),
        (float("nan"), "—"),
        (float("inf"), "—"),
    ],
)
def test_price_precision_by_magnitude(price: float | None, text: str) -> None:
    assert fmt.format_price(price) == text


def test_price_decimals_keep_four_significant_digits_below_one() -> None:
    assert [fmt.price_decimals(p) for p in (0.9999, 0.1, 0.0123, 0.001, 1e-8)] == [4, 4, 5, 6, 11]


def test_half_up_rounding() -> None:
    assert fmt.format_price(2.00005) == "2.0001"
    assert fmt.format_pct(1.005) == "+1.01%"
    assert fmt.format_pct(-1.235) == "-1.24%"


@pytest.mark.parametrize(
    ("value", "en", "zh"),
    [
        (2_287_185_542.66, "2.29B", "22.87亿"),
        (456_700_000, "456.7M", "4.57亿"),
        (45_678_000, "45.68M", "4,567.8万"),
        (999_960_000, "1.00B", "10.00亿"),
        (1.5e12, "1.50T", "1.50万亿"),
        (12_345, "12.35K", "1.23万"),
        (999.5, "999.5", "999.5"),
        (5_432.1, "5.43K", "5,432"),
        (42.123, "42.12", "42.12"),
        (-3e9, "-3.00B", "-30.00亿"),
        (None, "—", "—"),
    ],
)
def test_compact_amounts(value: float | None, en: str, zh: str) -> None:
    assert fmt.format_compact(value) == en
    assert fmt.format_compact(value, "zh") == zh


def test_percentages_and_funding() -> None:
    assert fmt.format_pct(3.5873) == "+3.59%"
    assert fmt.format_pct(-0.004) == "0.00%"
    assert fmt.format_pct(-12.5) == "-12.50%"
    assert fmt.format_pct(None) == "—"
    assert fmt.format_funding(0.0001) == "+0.0100%"
    assert fmt.format_funding(-0.00025) == "-0.0250%"
    assert fmt.format_funding(0.0) == "0.0000%"
    assert fmt.format_funding(None) == "—"
    assert fmt.format_change(3.5873) == "▲ +3.59%"
    assert fmt.format_change(-1.2) == "▼ -1.20%"
    assert fmt.format_change(0.001) == "0.00%"
    assert fmt.format_change(None) == "—"


def test_percent_changes_always_carry_their_sign() -> None:
    assert [fmt.format_pct(x) for x in (0.01, 12_345.678, -0.006, -0.004, 0.0)] == [
        "+0.01%",
        "+12,345.68%",
        "-0.01%",
        "0.00%",
        "0.00%",
    ]
    assert fmt.format_pct(0.00004, 4) == "0.0000%"
    assert fmt.format_pct(1.23456, 4) == "+1.2346%"


def test_shares_and_readings_have_no_sign() -> None:
    assert fmt.format_share(2.3456) == "2.35%"
    assert fmt.format_share(0.125) == "0.13%"
    assert fmt.format_number(63.45) == "63.5"  # half-up, like prices
    assert fmt.format_number(1.2345, 2) == "1.23"
    assert fmt.format_number(87.6, 0) == "88"
    assert fmt.format_number(-3.25) == "-3.3"


@pytest.mark.parametrize("bad", [None, float("nan"), float("inf"), float("-inf")])
def test_one_missing_marker_for_every_kind_of_number(bad: float | None) -> None:
    assert fmt.MISSING == "—"
    for text in (
        fmt.format_price(bad),
        fmt.format_pct(bad),
        fmt.format_change(bad),
        fmt.format_share(bad),
        fmt.format_number(bad),
        fmt.format_funding(bad),
        fmt.format_compact(bad),
        fmt.format_compact(bad, "zh"),
    ):
        assert text == fmt.MISSING


def test_durations_and_times() -> None:
    assert fmt.format_duration(timedelta(hours=2, minutes=15)) == "2h 15m"
    assert fmt.format_duration(timedelta(hours=2, minutes=15), "zh") == "2小时15分钟"
    assert fmt.format_duration(8 * 3600) == "8h"
    assert fmt.format_duration(8 * 3600, "zh") == "8小时"
    assert fmt.format_duration(timedelta(days=1, hours=3)) == "1d 3h"
    assert fmt.format_duration(45 * 60) == "45m"
    assert fmt.format_duration(30) == "<1m"
    assert fmt.format_duration(-5, "zh") == "不到1分钟"
    assert fmt.format_utc_time(NOW.replace(hour=8, minute=0), NOW) == "08:00 UTC"
    assert fmt.format_utc_time(NOW + timedelta(days=1), NOW) == "03-03 05:45 UTC"
    assert (
        fmt.exchange_name("bybit") == "Bybit"
        and fmt.exchange_name("okx") == "OKX"
        and fmt.exchange_name("kraken") == "Kraken"
    )


# ------------------------------------------------------------------------------ /price text
def test_price_text_in_english(translations: Translations) -> None:
    text = price_text(translations.get("en"), BTC, TICKER, DERIVATIVES, now=NOW)
    assert text.splitlines() == [
        "💹 <b>BTC/USDT</b> · Bybit",
        "Price: <b>67,234.5</b> USDT",
        "24h: ▲ +3.59% · high 68,000.0 · low 65,100.3",
        "24h volume: 2.29B USDT",
        "Funding: +0.0100% per 8h · next in 2h 15m (08:00 UTC)",
        "Open interest: 3.36B USDT",
        "<i>Updated 05:45 UTC</i>",
    ]


def test_price_text_in_chinese(translations: Translations) -> None:
    text = price_text(translations.get("zh"), BTC, TICKER, DERIVATIVES, now=NOW)
    assert text.splitlines()[1:6] == [
        "价格：<b>67,234.5</b> USDT",
        "24小时：▲ +3.59% · 最高 68,000.0 · 最低 65,100.3",
        "24小时成交额：22.87亿 USDT",
        "资金费率：+0.0100% / 8小时 · 2小时15分钟后结算（08:00 UTC）",
        "持仓量：33.60亿 USDT",
    ]


def test_price_text_without_derivatives_or_24h_data(translations: Translations) -> None:
    t = translations.get("en")
    bare = Ticker("bybit", "XYZ/USDT", 0.00001234, None, None, None, None, NOW)
    assert price_text(t, SPOT_ONLY, bare, None, now=NOW).splitlines() == [
        "💹 <b>XYZ/USDT</b> · Bybit",
        "Price: <b>0.00001234</b> USDT",
        "<i>Spot only: no perpetual contract, so no funding rate.</i>",
        "<i>Updated 05:45 UTC</i>",
    ]
    # a perpetual whose funding could not be fetched; a past funding time
    assert "Funding: not available right now." in price_text(t, BTC, TICKER, None, now=NOW)
    stale = Derivatives("bybit", "BTC/USDT:USDT", -0.0002, NOW - timedelta(hours=1), 8.0, None, None, None, NOW)
    lines = price_text(t, BTC, TICKER, stale, now=NOW).splitlines()
    assert "Funding: -0.0200% per 8h" in lines and not any(line.startswith("Open interest") for line in lines)
    # the perpetual answered, but without a funding rate
    no_rate = Derivatives("bybit", "BTC/USDT:USDT", None, None, 8.0, 50_000.0, 3.36e9, 67_230.0, NOW)
    assert "Funding: not available right now." in price_text(t, BTC, TICKER, no_rate, now=NOW).splitlines()


@pytest.mark.parametrize(
    ("rate", "interval_hours", "shown"),
    [
        (0.0001, 8.0, "+0.0100%"),  # Bybit's and Binance's usual interval: as the exchange says
        (0.0001, 4.0, "+0.0200%"),  # paid twice per 8 hours
        (0.0001, 1.0, "+0.0800%"),  # hourly funding (Hyperliquid-style perps)
        (-0.0003, 2.0, "-0.1200%"),
        (0.0001, None, "+0.0100%"),  # interval not stated: taken as per 8h, like the analysis
    ],
)
def test_funding_is_always_stated_per_8h(
    translations: Translations, rate: float, interval_hours: float | None, shown: str
) -> None:
    derivatives = Derivatives(
        "bybit", "BTC/USDT:USDT", rate, NOW.replace(hour=8, minute=0), interval_hours, None, None, None, NOW
    )
    en = price_text(translations.get("en"), BTC, TICKER, derivatives, now=NOW).splitlines()
    assert f"Funding: {shown} per 8h · next in 2h 15m (08:00 UTC)" in en
    zh = price_text(translations.get("zh"), BTC, TICKER, derivatives, now=NOW).splitlines()
    assert f"资金费率：{shown} / 8小时 · 2小时15分钟后结算（08:00 UTC）" in zh
    caption = chart_caption(translations.get("en"), make_view(derivatives)).splitlines()
    assert f"Funding {shown} per 8h" in caption


# ------------------------------------------------------------------------------ /chart caption
def make_view(derivatives: Derivatives | None = DERIVATIVES) -> MarketView:
    rows = generate_ohlcv(300, seed=7, regime="up", start_price=60_000, start_ms=1_767_225_600_000, timeframe="1h")
    candles = Candles.from_array(rows, exchange="bybit", symbol="BTC/USDT", timeframe="1h")
    analysis = analyze(candles, derivatives)
    ticker = Ticker("bybit", "BTC/USDT", candles.last_close, 1.5, 1e9, None, None, candles.last_time)
    return MarketView(BTC, "1h", "bybit", candles.last_time, ticker, candles, analysis, derivatives)


def test_chart_caption_in_both_languages(translations: Translations) -> None:
    view = make_view()
    for locale in SUPPORTED_LOCALES:
        caption = chart_caption(translations.get(locale), view)
        assert caption.startswith("📈 <b>BTC/USDT</b> · 1h · Bybit\n")
        assert len(caption) <= 1024
        assert fmt.format_price(view.ticker.price) in caption
        assert "+0.0100%" in caption
    en = chart_caption(translations.get("en"), view).splitlines()
    assert "Funding +0.0100% per 8h" in en
    assert "资金费率 +0.0100% / 8小时" in chart_caption(translations.get("zh"), view).splitlines()
    assert en[1] == f"Price <b>{fmt.format_price(view.ticker.price)}</b> · 24h ▲ +1.50%"
    assert en[2].startswith("Trend: ") and " · RSI " in en[2]
    assert en[-1].startswith("<i>Last candle ") and en[-1].endswith("not financial advice</i>")
    spot = chart_caption(translations.get("en"), make_view(None))
    assert "Funding" not in spot


def test_every_dynamic_key_exists(translations: Translations) -> None:
    keys = translations.keys("en")
    for table in (TREND_KEYS, STRENGTH_KEYS, RSI_STATE_KEYS):
        assert set(table.values()) <= keys


# ------------------------------------------------------------------------------ errors and usage
def test_error_replies(translations: Translations) -> None:
    t = translations.get("en")
    unknown = error_reply(t, UnknownSymbol("DOGGO", ["DOGE"]), query="DOGGO", exchanges=["bybit", "binance"])
    assert unknown.text == "🤔 I can't find <b>DOGGO</b> on Bybit, Binance.\nDid you mean DOGE? Tap below."
    assert unknown.suggestions == ("DOGE",)
    hostile = error_reply(t, UnknownSymbol("<b>x"), query="<script>" + "x" * 100, exchanges=["bybit"])
    assert "&lt;script&gt;" in hostile.text and "<script>" not in hostile.text and "…" in hostile.text
    timeframe = error_reply(t, UnsupportedTimeframe("3m", ("5m", "15m", "1h", "4h", "1d", "1w")), query="BTC",
                            exchanges=["bybit"])  # fmt: skip
    assert "Use one of: 5m 15m 1h 4h 1d 1w — e.g. <code>/chart BTC 4h</code>" in timeframe.text
    down = error_reply(t, ExchangeUnavailable("boom"), query="BTC", exchanges=["bybit"])
    assert down.text == "⚠️ I can't reach the exchange right now (Bybit). Please try again in a minute."
    cooling = error_reply(t, ExchangeUnavailable("cool", retry_after=75), query="BTC", exchanges=["bybit"])
    assert cooling.text.endswith("Please try again in 2m.")
    assert error_reply(t, RateLimited("slow"), query="BTC", exchanges=["bybit"]).text == down.text
    short = error_reply(t, NotEnoughData(60, 12), query="new", exchanges=["bybit"], timeframe="1d", pair="NEW/USDT")
    assert short.text.startswith("📉 <b>NEW/USDT</b> doesn't have enough 1d history")
    zh = translations.get("zh")
    assert error_reply(zh, UnknownSymbol("DOGGO", ["DOGE", "DOG"]), query="DOGGO", exchanges=["bybit"]).text == (
        "🤔 在 Bybit 上找不到 <b>DOGGO</b>。\n你要找的是不是 DOGE、DOG？点下面的按钮即可。"
    )
    cooling_zh = error_reply(zh, ExchangeUnavailable("c", retry_after=61), query="x", exchanges=["bybit"])
    assert "请2分钟后再试" in cooling_zh.text


def test_usage_hints(translations: Translations) -> None:
    assert "<code>/price BTC</code>" in price_usage(translations.get("en"))
    assert DEFAULT_TIMEFRAME == "4h"  # the chat's default, now the one default of /chart too
    assert "Timeframes: 5m 15m 1h 4h 1d 1w (default 4h)." in chart_usage(translations.get("en"))
    assert "支持的周期：5m 15m 1h 4h 1d 1w（默认 4h）。" in chart_usage(translations.get("zh"))


# ------------------------------------------------------------------------------ /chart arguments
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("ETH 1h", MarketQuery("ETH", "1h")),
        ("4h ETH", MarketQuery("ETH", "4h")),
        ("ETH", MarketQuery("ETH", DEFAULT_TIMEFRAME)),
        ("bitcoin cash 1d", MarketQuery("bitcoin cash", "1d")),
        ("BTC 3m", MarketQuery("BTC", DEFAULT_TIMEFRAME, unsupported="3m")),
        ("BTC 月线", MarketQuery("BTC", DEFAULT_TIMEFRAME, unsupported="月线")),
        ("BTC ETH", MarketQuery("BTC ETH")),
        ("1INCH 4h", MarketQuery("1INCH", "4h")),
        ("以太坊 4小时", MarketQuery("以太坊", "4h")),
        ("  sol   daily ", MarketQuery("sol", "1d")),
        ("W", MarketQuery("W")),  # a ticker, not the weekly timeframe
        ("", MarketQuery("")),
        ("4h", MarketQuery("")),  # a timeframe alone names no coin
        ("3m", MarketQuery("")),
        ("4h 1d", MarketQuery("")),
        ("4小时", MarketQuery("")),
    ],
)
def test_parse_market_query(args: str, expected: MarketQuery) -> None:
    assert parse_market_query(args) == expected


def test_read_timeframe() -> None:
    assert [read_timeframe(x) for x in ("1h", "4H", "h4", "daily", "4hours", "15mins", "4小时", "日线")] == [
        "1h", "4h", "4h", "1d", "4h", "15m", "4h", "1d",
    ]  # fmt: skip
    assert [read_timeframe(x) for x in ("ETH", "1INCH", "W", "以太坊")] == [None, None, "1w", None]
    for unsupported in ("3m", "2h", "30min", "1mo", "monthly", "3分钟", "月线"):
        with pytest.raises(UnsupportedTimeframe):
            read_timeframe(unsupported)
