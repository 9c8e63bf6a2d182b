"""The chart's elements, checked on the matplotlib figure before it is saved (not pixels): no overlapping
tick labels, the legend off the data, each key level tagged with its price at the right edge, the
current price tagged, RSI and MACD panels, and exactly the levels the answer's text lists."""

from __future__ import annotations

import re
from itertools import combinations
from typing import Any

import pytest

from services.chat.market_block import describe as data_block
from services.chat.rules import describe as rules_text
from services.format import format_price
from services.i18n import Translations
from services.market import Candles, MarketView, ResolvedSymbol, Ticker, analyze
from services.market.charts import ChartFigure, build_chart
from standins.exchanges import generate_ohlcv, generate_scenario

BTC = ResolvedSymbol("BTC", "BTC", "USDT", "bybit", "BTC/USDT", "BTC/USDT:USDT", ("bybit",))

SCENARIOS: dict[str, tuple[Any, str]] = {
    "rally-1h": (generate_scenario([("range", 200), ("up", 100)], seed=3, start_price=60_000), "1h"),
    "crash-then-range-4h": (
        generate_scenario([("up", 150), ("crash", 30), ("range", 120)], seed=7, start_price=3000), "4h"
    ),
    "tiny-prices-1d": (generate_ohlcv(300, seed=2, start_price=0.00001234, timeframe="1d"), "1d"),
    "flat-15m": (generate_ohlcv(200, seed=5, start_price=1.0, regime="range", timeframe="15m"), "15m"),
    "short-history": (generate_ohlcv(70, seed=9, start_price=150.0), "1h"),
}  # fmt: skip


def make_view(rows: Any, timeframe: str) -> MarketView:
    candles = Candles.from_array(rows, exchange="bybit", symbol="BTC/USDT", timeframe=timeframe)
    ticker = Ticker("bybit", "BTC/USDT", candles.last_close, 1.2, 1e9, None, None, candles.last_time)
    return MarketView(BTC, timeframe, "bybit", candles.last_time, ticker, candles, analyze(candles), None)


def drawn(view: MarketView) -> tuple[ChartFigure, Any]:
    chart = build_chart(
        view.candles,
        view.analysis,
        symbol="BTC/USDT",
        timeframe=view.timeframe,
        exchange="Bybit",
        price=view.ticker.price,
    )
    chart.figure.canvas.draw()
    return chart, chart.figure.canvas.get_renderer()


def overlap(a: Any, b: Any) -> bool:
    return bool(a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1)


def tick_label_boxes(chart: ChartFigure, renderer: Any) -> list[tuple[str, Any]]:
    boxes = []
    for ax in chart.axes:
        for label in (*ax.get_xticklabels(), *ax.get_yticklabels()):
            if label.get_visible() and label.get_text():
                boxes.append((label.get_text(), label.get_window_extent(renderer)))
    return boxes


@pytest.fixture(scope="module", params=list(SCENARIOS))
def chart(request: pytest.FixtureRequest) -> tuple[MarketView, ChartFigure, Any]:
    view = make_view(*SCENARIOS[request.param])
    return (view, *drawn(view))


def test_no_two_tick_labels_overlap_and_all_are_inside_the_picture(chart: tuple[MarketView, ChartFigure, Any]) -> None:
    _, figure, renderer = chart
    boxes = tick_label_boxes(figure, renderer)
    assert len(boxes) >= 8
    whole = figure.figure.bbox
    for text, box in boxes:
        assert whole.x0 <= box.x0 and box.x1 <= whole.x1 and whole.y0 <= box.y0 and box.y1 <= whole.y1, text
    for (first, a), (second, b) in combinations(boxes, 2):
        assert not overlap(a, b), (first, second)
    # Stronger, and what makes it hold for any data: each y label stays within its own panel's height.
    for ax in figure.axes:
        panel = ax.get_window_extent(renderer)
        for label in ax.get_yticklabels():
            if label.get_visible() and label.get_text():
                box = label.get_window_extent(renderer)
                assert panel.y0 <= box.y0 and box.y1 <= panel.y1, label.get_text()


def test_the_legend_is_outside_every_panel(chart: tuple[MarketView, ChartFigure, Any]) -> None:
    _, figure, renderer = chart
    assert figure.legend is not None
    assert [text.get_text() for text in figure.legend.get_texts()] == ["EMA20", "EMA50"]
    legend = figure.legend.get_window_extent(renderer)
    for ax in figure.axes:
        assert not overlap(legend, ax.get_window_extent(renderer))
    title = next(t for t in figure.figure.texts if t.get_text().startswith("BTC/USDT · "))
    assert not overlap(legend, title.get_window_extent(renderer))


def test_each_key_level_and_the_price_are_tagged_at_the_right_edge(chart: tuple[MarketView, ChartFigure, Any]) -> None:
    view, figure, renderer = chart
    levels = view.analysis.levels.key
    assert figure.levels == levels
    assert [tag.get_text() for tag in figure.level_tags] == [format_price(level.price) for level in levels]
    lines = [line for line in figure.price_ax.get_lines() if line.get_gid() == "level"]
    assert sorted(line.get_ydata()[0] for line in lines) == sorted(level.price for level in levels)
    assert figure.price_tag is not None and figure.price_tag.get_text() == format_price(view.ticker.price)
    assert any(line.get_gid() == "price-marker" for line in figure.price_ax.get_lines())
    panel = figure.price_ax.get_window_extent(renderer)
    low, high = figure.price_ax.get_ylim()
    tags = [*figure.level_tags, figure.price_tag]
    for tag in tags:
        box = tag.get_window_extent(renderer)
        assert panel.x0 + 0.8 * panel.width < box.x0 and box.x1 <= panel.x1 + 1  # at the right edge, inside
        assert panel.y0 <= box.y0 and box.y1 <= panel.y1
    for level in levels:
        assert low < level.price < high  # every level line is in view
    for a, b in combinations(tags, 2):
        assert not overlap(a.get_window_extent(renderer), b.get_window_extent(renderer)), (a.get_text(), b.get_text())
    # The strip under the tags is free of candles: the last candle ends left of every tag.
    last_candle = figure.price_ax.transData.transform((len(figure.price_ax.collections[0].get_segments()) - 0.5, 0))[0]
    assert all(last_candle < tag.get_window_extent(renderer).x0 for tag in tags)


def test_rsi_and_macd_panels(chart: tuple[MarketView, ChartFigure, Any]) -> None:
    _, figure, _ = chart
    assert {line.get_gid() for line in figure.rsi_ax.get_lines()} >= {"rsi"}
    assert figure.rsi_ax.get_ylim() == (0.0, 100.0)
    assert [t.get_text() for t in figure.rsi_ax.get_yticklabels()] == ["30", "70"]
    assert figure.rsi_ax.get_ylabel() == "RSI14" and figure.macd_ax.get_ylabel() == "MACD"
    assert {line.get_gid() for line in figure.macd_ax.get_lines()} >= {"macd", "signal"}
    assert any(collection.get_gid() == "hist" for collection in figure.macd_ax.collections)
    assert any(collection.get_gid() == "volume" for collection in figure.volume_ax.collections)


def test_the_chart_draws_exactly_the_levels_the_answer_lists() -> None:
    t = Translations().get("en")
    for rows, timeframe in SCENARIOS.values():
        view = make_view(rows, timeframe)
        figure, _ = drawn(view)
        tags = {tag.get_text() for tag in figure.level_tags}
        paragraph = next(p for p in rules_text(t, view).split("\n\n") if p.startswith("**Key levels:**"))
        assert set(re.findall(r"\*\*([0-9.,]+)\*\*", paragraph)) == tags
        block = dict(line.split(": ", 1) for line in data_block(view).splitlines() if ": " in line)
        listed = {p for key in ("support", "resistance") for p in block[key].split(", ") if p != "none found"}
        assert listed == tags


def test_a_chart_without_an_analysis_has_no_levels_but_the_price() -> None:
    view = make_view(*SCENARIOS["rally-1h"])
    chart = build_chart(view.candles, None, symbol="BTC/USDT", timeframe="1h", exchange="Bybit")
    assert chart.levels == () and chart.level_tags == []
    assert chart.price_tag is not None and chart.price_tag.get_text() == format_price(view.candles.last_close)
