"""Candlestick chart PNGs (plain matplotlib on the Agg canvas), rendered off the event loop.

One picture per market view, four panels sharing the time axis: candles with EMA20/EMA50, the key
support and resistance levels (exactly the ones the answer lists: `Levels.key`) each tagged with its
price at the right edge, and the current price as a dotted line with its own tag; volume; RSI14 with
its 30/70 bands; MACD with its signal line and histogram. The legend sits above the top panel (never
on the data), and every y tick label fits inside its own panel (see `chart_layout`), so labels of
neighbouring panels never overlap. Candles leave a free strip on the right where the tags go.

`build_chart` returns the figure with handles to its parts (inspected by tests before anything is
saved); `render_chart` saves it as PNG. Both are synchronous and CPU-bound (~0.2 s). The bot renders
through `services.market.chart_cache.ChartCache` (one render per chart key, in a bounded thread
pool, with `render_view`); `render_chart_async` runs one render in a worker thread. Renders are
serialised by a lock (matplotlib's text and font caches are shared). matplotlib is imported by the
first render, not at start.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import numpy as np

from services.format import exchange_name, format_compact, format_number, format_price
from services.market import chart_layout as layout
from services.market.chart_layout import BACKGROUND, DOWN, MUTED, UP
from services.market.indicators import compute_indicators
from services.market.models import Candles
from services.market.results import Analysis, Level, MarketView

MAX_CANDLES = 120
WIDTH_PX, HEIGHT_PX, DPI = layout.WIDTH_PX, layout.HEIGHT_PX, layout.DPI
EMA20_COLOR, EMA50_COLOR = "#f5c242", "#42a5f5"
PRICE_COLOR = "#e0e3eb"
MACD_COLOR, SIGNAL_COLOR, RSI_COLOR = "#42a5f5", "#ff9800", "#b39ddb"
PANEL_RATIOS = (5.0, 1.1, 1.4, 1.4)  # price, volume, RSI, MACD
RIGHT_STRIP = 0.12  # of the candles' width left free on the right for the tags
# What the picture looks like, as part of every chart's cache key: change it with the drawing, so
# file_ids stored for the old picture (in Redis, by an earlier release) are not sent for the new one.
CHART_STYLE = "candles-dark-2"
render_lock = threading.Lock()  # every picture (charts and comparison charts) renders under it


@dataclass(eq=False)
class ChartFigure:
    """A drawn chart before it is saved: the figure and handles to what tests check."""

    figure: Any
    price_ax: Any
    volume_ax: Any
    rsi_ax: Any
    macd_ax: Any
    legend: Any | None
    levels: tuple[Level, ...]  # drawn, in the order of `level_tags`
    level_tags: list[Any] = field(default_factory=list)  # matplotlib Text, one per level
    price_tag: Any | None = None  # the current price's Text
    price: float = 0.0

    @property
    def axes(self) -> tuple[Any, ...]:
        return (self.price_ax, self.volume_ax, self.rsi_ax, self.macd_ax)


def build_chart(
    candles: Candles,
    analysis: Analysis | None,
    *,
    symbol: str,
    timeframe: str,
    exchange: str,
    price: float | None = None,
    max_candles: int = MAX_CANDLES,
) -> ChartFigure:
    """The whole chart, drawn on a new figure (not saved). `price` defaults to the last close."""
    if len(candles) == 0:
        raise ValueError("no candles to draw")
    series = compute_indicators(candles)
    window = candles.tail(max_candles)
    n = len(window)
    last = float(window.close[-1]) if price is None else float(price)
    levels = analysis.levels.key if analysis is not None else ()
    fig = layout.figure()
    price_ax, volume_ax, rsi_ax, macd_ax = layout.stack_panels(fig, PANEL_RATIOS)
    right = n - 0.5 + max(6.0, n * RIGHT_STRIP)
    price_ax.set_xlim(-0.5, right)
    body_pt = WIDTH_PX / DPI * 72 * (layout.PLOT_AREA[2] - layout.PLOT_AREA[0]) / (right + 0.5) * 0.7
    x = np.arange(n)

    _draw_candles(price_ax, window, x, body_pt)
    handles = []
    for values, color, label in ((series.ema20, EMA20_COLOR, "EMA20"), (series.ema50, EMA50_COLOR, "EMA50")):
        tail = values[-n:]
        if np.isfinite(tail).any():
            (line,) = price_ax.plot(x, tail, color=color, linewidth=1.3, label=label)
            handles.append(line)
    low = min([float(np.min(window.low)), last, *(level.price for level in levels)])
    high = max([float(np.max(window.high)), last, *(level.price for level in levels)])
    low, high = layout.padded(low, high, 0.06)
    layout.set_y(price_ax, low, high, format_price, nbins=7)
    for level in levels:
        color = UP if level.kind == "support" else DOWN
        price_ax.axhline(level.price, color=color, linestyle="--", linewidth=0.9, alpha=0.85, gid="level")
    price_ax.axhline(last, color=PRICE_COLOR, linestyle=":", linewidth=0.9, gid="price")
    price_ax.plot([n - 1], [last], marker="o", markersize=4, color=PRICE_COLOR, gid="price-marker")
    items = [(level.price, format_price(level.price), UP if level.kind == "support" else DOWN) for level in levels]
    items.append((last, format_price(last), PRICE_COLOR))
    texts = layout.draw_tags(price_ax, layout.spread_tags(items, price_ax, low, high))
    level_tags, price_tag = texts[:-1], texts[-1]  # in the order of `items`

    _draw_volume(volume_ax, window, x, body_pt)
    _draw_rsi(rsi_ax, series.rsi14[-n:], x)
    _draw_macd(macd_ax, series.macd[-n:], series.macd_signal[-n:], series.macd_hist[-n:], x, body_pt)
    layout.time_ticks(macd_ax, [int(t) for t in window.timestamp], timeframe)

    when = datetime.fromtimestamp(int(window.timestamp[-1]) / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    layout.title(fig, f"{symbol} · {timeframe} · {exchange} · {when}")
    legend = layout.legend_above(price_ax, handles, [h.get_label() for h in handles]) if handles else None
    return ChartFigure(
        figure=fig,
        price_ax=price_ax,
        volume_ax=volume_ax,
        rsi_ax=rsi_ax,
        macd_ax=macd_ax,
        legend=legend,
        levels=tuple(levels),
        level_tags=level_tags,
        price_tag=price_tag,
        price=last,
    )


def _draw_candles(ax: Any, window: Candles, x: np.ndarray, body_pt: float) -> None:
    """Wicks and bodies as two line collections (one artist each, not one patch per candle)."""
    up = window.close >= window.open
    colors = np.where(up, UP, DOWN)
    ax.vlines(x, window.low, window.high, colors=colors, linewidth=1.0, gid="wicks")
    bottom = np.minimum(window.open, window.close)
    top = np.maximum(window.open, window.close)
    flat = (top - bottom) < (float(np.max(window.high) - np.min(window.low)) or 1.0) * 0.002
    top = np.where(flat, bottom + (float(np.max(window.high) - np.min(window.low)) or 1.0) * 0.002, top)
    ax.vlines(x, bottom, top, colors=colors, linewidth=max(body_pt, 0.8), gid="bodies")


def _draw_volume(ax: Any, window: Candles, x: np.ndarray, body_pt: float) -> None:
    colors = np.where(window.close >= window.open, UP, DOWN)
    ax.vlines(x, 0, window.volume, colors=colors, linewidth=max(body_pt, 0.5), alpha=0.8, gid="volume")
    top = float(np.nanmax(window.volume)) if len(window) else 0.0
    layout.set_y(ax, 0.0, top * 1.15 if top > 0 else 1.0, format_compact, nbins=3)
    ax.set_ylabel("Vol", color=MUTED, fontsize=layout.FONT_SIZE)
    ax.yaxis.set_label_position("left")


def _draw_rsi(ax: Any, rsi: np.ndarray, x: np.ndarray) -> None:
    ax.axhspan(30, 70, color=RSI_COLOR, alpha=0.06, linewidth=0)
    for band in (30, 70):
        ax.axhline(band, color=MUTED, linestyle="--", linewidth=0.7)
    ax.plot(x, rsi, color=RSI_COLOR, linewidth=1.2, gid="rsi")
    layout.set_y(ax, 0.0, 100.0, lambda value: format_number(value, 0), nbins=4)
    ax.yaxis.set_major_locator(_fixed([30.0, 70.0]))
    finite = rsi[np.isfinite(rsi)]
    if finite.size:
        value = float(finite[-1])
        tags = layout.spread_tags([(value, format_number(value), RSI_COLOR)], ax, 0.0, 100.0)
        layout.draw_tags(ax, tags)
    ax.set_ylabel("RSI14", color=MUTED, fontsize=layout.FONT_SIZE)
    ax.yaxis.set_label_position("left")


def _draw_macd(ax: Any, macd: np.ndarray, signal: np.ndarray, hist: np.ndarray, x: np.ndarray, body_pt: float) -> None:
    finite = np.isfinite(hist)
    colors = np.where(hist >= 0, UP, DOWN)
    ax.vlines(x[finite], 0, hist[finite], colors=colors[finite], linewidth=max(body_pt, 0.5), alpha=0.7, gid="hist")
    ax.plot(x, macd, color=MACD_COLOR, linewidth=1.1, gid="macd")
    ax.plot(x, signal, color=SIGNAL_COLOR, linewidth=1.1, gid="signal")
    values = np.concatenate([v[np.isfinite(v)] for v in (macd, signal, hist)] or [np.zeros(1)])
    bound = float(np.max(np.abs(values))) if values.size else 0.0
    bound = bound * 1.15 if bound > 0 else 1.0
    layout.set_y(ax, -bound, bound, _short, nbins=6)
    ax.axhline(0, color=MUTED, linewidth=0.6)
    ax.set_ylabel("MACD", color=MUTED, fontsize=layout.FONT_SIZE)
    ax.yaxis.set_label_position("left")


def _short(value: float) -> str:
    """An oscillator reading: a price-style number, or 2 significant digits when tiny (1.2e-07)."""
    return format_price(value) if value == 0 or abs(value) >= 0.01 else f"{value:.2g}"


def _fixed(values: Sequence[float]) -> Any:
    from matplotlib.ticker import FixedLocator

    return FixedLocator(list(values))


def save_png(chart: ChartFigure | Any) -> bytes:
    """The drawn figure (anything with a `.figure`) as PNG bytes."""
    buffer = io.BytesIO()
    chart.figure.savefig(buffer, format="png", dpi=DPI, facecolor=BACKGROUND, pil_kwargs={"compress_level": 3})
    return buffer.getvalue()


def render_chart(
    candles: Candles,
    analysis: Analysis | None,
    *,
    symbol: str,
    timeframe: str,
    exchange: str,
    price: float | None = None,
    max_candles: int = MAX_CANDLES,
) -> bytes:
    """PNG bytes (WIDTH_PX × HEIGHT_PX): see the module docstring."""
    with render_lock:
        chart = build_chart(
            candles,
            analysis,
            symbol=symbol,
            timeframe=timeframe,
            exchange=exchange,
            price=price,
            max_candles=max_candles,
        )
        return save_png(chart)


def render_view(view: MarketView) -> bytes:
    """The chart of a market view, as every user sees it (the chart cache's render)."""
    return render_chart(
        view.candles,
        view.analysis,
        symbol=view.resolved.pair,
        timeframe=view.timeframe,
        exchange=exchange_name(view.exchange),
        price=view.ticker.price,
    )


async def render_chart_async(
    candles: Candles,
    analysis: Analysis | None,
    *,
    symbol: str,
    timeframe: str,
    exchange: str,
    executor: Executor | None = None,
) -> bytes:
    """`render_chart` in a worker thread of `executor` (None: asyncio's default), keeping the event loop free."""
    render = partial(render_chart, candles, analysis, symbol=symbol, timeframe=timeframe, exchange=exchange)
    return await asyncio.get_running_loop().run_in_executor(executor, render)
