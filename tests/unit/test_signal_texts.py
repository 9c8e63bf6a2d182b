"""A signal's message and chart: levels with their R multiples, validity in UTC, reasons rendered from
rule codes in both languages (an unknown code as a neutral phrase), escaped HTML, the caption limit
(commentary cut first), no claims; the chart a real PNG with the signal's candle and lines."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from db.repositories.signals import SignalRow
from services.delivery.message import CAPTION_LIMIT, OutboxMessage
from services.format import format_price
from services.i18n import SUPPORTED_LOCALES, Translations
from services.market import Candles
from services.market.chart_layout import HEIGHT_PX, WIDTH_PX
from services.market.models import ms_to_datetime
from services.signals.chart import build_signal_chart, render_signal_chart, render_signal_chart_async, signal_window
from services.signals.model import SignalIdea
from services.signals.texts import cut, reason_phrase, signal_text
from services.text.html import sanitize_html, visible_length, visible_text
from standins.exchanges import generate_scenario

T = TypeVar("T")
T0 = datetime(2026, 12, 1, 16, tzinfo=UTC)
TRANSLATIONS = Translations()
EN, ZH = TRANSLATIONS.get("en"), TRANSLATIONS.get("zh")


def idea(**changes: object) -> SignalIdea:
    base = SignalIdea(
        symbol="BTC",
        exchange="bybit",
        timeframe="4h",
        direction="long",
        entry=65_000.0,
        stop=63_500.0,
        targets=(67_000.0, 69_500.0),
        confidence=72,
        reason=("trend_up", "macd_cross_up", "volume_up"),
        signal_at=T0,
        valid_until=T0 + timedelta(hours=12),
        strategy="trend",
        version="1",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def record(**changes: object) -> SignalRow:
    signal = idea()
    base = SignalRow(
        id=7,
        symbol=signal.symbol,
        exchange=signal.exchange,
        timeframe=signal.timeframe,
        direction="long",
        entry=signal.entry,
        stop=signal.stop,
        targets=signal.targets,
        confidence=signal.confidence,
        reason=signal.reason,
        strategy="trend",
        version="1",
        source="auto",
        created_by=None,
        note="",
        commentary=None,
        signal_at=T0,
        valid_until=signal.valid_until,
        created_at=T0,
        status="open",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_message_states_levels_r_validity_confidence_and_reasons() -> None:
    text = signal_text(idea(), EN)
    plain = visible_text(text)
    assert plain.splitlines()[:5] == [
        "🟢 LONG BTC/USDT · 4h · Bybit",
        "Entry: 65,000.0",
        "Stop: 63,500.0 (-2.31%)",
        "🎯 TP1: 67,000.0 (+3.08%, 1.3R)",
        "🎯 TP2: 69,500.0 (+6.92%, 3.0R)",
    ]
    assert "🕒 2026-12-01 16:00 UTC · valid until 2026-12-02 04:00 UTC (12h)" in plain
    assert "Confidence: 72/100" in plain
    assert (
        "Why: uptrend (price above EMA20 above a rising EMA50); MACD histogram turned positive; "
        "volume above its 20-candle average"
    ) in plain
    assert "Manual" not in plain and "Note" not in plain and "commentary" not in plain
    lowered = plain.lower()
    assert "guarantee" not in lowered and "accura" not in lowered and "win rate" not in lowered
    assert sanitize_html(text) == text  # valid Telegram HTML as it is


def test_a_short_in_chinese() -> None:
    short = idea(direction="short", entry=3_000.0, stop=3_090.0, targets=(2_880.0,), reason=("trend_down",))
    plain = visible_text(signal_text(short, ZH))
    assert plain.startswith("🔴 做空 BTC/USDT · 4h · Bybit\n入场：3,000.00\n止损：3,090.00（+3.00%）")
    assert "🎯 止盈1：2,880.00（-4.00%，1.3R）" in plain
    assert "有效至 2026-12-02 04:00 UTC（12小时）" in plain
    assert "依据：下降趋势" in plain and "信心分：72/100" in plain


def test_unknown_or_malformed_codes_read_as_a_neutral_phrase() -> None:
    assert reason_phrase(EN, "brand_new_rule") == "another rule of the strategy"
    assert reason_phrase(ZH, "brand_new_rule") == "策略的其他规则"
    assert reason_phrase(EN, "<script>") == "another rule of the strategy"
    assert reason_phrase(EN, "") == "another rule of the strategy"
    plain = visible_text(signal_text(idea(reason=("new_a", "trend_up", "new_b")), EN))
    assert "Why: another rule of the strategy; uptrend" in plain
    assert plain.count("another rule") == 1 and "new_a" not in plain


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_code_the_strategy_can_give_has_a_text(locale: str) -> None:
    strategy = pytest.importorskip("services.signals.strategy")
    t = TRANSLATIONS.get(locale)
    other = t("signal-reason-other")
    for code in (*strategy.REASON_CODES, "manual"):
        assert reason_phrase(t, code) != other, f"{code} has no text in {locale}"


def test_a_manual_signal_with_a_note_and_the_models_commentary_escaped() -> None:
    manual = idea(source="manual", created_by=5, reason=("manual",), note="Breakout <retest> & hold")
    text = signal_text(manual, EN, commentary="Funding is <b>hot</b> & rising.")
    plain = visible_text(text)
    assert "✍️ Manual signal from the team" in plain
    assert "📝 Note: Breakout <retest> & hold" in plain
    assert "🤖 Model's commentary: Funding is <b>hot</b> & rising." in plain
    assert "&lt;retest&gt; &amp; hold" in text and "&lt;b&gt;hot&lt;/b&gt;" in text
    assert plain.index("Note") < plain.index("Model's commentary") < plain.index("Not financial advice")


def test_a_stored_signal_brings_its_own_commentary() -> None:
    plain = visible_text(signal_text(record(commentary="Trend intact."), EN))
    assert "🤖 Model's commentary: Trend intact." in plain
    assert "🤖" not in visible_text(signal_text(record(signal_at=None), EN))


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_long_commentary_is_cut_first_to_fit_a_caption(locale: str) -> None:
    t = TRANSLATIONS.get(locale)
    commentary = "🚀 Momentum & <volume> agree. " * 80
    text = signal_text(idea(note="Keep size small."), t, commentary=commentary)
    assert visible_length(text) <= CAPTION_LIMIT
    assert visible_length(text) >= CAPTION_LIMIT - 3  # cut to the room left, not dropped
    plain = visible_text(text)
    assert "…" in plain and "Keep size small." in plain
    assert plain.rstrip().endswith(visible_text(t("signal-footer")))
    OutboxMessage.build(text=text, photo="0" * 64)  # Telegram's caption limit holds


def test_an_overlong_note_is_cut_and_the_levels_always_stay() -> None:
    text = signal_text(idea(note="x" * 3000, reason=("trend_up",) * 1), EN, commentary="short words here")
    plain = visible_text(text)
    assert visible_length(text) <= CAPTION_LIMIT
    assert "🎯 TP2: 69,500.0" in plain and "📝 Note: xxx" in plain and plain.count("…") == 1
    assert "Model's commentary" not in plain  # no room left for it
    tight = signal_text(idea(note="n" * 500), EN, limit=400)
    assert visible_length(tight) <= 400 and "Entry: 65,000.0" in visible_text(tight)


def test_cut_counts_utf16_units() -> None:
    assert cut("abc", 3) == "abc"
    assert cut("abcdef", 4) == "abc…"
    assert cut("🚀🚀🚀", 5) == "🚀🚀…"  # each rocket is two units
    assert cut("abc", 0) == ""


# ----------------------------------------------------------------------------------------------- chart
def candles(n: int = 160, seed: int = 4) -> Candles:
    rows = generate_scenario([("range", n - 60), ("up", 60)], seed=seed, start_price=60_000, timeframe="4h")
    return Candles.from_array(rows, exchange="bybit", symbol="BTC/USDT", timeframe="4h")


def on(series: Candles, **changes: object) -> SignalIdea:
    at = ms_to_datetime(int(series.timestamp[-1]) + 4 * 3_600_000)
    close = float(series.close[-1])
    levels = {"entry": close, "stop": close * 0.97, "targets": (close * 1.03, close * 1.06, close * 1.09)}
    return idea(signal_at=at, valid_until=at + timedelta(hours=24), **{**levels, **changes})


def png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def test_the_chart_is_a_png_with_its_lines_and_no_leaked_figure() -> None:
    series = candles()
    data = render_signal_chart(series, on(series))
    assert data.startswith(b"\x89PNG") and png_size(data) == (WIDTH_PX, HEIGHT_PX) and len(data) > 20_000
    assert plt.get_fignums() == []
    # A target far above the candles is still on the picture (the price axis covers every level),
    # and every level is tagged with its price at the right edge, tags apart from each other.
    far_target = float(series.close[-1]) * 1.5
    chart = build_signal_chart(series, on(series, targets=(far_target,)))
    low, high = chart.price_ax.get_ylim()
    assert low < chart.tags[1].get_position()[1] and far_target < high
    assert [tag.get_text() for tag in chart.tags][-1] == f"TP1 {format_price(far_target)}"
    chart.figure.canvas.draw()
    boxes = [tag.get_window_extent() for tag in chart.tags]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    close = float(series.close[-1])
    short = on(series, direction="short", stop=close * 1.03, targets=(close * 0.95,))
    assert png_size(render_signal_chart(series, short)) == (WIDTH_PX, HEIGHT_PX)


def test_the_chart_ends_at_the_signal_candle() -> None:
    series = candles()
    signal = on(series.tail(len(series)))  # decided on the last candle
    assert len(signal_window(series, signal)) == 120  # the market chart's window
    earlier = replace(signal, signal_at=ms_to_datetime(int(series.timestamp[-11]) + 4 * 3_600_000))
    window = signal_window(series, earlier)
    assert int(window.timestamp[-1]) == int(series.timestamp[-11])  # later candles are not drawn
    manual = replace(signal, signal_at=ms_to_datetime(int(series.timestamp[-1]) + 60_000))  # mid-candle
    assert int(signal_window(series, manual).timestamp[-1]) == int(series.timestamp[-1])
    with pytest.raises(ValueError):
        render_signal_chart(Candles.from_array(np.empty((0, 6)), exchange="bybit", symbol="X", timeframe="4h"), signal)


class CountingPool(ThreadPoolExecutor):
    submitted = 0

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)


async def test_the_async_render_runs_in_the_given_pool() -> None:
    series = candles(80)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    with CountingPool(max_workers=1) as pool:
        task = asyncio.create_task(ticker())
        try:
            data = await render_signal_chart_async(series, on(series), executor=pool)
        finally:
            task.cancel()
    assert png_size(data) == (WIDTH_PX, HEIGHT_PX)
    assert pool.submitted == 1 and ticks > 10  # rendered in the pool; the loop kept running meanwhile
