"""Candlestick chart PNGs (mplfinance on matplotlib's Agg backend), rendered off the event loop.

`render_chart` is synchronous and CPU-bound (~0.25 s). The bot renders through
`services.market.chart_cache.ChartCache` (one render per chart key, in a bounded thread pool, with
`render_view`); `render_chart_async` runs one render in a worker thread. Renders are serialised by a
lock (pyplot's figure registry is process-global) and every figure is closed, so nothing accumulates.
matplotlib, mplfinance and pandas are imported by the first render, not at start.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Sequence
from concurrent.futures import Executor
from datetime import UTC, datetime
from functools import partial
from typing import Any

import numpy as np

from services.format import exchange_name
from services.market.indicators import ta
from services.market.models import Candles
from services.market.results import Analysis, MarketView

MAX_CANDLES = 120
WIDTH_PX, HEIGHT_PX, DPI = 1280, 720, 100
UP, DOWN = "#26a69a", "#ef5350"
EMA20_COLOR, EMA50_COLOR = "#f5c242", "#42a5f5"
BACKGROUND, GRID, TEXT = "#131722", "#2a2e39", "#d1d4dc"
_PLOT_AREA = (0.015, 0.07, 0.925, 0.935)  # left, bottom, right, top in figure fractions
# What the picture looks like, as part of every chart's cache key: change it with the drawing, so
# file_ids stored for the old picture (in Redis, by an earlier release) are not sent for the new one.
CHART_STYLE = "candles-dark-1"
_render_lock = threading.Lock()
_lazy: dict[str, Any] = {}  # the Agg backend chosen, the style built: once per process


def _pyplot() -> Any:
    """pyplot on the Agg backend (no GUI, ever), imported by the first render; call under the lock."""
    if "agg" not in _lazy:
        import matplotlib

        matplotlib.use("Agg")  # before pyplot's first import; a no-op when Agg is already chosen
        _lazy["agg"] = True
    import matplotlib.pyplot as plt

    return plt


def _style() -> Any:
    style = _lazy.get("dark")
    if style is None:
        import mplfinance as mpf

        colors = mpf.make_marketcolors(up=UP, down=DOWN, edge="inherit", wick="inherit", volume="in")
        style = mpf.make_mpf_style(
            base_mpf_style="nightclouds",
            marketcolors=colors,
            facecolor=BACKGROUND,
            figcolor=BACKGROUND,
            edgecolor=GRID,
            gridcolor=GRID,
            gridstyle="--",
            y_on_right=True,
            rc={
                "font.size": 11,
                "axes.labelcolor": TEXT,
                "xtick.color": TEXT,
                "ytick.color": TEXT,
                "font.weight": "normal",
                "axes.titleweight": "bold",
            },
        )
        _lazy["dark"] = style
    return style


def render_chart(
    candles: Candles,
    analysis: Analysis | None,
    *,
    symbol: str,
    timeframe: str,
    exchange: str,
    max_candles: int = MAX_CANDLES,
) -> bytes:
    """PNG bytes (1280×720): candles, EMA20/50, volume, support/resistance."""
    import mplfinance as mpf
    import pandas as pd

    if len(candles) == 0:
        raise ValueError("no candles to draw")
    ema20 = ta().EMA(candles.close, 20) if len(candles) >= 20 else np.full(len(candles), np.nan)
    ema50 = ta().EMA(candles.close, 50) if len(candles) >= 50 else np.full(len(candles), np.nan)
    window = candles.tail(max_candles)
    n = len(window)
    frame = pd.DataFrame(
        {"Open": window.open, "High": window.high, "Low": window.low, "Close": window.close, "Volume": window.volume},
        index=pd.DatetimeIndex(pd.to_datetime(window.timestamp, unit="ms")),
    )
    # The volume panel is drawn below as one LineCollection: mplfinance's bars are one Rectangle patch
    # per candle, which cost about a third of the render. This invisible series only creates the panel.
    plots = [mpf.make_addplot(window.volume, panel=1, type="line", width=0.0, alpha=0.0, secondary_y=False)]
    for values, color, label in ((ema20[-n:], EMA20_COLOR, "EMA20"), (ema50[-n:], EMA50_COLOR, "EMA50")):
        if np.isfinite(values).any():
            plots.append(mpf.make_addplot(values, color=color, width=1.3, label=label))
    lines: list[float] = []
    colors: list[str] = []
    if analysis is not None:
        for level in (*analysis.levels.support, *analysis.levels.resistance):
            lines.append(level.price)
            colors.append(UP if level.kind == "support" else DOWN)
    when = datetime.fromtimestamp(int(window.timestamp[-1]) / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    kwargs: dict[str, Any] = {}
    if lines:
        kwargs["hlines"] = {"hlines": lines, "colors": colors, "linestyle": "--", "linewidths": 0.9, "alpha": 0.8}
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
            datetime_format="%m-%d %H:%M" if timeframe not in ("1d", "1w") else "%Y-%m-%d",
            xrotation=0,
            ylabel="",
            ylabel_lower="",
            warn_too_much_data=10_000,
            **kwargs,
        )
        try:
            _draw_volume(axes[2], window.open, window.close, window.volume)
            _fit_axes(axes)
            # A figure text, not an axes title: a title makes every draw measure the tick labels again.
            title = f"{symbol} · {timeframe} · {exchange} · {when}"
            fig.text(_PLOT_AREA[0], 0.985, title, color=TEXT, fontsize=14, fontweight="bold", ha="left", va="top")
            if len(plots) > 1:
                legend = axes[0].legend(loc="upper left", fontsize=10, frameon=False)
                for text in legend.get_texts():
                    text.set_color(TEXT)
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=DPI, facecolor=BACKGROUND, pil_kwargs={"compress_level": 3})
        finally:
            plt.close(fig)
    return buffer.getvalue()


def _draw_volume(ax: Any, opens: np.ndarray, closes: np.ndarray, volume: np.ndarray) -> None:
    """Volume bars coloured like their candles, as one collection (x = candle index, like mplfinance)."""
    n = volume.shape[0]
    width_pt = WIDTH_PX / DPI * 72 * (_PLOT_AREA[2] - _PLOT_AREA[0]) / max(n, 1) * 0.7
    colors = np.where(closes >= opens, UP, DOWN)
    ax.vlines(np.arange(n), 0, volume, colors=colors, linewidth=max(width_pt, 0.5))
    top = float(np.nanmax(volume)) if n else 0.0
    ax.set_ylim(0, top * 1.1 if top > 0 else 1.0)


def _fit_axes(axes: Sequence[Any]) -> None:
    """Stretch the panels over the figure, leaving room for the title, price and time labels."""
    boxes = [ax.get_position() for ax in axes]
    x0, y0 = min(b.x0 for b in boxes), min(b.y0 for b in boxes)
    x1, y1 = max(b.x1 for b in boxes), max(b.y1 for b in boxes)
    left, bottom, right, top = _PLOT_AREA
    sx, sy = (right - left) / (x1 - x0), (top - bottom) / (y1 - y0)
    for ax, box in zip(axes, boxes, strict=True):
        ax.set_position([left + (box.x0 - x0) * sx, bottom + (box.y0 - y0) * sy, box.width * sx, box.height * sy])


def render_view(view: MarketView) -> bytes:
    """The chart of a market view, as every user sees it (the chart cache's render)."""
    return render_chart(
        view.candles,
        view.analysis,
        symbol=view.resolved.pair,
        timeframe=view.timeframe,
        exchange=exchange_name(view.exchange),
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
