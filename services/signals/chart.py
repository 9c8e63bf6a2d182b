"""The chart of a signal: candles up to the signal, its entry, stop and target lines, its candle marked.

Drawn with the market chart's layout and helpers (services/market/charts.py, chart_layout.py): the
same dark candles, volume panel, y ticks that stay inside their panel, and price tags at the right
edge spread so they never overlap. On top:

- horizontal lines at entry (blue), stop (red) and each target (green), each tagged at the right
  edge with its price ("SL"/"TP1".. are the trading abbreviations, the same in every language: the
  chart is rendered once per signal and sent to chats of every language);
- the zones entry→stop and entry→first target lightly shaded;
- the signal candle marked with a triangle (below it for a long, above it for a short): the last
  candle that opened before `signal_at` (the decision candle of an engine signal; the forming candle
  of a manual one); later candles, if any were passed, are not drawn.

`render_signal_chart` is CPU-bound (~0.2 s): the bot runs `render_signal_chart_async` in the chart
cache's bounded render pool (`ChartCache.executor`), never on the event loop.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from datetime import UTC, datetime
from functools import partial
from typing import Any

import numpy as np

from services.format import exchange_name, format_price
from services.market import chart_layout as layout
from services.market.chart_layout import DOWN, UP
from services.market.charts import (
    DPI,
    MAX_CANDLES,
    RIGHT_STRIP,
    WIDTH_PX,
    _draw_candles,
    _draw_volume,
    render_lock,
    save_png,
)
from services.market.models import Candles
from services.signals.model import SignalIdea, SignalRecord

ENTRY_COLOR = "#42a5f5"
MARKER_COLOR = "#f5c242"
ZONE_ALPHA = 0.08
PANEL_RATIOS = (5.0, 1.1)  # price, volume


def signal_window(candles: Candles, signal: SignalIdea | SignalRecord, max_candles: int = MAX_CANDLES) -> Candles:
    """The candles drawn: those opening before the signal time (all when it is unknown), the last `max_candles`."""
    if signal.signal_at is not None and len(candles):
        cutoff = int(signal.signal_at.timestamp() * 1000)
        keep = int(np.searchsorted(candles.timestamp, cutoff, side="left"))
        if keep > 0:
            candles = candles.take(slice(keep))
    return candles.tail(max_candles)


def _levels(signal: SignalIdea | SignalRecord) -> list[tuple[float, str, str]]:
    """(price, label, colour) of every line."""
    levels = [
        (signal.entry, format_price(signal.entry), ENTRY_COLOR),
        (signal.stop, f"SL {format_price(signal.stop)}", DOWN),
    ]
    for n, target in enumerate(signal.targets, start=1):
        levels.append((target, f"TP{n} {format_price(target)}", UP))
    return levels


def render_signal_chart(candles: Candles, signal: SignalIdea | SignalRecord) -> bytes:
    """PNG bytes of the signal over its candles (see the module docstring)."""
    with render_lock:
        return save_png(build_signal_chart(candles, signal))


class SignalFigure:
    """A drawn signal chart before it is saved (tests inspect it)."""

    def __init__(self, figure: Any, price_ax: Any, volume_ax: Any, tags: list[Any], marker: Any) -> None:
        self.figure = figure
        self.price_ax = price_ax
        self.volume_ax = volume_ax
        self.tags = tags  # matplotlib Text, in the order of `_levels(signal)`
        self.marker = marker


def build_signal_chart(candles: Candles, signal: SignalIdea | SignalRecord) -> SignalFigure:
    window = signal_window(candles, signal)
    n = len(window)
    if n == 0:
        raise ValueError("no candles to draw")
    long = signal.direction == "long"
    fig = layout.figure()
    price_ax, volume_ax = layout.stack_panels(fig, PANEL_RATIOS)
    right = n - 0.5 + max(6.0, n * RIGHT_STRIP)
    price_ax.set_xlim(-0.5, right)
    body_pt = WIDTH_PX / DPI * 72 * (layout.PLOT_AREA[2] - layout.PLOT_AREA[0]) / (right + 0.5) * 0.7
    x = np.arange(n)
    _draw_candles(price_ax, window, x, body_pt)
    levels = _levels(signal)
    prices = [price for price, _, _ in levels]
    span = float(np.nanmax(window.high) - np.nanmin(window.low)) or abs(signal.entry) * 0.01
    mark_y = float(window.low[-1]) - span * 0.03 if long else float(window.high[-1]) + span * 0.03
    low, high = layout.padded(
        min(float(np.nanmin(window.low)), *prices, mark_y), max(float(np.nanmax(window.high)), *prices, mark_y), 0.06
    )
    layout.set_y(price_ax, low, high, format_price, nbins=7)
    _draw_levels(price_ax, signal, levels, n)
    (marker,) = price_ax.plot(
        [n - 1],
        [mark_y],
        marker="^" if long else "v",
        markersize=12,
        color=MARKER_COLOR,
        linestyle="none",
        gid="signal",
    )
    tags = layout.draw_tags(price_ax, layout.spread_tags(levels, price_ax, low, high))
    _draw_volume(volume_ax, window, x, body_pt)
    layout.time_ticks(volume_ax, [int(t) for t in window.timestamp], signal.timeframe)
    when = datetime.fromtimestamp(int(window.timestamp[-1]) / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    arrow = "▲" if long else "▼"
    layout.title(fig, f"{arrow} {signal.symbol}/USDT · {signal.timeframe} · {exchange_name(signal.exchange)} · {when}")
    return SignalFigure(fig, price_ax, volume_ax, tags, marker)


def _draw_levels(ax: Any, signal: SignalIdea | SignalRecord, levels: list[tuple[float, str, str]], n: int) -> None:
    """The lines and the shaded risk/reward zones (their price tags: `layout.draw_tags`)."""
    ax.axhspan(min(signal.entry, signal.stop), max(signal.entry, signal.stop), color=DOWN, alpha=ZONE_ALPHA)
    first = signal.targets[0]
    ax.axhspan(min(signal.entry, first), max(signal.entry, first), color=UP, alpha=ZONE_ALPHA)
    for price, _label, color in levels:
        ax.axhline(price, color=color, linewidth=1.2, linestyle="-" if color == ENTRY_COLOR else "--", alpha=0.95)
    ax.axvline(n - 1, color=MARKER_COLOR, linewidth=0.8, linestyle=":", alpha=0.6)


async def render_signal_chart_async(
    candles: Candles, signal: SignalIdea | SignalRecord, *, executor: Executor | None = None
) -> bytes:
    """`render_signal_chart` in a worker thread of `executor` (the chart cache's pool; None: asyncio's default)."""
    render = partial(render_signal_chart, candles, signal)
    return await asyncio.get_running_loop().run_in_executor(executor, render)
