"""Two or three coins side by side on one timeframe: performance, relative strength, correlation.

Computed from the market views the answer already has (no extra exchange call), on the candles the
coins share (same open times), over the last `WINDOW` of them — the window the comparison chart
shows. Per pair of coins (first vs second as asked):

* relative strength: the price ratio A/B (how many B one A buys); its change over the window, and
  its trend from the same classifier as a coin's own trend (`analysis._trend` via `analyze` on the
  ratio's candles), so "the BTC/ETH ratio is trending down" means what "BTC is trending down" means;
* correlation: Pearson correlation of the candles' log returns over the window.

`stronger` is the coin the ratio trend favours; on a sideways ratio the one that gained more over
the window, unless the two are within `TIE_PCT` of each other (no leader). Pure numpy, < 1 ms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from services.market.analysis import MIN_CANDLES, analyze
from services.market.errors import NotEnoughData
from services.market.models import Candles, FloatArray, IntArray
from services.market.results import MarketView, Trend

WINDOW = 120  # candles compared and drawn (the single-coin chart shows as many)
MIN_RETURNS = 20  # fewer shared candles: no correlation
TIE_PCT = 1.0  # performance gap (percentage points) below which a sideways ratio names no leader


@dataclass(frozen=True, slots=True)
class PairStats:
    first: int  # indexes into `Comparison.views`
    second: int
    ratio_start: float
    ratio_end: float
    ratio_change_pct: float  # over the window
    ratio_trend: Trend | None  # None with fewer than MIN_CANDLES shared candles
    correlation: float | None  # of log returns over the window; None with too few candles
    stronger: int | None  # index of the stronger coin, None: no clear leader


@dataclass(frozen=True, slots=True, eq=False)
class Comparison:
    views: tuple[MarketView, ...]
    timeframe: str
    timestamps: IntArray  # the window's shared candle open times (ms), oldest first
    closes: tuple[FloatArray, ...]  # each coin's closes at those times
    changes_pct: tuple[float, ...]  # each coin's change over the window
    pairs: tuple[PairStats, ...]  # (0, 1), then (0, 2), (1, 2) with three coins

    @property
    def window(self) -> int:
        return int(self.timestamps.shape[0])

    @property
    def main(self) -> PairStats:
        """The first two coins as asked: the pair the verdict and the chart's ratio panel are about."""
        return self.pairs[0]

    def rebased(self, index: int) -> FloatArray:
        """A coin's closes rebased to 100 at the window's first candle."""
        closes = self.closes[index]
        return np.asarray(closes / closes[0] * 100.0, dtype=np.float64)


def compare(views: list[MarketView] | tuple[MarketView, ...], window: int = WINDOW) -> Comparison:
    """Raises `NotEnoughData` when the coins share fewer than two candles."""
    if len(views) < 2:
        raise ValueError("a comparison needs two coins or more")
    shared = views[0].candles.timestamp
    for view in views[1:]:
        shared = np.intersect1d(shared, view.candles.timestamp)
    if shared.shape[0] < 2:
        raise NotEnoughData(2, int(shared.shape[0]))
    full = [_at(view.candles, shared) for view in views]
    tail = shared[-window:]
    closes = tuple(np.ascontiguousarray(candles.close[-window:]) for candles in full)
    changes = tuple(_change(float(c[0]), float(c[-1])) for c in closes)
    pairs = tuple(
        _pair(i, j, full[i], full[j], closes[i], closes[j], changes) for i, j in combinations(range(len(views)), 2)
    )
    return Comparison(
        views=tuple(views),
        timeframe=views[0].timeframe,
        timestamps=np.ascontiguousarray(tail),
        closes=closes,
        changes_pct=changes,
        pairs=pairs,
    )


def _at(candles: Candles, times: IntArray) -> Candles:
    index = np.searchsorted(candles.timestamp, times)
    return Candles(
        exchange=candles.exchange,
        symbol=candles.symbol,
        timeframe=candles.timeframe,
        timestamp=times,
        open=candles.open[index],
        high=candles.high[index],
        low=candles.low[index],
        close=candles.close[index],
        volume=candles.volume[index],
    )


def _change(start: float, end: float) -> float:
    return float((end / start - 1.0) * 100.0) if start else 0.0


def _pair(
    i: int, j: int, a: Candles, b: Candles, close_a: FloatArray, close_b: FloatArray, changes: tuple[float, ...]
) -> PairStats:
    ratio = close_a / close_b
    trend = _ratio_trend(a, b)
    correlation: float | None = None
    if close_a.shape[0] > MIN_RETURNS:
        ra, rb = np.diff(np.log(close_a)), np.diff(np.log(close_b))
        if float(np.std(ra)) > 0 and float(np.std(rb)) > 0:
            value = float(np.corrcoef(ra, rb)[0, 1])
            correlation = value if math.isfinite(value) else None
    stronger: int | None
    if trend is not None and trend.direction != "range":
        stronger = i if trend.direction == "up" else j
    elif abs(changes[i] - changes[j]) >= TIE_PCT:
        stronger = i if changes[i] > changes[j] else j
    else:
        stronger = None
    return PairStats(
        first=i,
        second=j,
        ratio_start=float(ratio[0]),
        ratio_end=float(ratio[-1]),
        ratio_change_pct=_change(float(ratio[0]), float(ratio[-1])),
        ratio_trend=trend,
        correlation=correlation,
        stronger=stronger,
    )


def _ratio_trend(a: Candles, b: Candles) -> Trend | None:
    """The trend of A/B from the coin trend classifier, on the ratio's own candles (every shared one)."""
    if len(a) < MIN_CANDLES:
        return None
    opens, closes = a.open / b.open, a.close / b.close
    extremes = np.vstack((opens, closes, a.high / b.high, a.low / b.low))
    ratio = Candles(
        exchange=a.exchange,
        symbol=f"{a.symbol}÷{b.symbol}",
        timeframe=a.timeframe,
        timestamp=a.timestamp,
        open=opens,
        high=extremes.max(axis=0),
        low=extremes.min(axis=0),
        close=closes,
        volume=np.zeros_like(closes),
    )
    return analyze(ratio).trend
