"""The comparison chart: every coin's close rebased to 100 on one panel, the first two coins' price
ratio (relative strength) below it. One picture for the whole comparison, drawn like the candle
chart (`chart_layout`: tags at the right edge, legend above the plot, y ticks inside their panel).

`build_comparison_chart` returns the figure unsaved (tests inspect it); `render_comparison` saves the
PNG and is what the chart cache runs in its bounded pool, never on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from services.format import exchange_name, format_number, format_pct, format_price
from services.market import chart_layout as layout
from services.market.chart_layout import TEXT
from services.market.charts import render_lock, save_png
from services.market.comparison import Comparison
from services.market.models import ms_to_datetime

COLORS = ("#f5c242", "#42a5f5", "#ab47bc")
RATIO_COLOR = "#26a69a"
HEIGHT_PX = 720
PANEL_RATIOS = (3.0, 1.2)
RIGHT_STRIP = 0.12
COMPARISON_STYLE = "compare-dark-1"  # part of the cache key, like charts.CHART_STYLE


@dataclass(eq=False)
class ComparisonFigure:
    figure: Any
    lines_ax: Any  # rebased closes
    ratio_ax: Any  # the first two coins' ratio
    legend: Any | None
    end_tags: list[Any] = field(default_factory=list)  # one Text per coin: its change over the window
    ratio_tag: Any | None = None

    @property
    def axes(self) -> tuple[Any, ...]:
        return (self.lines_ax, self.ratio_ax)


def build_comparison_chart(c: Comparison) -> ComparisonFigure:
    n = c.window
    x = np.arange(n)
    fig = layout.figure(layout.WIDTH_PX, HEIGHT_PX)
    lines_ax, ratio_ax = layout.stack_panels(fig, PANEL_RATIOS, area=(0.035, 0.07, 0.925, 0.9))
    lines_ax.set_xlim(-0.5, n - 0.5 + max(6.0, n * RIGHT_STRIP))
    handles = []
    items: list[tuple[float, str, str]] = []
    rebased = [c.rebased(i) for i in range(len(c.views))]
    for index, series in enumerate(rebased):
        color = COLORS[index % len(COLORS)]
        (line,) = lines_ax.plot(x, series, color=color, linewidth=1.6, label=c.views[index].resolved.base, gid="coin")
        handles.append(line)
        items.append((float(series[-1]), format_pct(c.changes_pct[index]), color))
    lines_ax.axhline(100.0, color=layout.MUTED, linestyle="--", linewidth=0.7)
    low = min(float(np.min(s)) for s in rebased)
    high = max(float(np.max(s)) for s in rebased)
    low, high = layout.padded(min(low, 100.0), max(high, 100.0), 0.08)
    layout.set_y(lines_ax, low, high, lambda value: format_number(value, 0), nbins=6)
    end_tags = layout.draw_tags(lines_ax, layout.spread_tags(items, lines_ax, low, high))  # one per coin, in order

    pair = c.main
    ratio = c.closes[pair.first] / c.closes[pair.second]
    name = f"{c.views[pair.first].resolved.base}/{c.views[pair.second].resolved.base}"
    ratio_ax.plot(x, ratio, color=RATIO_COLOR, linewidth=1.3, gid="ratio")
    r_low, r_high = layout.padded(float(np.min(ratio)), float(np.max(ratio)), 0.1)
    layout.set_y(ratio_ax, r_low, r_high, format_price, nbins=4)
    ratio_tag = layout.draw_tags(
        ratio_ax,
        layout.spread_tags([(float(ratio[-1]), format_price(float(ratio[-1])), RATIO_COLOR)], ratio_ax, r_low, r_high),
    )[0]
    ratio_ax.set_ylabel(name, color=layout.MUTED, fontsize=layout.FONT_SIZE)
    ratio_ax.yaxis.set_label_position("left")
    layout.time_ticks(ratio_ax, [int(t) for t in c.timestamps], c.timeframe)

    pairs = " vs ".join(v.resolved.pair for v in c.views)
    exchanges = "/".join(dict.fromkeys(exchange_name(v.exchange) for v in c.views))
    when = ms_to_datetime(int(c.timestamps[-1])).strftime("%Y-%m-%d %H:%M UTC")
    fig.text(0.035, 0.985, f"{pairs} · {c.timeframe} · {exchanges} · {when}", color=TEXT, fontsize=14,
             fontweight="bold", ha="left", va="top")  # fmt: skip
    legend = layout.legend_above(lines_ax, handles, [h.get_label() for h in handles])
    return ComparisonFigure(
        figure=fig, lines_ax=lines_ax, ratio_ax=ratio_ax, legend=legend, end_tags=end_tags, ratio_tag=ratio_tag
    )


def render_comparison(c: Comparison) -> bytes:
    """PNG bytes (WIDTH_PX × HEIGHT_PX); CPU-bound: run it in the chart pool."""
    with render_lock:
        chart = build_comparison_chart(c)
        return save_png(chart)
