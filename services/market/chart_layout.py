"""Geometry shared by the chart pictures: stacked panels, y ticks that never collide, price tags.

Plain matplotlib (`matplotlib.figure.Figure` on the Agg canvas, never pyplot), imported by the first
render. Everything here is computed from the data and the panel sizes before anything is drawn, so
a figure can be inspected (tests) before it is saved:

* panels are stacked with a gap, and a y tick is kept only when its whole label fits inside its own
  panel — labels of neighbouring panels (price above volume, RSI above MACD) cannot overlap;
* tags at the right edge (level prices, the current price) are spread apart vertically so two
  close levels never print over each other, each staying as near to its line as it can.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

WIDTH_PX, HEIGHT_PX, DPI = 1280, 900, 100
BACKGROUND, GRID, TEXT, MUTED = "#131722", "#2a2e39", "#d1d4dc", "#8a8f9c"
UP, DOWN = "#26a69a", "#ef5350"
FONT_SIZE = 10  # points: tick labels and tags
PANEL_GAP = 0.014  # of the figure height, between stacked panels
# left, bottom, right, top of the panels in figure fractions (the title and legend sit above `top`)
PLOT_AREA = (0.035, 0.05, 0.925, 0.925)
TAG_GAP_PX = 3.0  # free pixels between two tags at the right edge


def figure(width_px: int = WIDTH_PX, height_px: int = HEIGHT_PX) -> Any:
    """A new figure on the Agg canvas (not registered with pyplot: nothing to close or leak)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI, facecolor=BACKGROUND)
    FigureCanvasAgg(fig)
    return fig


def stack_panels(fig: Any, ratios: Sequence[float], area: tuple[float, float, float, float] = PLOT_AREA) -> list[Any]:
    """Axes stacked top to bottom with heights in `ratios`, sharing x, styled dark, y ticks on the right."""
    left, bottom, right, top = area
    usable = top - bottom - PANEL_GAP * (len(ratios) - 1)
    total = sum(ratios)
    axes: list[Any] = []
    y = top
    for ratio in ratios:
        height = usable * ratio / total
        ax = fig.add_axes((left, y - height, right - left, height), sharex=axes[0] if axes else None)
        y -= height + PANEL_GAP
        ax.set_facecolor(BACKGROUND)
        for spine in ax.spines.values():
            spine.set_color(GRID)
        ax.grid(True, color=GRID, linestyle="--", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.yaxis.tick_right()
        ax.tick_params(colors=TEXT, labelsize=FONT_SIZE, length=3)
        ax.tick_params(axis="x", labelbottom=False)
        axes.append(ax)
    axes[-1].tick_params(axis="x", labelbottom=True)
    return axes


def panel_height_px(ax: Any) -> float:
    return float(ax.get_position().height * ax.figure.get_figheight() * ax.figure.dpi)


def label_height_px(fontsize: float = FONT_SIZE) -> float:
    """A one-line label's height in pixels (font size plus matplotlib's line spacing)."""
    return fontsize * 1.2 * DPI / 72


def inner_ticks(ax: Any, low: float, high: float, nbins: int = 6) -> list[float]:
    """Nice tick values within [low, high] whose labels fit inside the panel (half a label of room
    at both edges): set the limits to (low, high) first."""
    from matplotlib.ticker import MaxNLocator

    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return []
    margin = (label_height_px() / 2 + 1) / max(panel_height_px(ax), 1.0) * (high - low)
    values = MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
    return [float(v) for v in values if low + margin <= v <= high - margin]


def set_y(ax: Any, low: float, high: float, formatter: Callable[[float], str], *, nbins: int = 6) -> None:
    """Y limits, ticks that fit inside the panel, and their labels."""
    from matplotlib.ticker import FixedLocator, FuncFormatter

    ax.set_ylim(low, high)
    ax.yaxis.set_major_locator(FixedLocator(inner_ticks(ax, low, high, nbins)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: formatter(float(value))))


def padded(low: float, high: float, share: float = 0.05) -> tuple[float, float]:
    """Limits with `share` of the span added at both ends (a flat series gets a span of its own)."""
    span = high - low
    if span <= 0:
        span = abs(high) * 0.02 or 1.0
    return low - span * share, high + span * share


@dataclass(frozen=True, slots=True)
class Tag:
    """A label at the right edge: its value (where its line is) and where it ends up."""

    value: float
    text: str
    color: str
    y: float  # where the label is drawn (data units), `value` moved apart from its neighbours


def spread_tags(items: Sequence[tuple[float, str, str]], ax: Any, low: float, high: float) -> list[Tag]:
    """Place (value, text, colour) labels near their values, at least one label height apart, inside
    [low, high]: in value order, pushed up from the bottom, then down from the top if they overflowed.
    Returned in the order of `items`."""
    if not items:
        return []
    per_px = (high - low) / max(panel_height_px(ax), 1.0)
    step = (label_height_px() + TAG_GAP_PX) * per_px
    half = label_height_px() / 2 * per_px
    order = sorted(range(len(items)), key=lambda i: items[i][0])
    ys = [min(max(items[i][0], low + half), high - half) for i in order]
    for k in range(1, len(ys)):
        ys[k] = max(ys[k], ys[k - 1] + step)
    overflow = ys[-1] - (high - half)
    if overflow > 0:
        ys[-1] -= overflow
        for k in range(len(ys) - 2, -1, -1):
            ys[k] = min(ys[k], ys[k + 1] - step)
    placed = dict(zip(order, ys, strict=True))
    return [Tag(value=v, text=text, color=color, y=placed[i]) for i, (v, text, color) in enumerate(items)]


def draw_tags(ax: Any, tags: Sequence[Tag], *, boxed_text: str = BACKGROUND) -> list[Any]:
    """Each tag as a filled label, coloured like its line, ending at the panel's right edge (inside
    it: the strip the candles leave free), so it never reaches the tick labels beside the panel."""
    from matplotlib.transforms import blended_transform_factory

    edge = blended_transform_factory(ax.transAxes, ax.transData)
    texts = []
    for tag in tags:
        texts.append(
            ax.text(
                0.996,
                tag.y,
                tag.text,
                color=boxed_text,
                fontsize=FONT_SIZE,
                ha="right",
                va="center",
                fontweight="bold",
                transform=edge,
                bbox={"boxstyle": "square,pad=0.15", "facecolor": tag.color, "edgecolor": "none"},
                clip_on=False,
                gid="tag",
            )
        )
    return texts


def time_ticks(ax: Any, timestamps_ms: Sequence[int], timeframe: str, count: int = 7) -> None:
    """About `count` date labels on the candle-index x axis."""
    from datetime import UTC, datetime

    from matplotlib.ticker import FixedLocator, FuncFormatter

    n = len(timestamps_ms)
    if n == 0:
        return
    step = max(1, math.ceil(n / count))
    positions = list(range(n - 1, -1, -step))[::-1]
    if positions and positions[0] < step // 2:
        positions = positions[1:] or positions
    pattern = "%Y-%m-%d" if timeframe in ("1d", "1w") else "%m-%d %H:%M"
    labels = {i: datetime.fromtimestamp(int(timestamps_ms[i]) / 1000, tz=UTC).strftime(pattern) for i in positions}
    ax.xaxis.set_major_locator(FixedLocator(positions))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: labels.get(round(value), "")))


def title(fig: Any, text: str) -> Any:
    return fig.text(PLOT_AREA[0], 0.985, text, color=TEXT, fontsize=14, fontweight="bold", ha="left", va="top")


def legend_above(ax: Any, handles: Sequence[Any], labels: Sequence[str]) -> Any:
    """The legend in the margin above the top panel, right-aligned: outside the plot, never on the data."""
    legend = ax.legend(
        handles,
        labels,
        loc="lower right",
        bbox_to_anchor=(1.0, 1.005),
        ncol=len(labels),
        frameon=False,
        fontsize=FONT_SIZE,
        borderaxespad=0.0,
        handlelength=1.6,
        columnspacing=1.2,
    )
    for text in legend.get_texts():
        text.set_color(TEXT)
    return legend
