"""The chart of a signal: candles up to the signal, its entry, stop and target lines, its candle marked.

Drawn with the market chart's style, lock and helpers (services/market/charts.py): the same dark
candles, volume panel and layout, so a signal looks like the bot's other charts. On top:

- horizontal lines at entry (blue), stop (red) and each target (green), each labelled at the right
  edge with its price ("SL"/"TP1".. are the trading abbreviations, the same in every language: the
  chart is rendered once per signal and sent to chats of every language);
- the zones entry→stop and entry→first target lightly shaded;
- the signal candle marked with a triangle (below it for a long, above it for a short): the last
  candle that opened before `signal_at` (the decision candle of an engine signal; the forming candle
  of a manual one); later candles, if any were passed, are not drawn.

`render_signal_chart` is CPU-bound (~0.3 s): the bot runs `render_signal_chart_async` in the chart
cache's bounded render pool (`ChartCache.executor`), never on the event loop.
"""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import Executor
from datetime import UTC, datetime
from functools import partial
from typing import Any

import numpy as np

from services.format import exchange_name, format_price
from services.market.charts import (
    _PLOT_AREA,
    BACKGROUND,
    DOWN,
    DPI,
    HEIGHT_PX,
    MAX_CANDLES,
    TEXT,
    UP,
    WIDTH_PX,
    _draw_volume,
    _fit_axes,
    _pyplot,
    _render_lock,
    _style,
)
from services.market.models import Candles
from services.signals.model import SignalIdea, SignalRecord

ENTRY_COLOR = "#42a5f5"
MARKER_COLOR = "#f5c242"
ZONE_ALPHA = 0.08
PAD = 0.04  # of the price range, above and below every level and candle
RIGHT_ROOM, RIGHT_ROOM_MIN = 0.13, 8.0  # empty candles' width right of the signal candle, for the labels


def signal_window(candles: Candles, signal: SignalIdea | SignalRecord, max_candles: int = MAX_CANDLES) -> Candles:
    """The candles drawn: those opening before the signal time (all when it is unknown), the last `max_candles`."""
    if signal.signal_at is not None and len(candles):
        cutoff = int(signal.signal_at.timestamp() * 1000)
        keep = int(np.searchsorted(candles.timestamp, cutoff, side="left"))
        if keep > 0:
            candles = _head(candles, keep)
    return candles.tail(max_candles)


def _head(candles: Candles, n: int) -> Candles:
    return Candles(
        exchange=candles.exchange,
        symbol=candles.symbol,
        timeframe=candles.timeframe,
        timestamp=candles.timestamp[:n],
        open=candles.open[:n],
        high=candles.high[:n],
        low=candles.low[:n],
        close=candles.close[:n],
        volume=candles.volume[:n],
    )


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
    """PNG bytes (1280×720) of the signal over its candles (see the module docstring)."""
    import mplfinance as mpf
    import pandas as pd

    window = signal_window(candles, signal)
    n = len(window)
    if n == 0:
        raise ValueError("no candles to draw")
    frame = pd.DataFrame(
        {"Open": window.open, "High": window.high, "Low": window.low, "Close": window.close, "Volume": window.volume},
        index=pd.DatetimeIndex(pd.to_datetime(window.timestamp, unit="ms")),
    )
    long = signal.direction == "long"
    marker = np.full(n, np.nan)
    span = float(np.nanmax(window.high) - np.nanmin(window.low)) or abs(signal.entry) * 0.01
    marker[-1] = float(window.low[-1]) - span * 0.03 if long else float(window.high[-1]) + span * 0.03
    plots = [
        mpf.make_addplot(window.volume, panel=1, type="line", width=0.0, alpha=0.0, secondary_y=False),
        mpf.make_addplot(
            marker, type="scatter", marker="^" if long else "v", markersize=140, color=MARKER_COLOR, secondary_y=False
        ),
    ]
    levels = _levels(signal)
    prices = [price for price, _, _ in levels]
    low = min(float(np.nanmin(window.low)), *prices, float(marker[-1]))
    high = max(float(np.nanmax(window.high)), *prices, float(marker[-1]))
    pad = (high - low) * PAD or abs(signal.entry) * 0.01
    when = datetime.fromtimestamp(int(window.timestamp[-1]) / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    arrow = "▲" if long else "▼"
    title = f"{arrow} {signal.symbol}/USDT · {signal.timeframe} · {exchange_name(signal.exchange)} · {when}"
    with _render_lock:
        plt = _pyplot()
        fig, axes = mpf.plot(
            frame,
            type="candle",
            style=_style(),
            volume=False,
            addplot=plots,
            returnfig=True,
            figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI),
            panel_ratios=(4, 1),
            datetime_format="%m-%d %H:%M" if signal.timeframe not in ("1d", "1w") else "%Y-%m-%d",
            xrotation=0,
            ylabel="",
            ylabel_lower="",
            warn_too_much_data=10_000,
            ylim=(low - pad, high + pad),
            xlim=(-1.0, n - 1 + max(RIGHT_ROOM_MIN, n * RIGHT_ROOM)),
        )
        try:
            price_ax = axes[0]
            _draw_levels(price_ax, signal, levels, n)
            _draw_volume(axes[2], window.open, window.close, window.volume)
            _fit_axes(axes)
            fig.text(_PLOT_AREA[0], 0.985, title, color=TEXT, fontsize=14, fontweight="bold", ha="left", va="top")
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=DPI, facecolor=BACKGROUND, pil_kwargs={"compress_level": 3})
        finally:
            plt.close(fig)
    return buffer.getvalue()


def _draw_levels(ax: Any, signal: SignalIdea | SignalRecord, levels: list[tuple[float, str, str]], n: int) -> None:
    """The lines, their labels at the right edge (inside the plot) and the shaded risk/reward zones."""
    ax.axhspan(
        min(signal.entry, signal.stop), max(signal.entry, signal.stop), xmin=0, xmax=1, color=DOWN, alpha=ZONE_ALPHA
    )
    first = signal.targets[0]
    ax.axhspan(min(signal.entry, first), max(signal.entry, first), xmin=0, xmax=1, color=UP, alpha=ZONE_ALPHA)
    for price, label, color in levels:
        ax.axhline(price, color=color, linewidth=1.2, linestyle="-" if color == ENTRY_COLOR else "--", alpha=0.95)
        ax.annotate(
            label,
            xy=(1.0, price),
            xycoords=("axes fraction", "data"),
            xytext=(-6, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=10,
            color=BACKGROUND,
            bbox={"boxstyle": "round,pad=0.25", "facecolor": color, "edgecolor": "none", "alpha": 0.95},
        )
    ax.axvline(n - 1, color=MARKER_COLOR, linewidth=0.8, linestyle=":", alpha=0.6)


async def render_signal_chart_async(
    candles: Candles, signal: SignalIdea | SignalRecord, *, executor: Executor | None = None
) -> bytes:
    """`render_signal_chart` in a worker thread of `executor` (the chart cache's pool; None: asyncio's default)."""
    render = partial(render_signal_chart, candles, signal)
    return await asyncio.get_running_loop().run_in_executor(executor, render)
