"""Comparisons: the numbers (relative strength, correlation, leader), the words, and the one chart."""

from __future__ import annotations

import re
from itertools import combinations
from typing import Any

import numpy as np
import pytest

from services.chat.comparison_text import comparison_answer, comparison_block, comparison_caption
from services.format import format_pct, format_price
from services.i18n import Translations
from services.market import Candles, MarketView, NotEnoughData, ResolvedSymbol, Ticker, analyze
from services.market.chart_cache import ChartKey
from services.market.comparison import compare
from services.market.comparison_chart import build_comparison_chart
from services.text.markdown import markdown_to_telegram_html
from standins.exchanges import generate_scenario

HOUR_MS = 3_600_000


def view(base: str, closes: np.ndarray, start_ms: int = 1_767_225_600_000) -> MarketView:
    n = closes.shape[0]
    times = start_ms + np.arange(n, dtype=np.int64) * 4 * HOUR_MS
    opens = np.concatenate(([closes[0]], closes[:-1]))
    rows = np.column_stack((times, opens, np.maximum(opens, closes) * 1.002, np.minimum(opens, closes) * 0.998, closes,
                            np.full(n, 1000.0)))  # fmt: skip
    candles = Candles.from_array(rows, exchange="bybit", symbol=f"{base}/USDT", timeframe="4h")
    resolved = ResolvedSymbol(base, base, "USDT", "bybit", f"{base}/USDT", None, ("bybit",))
    ticker = Ticker("bybit", f"{base}/USDT", candles.last_close, 0.5, 1e9, None, None, candles.last_time)
    return MarketView(resolved, "4h", "bybit", candles.last_time, ticker, candles, analyze(candles), None)


def walk(seed: int, n: int = 300, drift: float = 0.0, start: float = 100.0) -> np.ndarray:
    steps = np.random.default_rng(seed).normal(drift, 0.01, n)
    return start * np.exp(np.cumsum(steps))


def test_a_coin_that_is_a_multiple_of_another_moves_with_it_and_leads_nothing() -> None:
    b = walk(1)
    c = compare([view("AAA", b * 20), view("BBB", b)])
    pair = c.main
    assert pair.correlation == pytest.approx(1.0)
    assert pair.ratio_change_pct == pytest.approx(0.0, abs=1e-9)
    assert pair.ratio_trend is not None and pair.ratio_trend.direction == "range"
    assert pair.stronger is None
    assert c.window == 120 and c.changes_pct[0] == pytest.approx(c.changes_pct[1])
    assert c.rebased(0)[0] == pytest.approx(100.0) and c.rebased(1)[-1] == pytest.approx(100 + c.changes_pct[1])


def test_the_outperformer_is_stronger_and_its_ratio_trends_its_way() -> None:
    base = walk(2)
    strong = base * np.exp(np.linspace(0, 0.6, base.shape[0]))  # +82% more over the history
    c = compare([view("WEAK", base), view("STRONG", strong)])
    pair = c.main
    assert pair.ratio_trend is not None and pair.ratio_trend.direction == "down"  # WEAK/STRONG falls
    assert pair.stronger == 1 and pair.ratio_change_pct < 0
    assert c.changes_pct[1] > c.changes_pct[0]
    assert 0.5 < (pair.correlation or 0) <= 1.0


def test_opposite_moves_are_negatively_correlated() -> None:
    steps = np.random.default_rng(3).normal(0, 0.01, 300)
    a, b = 100 * np.exp(np.cumsum(steps)), 100 * np.exp(np.cumsum(-steps))
    assert (compare([view("UP", a), view("DOWN", b)]).main.correlation or 0) == pytest.approx(-1.0)


def test_only_shared_candles_count() -> None:
    a = view("AAA", walk(4, 300))
    b = view("BBB", walk(5, 200), start_ms=1_767_225_600_000 + 150 * 4 * HOUR_MS)  # overlaps 150 candles
    c = compare([a, b])
    assert c.window == 120 and set(c.timestamps.tolist()) <= set(a.candles.timestamp.tolist())
    assert int(c.timestamps[-1]) == int(a.candles.timestamp[-1])
    far = view("FAR", walk(6, 100), start_ms=1_767_225_600_000 + 400 * 4 * HOUR_MS)
    with pytest.raises(NotEnoughData):
        compare([a, far])


def test_short_shared_history_gives_no_trend_and_no_correlation() -> None:
    a = view("AAA", walk(7, 300))
    b = view("BBB", walk(8, 70), start_ms=1_767_225_600_000 + 285 * 4 * HOUR_MS)  # 15 shared candles
    pair = compare([a, b]).main
    assert pair.ratio_trend is None and pair.correlation is None


def test_three_coins_compare_every_pair() -> None:
    c = compare([view("AAA", walk(9)), view("BBB", walk(10)), view("CCC", walk(11))])
    assert [(p.first, p.second) for p in c.pairs] == [(0, 1), (0, 2), (1, 2)]


@pytest.fixture(scope="module")
def btc_eth() -> Any:
    btc = view("BTC", generate_scenario([("range", 200), ("up", 100)], seed=3, start_price=60_000)[:, 4])
    eth = view("ETH", generate_scenario([("range", 150), ("up", 150)], seed=4, start_price=3000)[:, 4])
    return compare([btc, eth])


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_the_rule_based_comparison_has_a_table_relative_strength_correlation_and_a_verdict(
    btc_eth: Any, locale: str
) -> None:
    t = Translations().get(locale)
    md = comparison_answer(t, btc_eth, fallback=False)
    html = markdown_to_telegram_html(md)
    table = re.search(r"<pre>(.*?)</pre>", html, re.S)
    assert table is not None
    rows = table.group(1).splitlines()
    assert [cell.strip() for cell in rows[0].split("│")[1:]] == ["BTC", "ETH"]
    assert len(rows) == 11  # header, rule, nine rows
    for view_ in btc_eth.views:
        assert format_price(view_.ticker.price) in table.group(1)
    for change in btc_eth.changes_pct:
        assert format_pct(change) in table.group(1)
    words = {"en": ("Relative strength", "Correlation", "Verdict"), "zh": ("相对强弱", "相关性", "结论")}[locale]
    assert all(word in html for word in words)
    assert "BTC/ETH" in html and format_price(btc_eth.main.ratio_end) in html
    assert html.count("⚖️") == 1  # one verdict, not two stacked analyses
    assert "<b>Key levels:</b>" not in html and "<b>关键价位：</b>" not in html  # no per-coin analysis
    caption = comparison_caption(t, btc_eth)
    assert caption.startswith("📊 <b>BTC/USDT vs ETH/USDT</b> · 4h · Bybit") and len(caption) < 1024


def test_the_model_gets_the_comparison_as_data(btc_eth: Any) -> None:
    block = comparison_block(btc_eth)
    assert block.startswith("comparison: BTC/USDT vs ETH/USDT on 4h, the last 120 shared candles")
    assert f"ratio_BTC_ETH: {format_price(btc_eth.main.ratio_start)} -> {format_price(btc_eth.main.ratio_end)}" in block
    assert "correlation_of_returns_BTC_ETH: " in block and "stronger_of_BTC_ETH: " in block


def test_one_chart_shows_both_rebased_with_their_ratio(btc_eth: Any) -> None:
    chart = build_comparison_chart(btc_eth)
    chart.figure.canvas.draw()
    renderer = chart.figure.canvas.get_renderer()
    coins = [line for line in chart.lines_ax.get_lines() if line.get_gid() == "coin"]
    assert [line.get_label() for line in coins] == ["BTC", "ETH"]
    for index, line in enumerate(coins):
        assert line.get_ydata()[0] == pytest.approx(100.0)
        assert line.get_ydata()[-1] == pytest.approx(100 + btc_eth.changes_pct[index])
    assert [tag.get_text() for tag in chart.end_tags] == [format_pct(c) for c in btc_eth.changes_pct]
    assert chart.ratio_tag is not None and chart.ratio_tag.get_text() == format_price(btc_eth.main.ratio_end)
    assert chart.ratio_ax.get_ylabel() == "BTC/ETH"
    assert chart.legend is not None
    legend = chart.legend.get_window_extent(renderer)
    labels = [label for ax in chart.axes for label in (*ax.get_xticklabels(), *ax.get_yticklabels())]
    boxes = [(label.get_text(), label.get_window_extent(renderer)) for label in labels if label.get_text()]
    for ax in chart.axes:
        panel = ax.get_window_extent(renderer)
        assert not (legend.x0 < panel.x1 and panel.x0 < legend.x1 and legend.y0 < panel.y1 and panel.y0 < legend.y1)
    for (_, a), (_, b) in combinations(boxes, 2):
        assert not (a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1)


def test_a_comparison_chart_has_its_own_cache_key(btc_eth: Any) -> None:
    key = ChartKey.of_comparison(btc_eth, style="s", language="en")
    assert key.symbol == "BTC/USDT+ETH/USDT" and key.candle_ms == int(btc_eth.timestamps[-1])
    assert key != ChartKey.of(btc_eth.views[0], style="s", language="en")
    swapped = compare(list(reversed(btc_eth.views)))
    assert ChartKey.of_comparison(swapped, style="s", language="en") != key


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_three_coins_get_one_verdict_naming_the_strongest(locale: str) -> None:
    base = walk(12)
    c = compare([view("MID", base), view("TOP", base * np.exp(np.linspace(0, 0.5, 300))),
                 view("LOW", base * np.exp(np.linspace(0, -0.5, 300)))])  # fmt: skip
    assert [p.stronger for p in c.pairs] == [1, 0, 1]
    html = markdown_to_telegram_html(comparison_answer(Translations().get(locale), c, fallback=False))
    verdict = next(line for line in html.splitlines() if line.startswith("⚖️"))
    expected = {"en": "TOP is the strongest of the three", "zh": "三者中 TOP 最强"}[locale]
    assert expected in verdict and "LOW" in verdict.split("）")[-1] + verdict.split(")")[-1]
    assert html.count("⚖️") == 1


def test_equal_changes_keep_their_own_tags() -> None:
    b = walk(13)
    chart = build_comparison_chart(compare([view("AAA", b * 2), view("BBB", b)]))
    assert [tag.get_text() for tag in chart.end_tags] == [tag.get_text() for tag in reversed(chart.end_tags)]
    faces = [tag.get_bbox_patch().get_facecolor() for tag in chart.end_tags]
    assert faces[0] != faces[1]  # each coin's tag in its line's colour
