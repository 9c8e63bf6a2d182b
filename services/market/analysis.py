"""Structured technical analysis: trend, momentum, levels, volatility, volume, derivatives context.

Plain frozen dataclasses, every float finite (never NaN): too few candles raise `NotEnoughData`.
Vectorised numpy + TA-Lib; one analysis of 500 candles costs well under a millisecond.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from services.market.errors import NotEnoughData
from services.market.indicators import IndicatorSeries, compute_indicators
from services.market.models import Candles, Derivatives, FloatArray, ms_to_datetime
from services.market.results import (
    Analysis,
    DerivativesContext,
    Direction,
    Indicators,
    Level,
    Levels,
    Momentum,
    Trend,
    Volatility,
    VolumeState,
)

MIN_CANDLES = 60  # EMA50 + MACD warm-up (34) with room for slopes and ATR history
SWING_WINDOW = 3  # a swing high is the highest high of 3 candles either side
LEVEL_LOOKBACK = 240
LEVELS_EACH_SIDE = 3
CROSS_LOOKBACK = 5  # a MACD cross within this many candles counts as "recent"
DIVERGENCE_LOOKBACK = 60
SLOPE_LOOKBACK = 20
REGRESSION_WINDOW = 50
VOL_HISTORY = 200
RSI_OVERBOUGHT, RSI_OVERSOLD = 70.0, 30.0
TREND_THRESHOLD = 0.4
SLOPE_SCALE = 0.1  # slope (ATR per candle) that counts as a clear trend
_REGRESSION_X = np.arange(REGRESSION_WINDOW, dtype=np.float64) - (REGRESSION_WINDOW - 1) / 2
_REGRESSION_VAR = float(np.dot(_REGRESSION_X, _REGRESSION_X))
FUNDING_NEUTRAL = 0.00005  # per 8 h
FUNDING_EXTREME = 0.0005  # per 8 h (0.05 %)


def _clean(candles: Candles) -> Candles:
    """Drop rows with a non-finite price; a missing volume counts as zero."""
    ohlc = np.vstack((candles.open, candles.high, candles.low, candles.close))
    ok = np.isfinite(ohlc).all(axis=0)
    if ok.all() and np.isfinite(candles.volume).all():
        return candles
    volume = np.nan_to_num(candles.volume, nan=0.0, posinf=0.0, neginf=0.0)
    return Candles(
        exchange=candles.exchange,
        symbol=candles.symbol,
        timeframe=candles.timeframe,
        timestamp=candles.timestamp[ok],
        open=candles.open[ok],
        high=candles.high[ok],
        low=candles.low[ok],
        close=candles.close[ok],
        volume=np.ascontiguousarray(volume[ok]),
    )


def analyze(candles: Candles, derivatives: Derivatives | None = None, *, min_candles: int = MIN_CANDLES) -> Analysis:
    """Analyse candles (oldest first, last one may be forming). Raises `NotEnoughData`."""
    candles = _clean(candles)
    n = len(candles)
    if n < max(min_candles, MIN_CANDLES):
        raise NotEnoughData(max(min_candles, MIN_CANDLES), n, exchange=candles.exchange)
    series = compute_indicators(candles)
    close = candles.close
    price = float(close[-1])
    atr = float(series.atr[-1])
    atr_safe = max(_f(atr), abs(price) * 1e-9, 1e-12)  # NaN would poison every comparison
    indicators = _latest(candles, series, price, atr)
    start = max(0, n - LEVEL_LOOKBACK)
    highs, lows = swing_points(candles.high[start:], candles.low[start:])
    swings = (highs + start, lows + start)
    return Analysis(
        symbol=candles.symbol,
        timeframe=candles.timeframe,
        exchange=candles.exchange,
        as_of=ms_to_datetime(int(candles.timestamp[-1])),
        price=price,
        candles_used=n,
        indicators=indicators,
        trend=_trend(close, series, atr_safe),
        momentum=_momentum(candles, series, indicators.rsi14, swings),
        levels=_levels(candles, swings, price, atr_safe),
        volatility=_volatility(close, series),
        volume=_volume(indicators.volume_ratio),
        derivatives=derivatives_context(derivatives),
    )


def _f(value: Any, default: float = 0.0) -> float:
    number = float(value)
    return number if math.isfinite(number) else default


def _latest(candles: Candles, s: IndicatorSeries, price: float, atr: float) -> Indicators:
    ema200 = float(s.ema200[-1])
    middle = _f(s.bb_middle[-1], price)
    volume = float(candles.volume[-1])
    vsma = _f(s.volume_sma20[-1])
    rsi7, rsi14 = _f(s.rsi7[-1], 50.0), _f(s.rsi14[-1], 50.0)
    if float(candles.close[-15:].max()) == float(candles.close[-15:].min()):
        rsi7 = rsi14 = 50.0  # TA-Lib says 0 for a flat series: no gains and no losses is neutral
    return Indicators(
        ema20=_f(s.ema20[-1], price),
        ema50=_f(s.ema50[-1], price),
        ema200=ema200 if math.isfinite(ema200) else None,
        macd=_f(s.macd[-1]),
        macd_signal=_f(s.macd_signal[-1]),
        macd_hist=_f(s.macd_hist[-1]),
        rsi7=rsi7,
        rsi14=rsi14,
        atr=_f(atr),
        atr_pct=_f(atr / price * 100) if price else 0.0,
        bb_upper=_f(s.bb_upper[-1], price),
        bb_middle=middle,
        bb_lower=_f(s.bb_lower[-1], price),
        bb_width_pct=_f((s.bb_upper[-1] - s.bb_lower[-1]) / middle * 100) if middle else 0.0,
        volume=_f(volume),
        volume_sma20=vsma,
        volume_ratio=_f(volume / vsma, 1.0) if vsma > 0 else 1.0,
    )


def _trend(close: FloatArray, s: IndicatorSeries, atr: float) -> Trend:
    """Direction and strength from the slope (EMA50 over 20 candles and a 50-candle regression of
    the close, in ATR per candle) confirmed by the EMA alignment."""
    price = float(close[-1])
    e20, e50, e200 = float(s.ema20[-1]), float(s.ema50[-1]), float(s.ema200[-1])
    signs = [np.sign(price - e20), np.sign(e20 - e50)]
    if math.isfinite(e200):
        signs.append(np.sign(e50 - e200))
    alignment = float(np.mean(signs))
    ema_slope = (e50 - float(s.ema50[-1 - SLOPE_LOOKBACK])) / (SLOPE_LOOKBACK * atr)
    window = close[-REGRESSION_WINDOW:]
    regression_slope = float(np.dot(_REGRESSION_X[-window.shape[0] :], window)) / _REGRESSION_VAR / atr
    slope = _f(0.5 * (ema_slope + regression_slope))
    slope_score = math.tanh(slope / SLOPE_SCALE)
    score = _f(slope_score * (0.6 + 0.4 * alignment * math.copysign(1.0, slope_score)))
    direction: Direction = "up" if score >= TREND_THRESHOLD else "down" if score <= -TREND_THRESHOLD else "range"
    strength = min(1.0, abs(score))
    if direction == "range":
        strength = 1.0 - strength / TREND_THRESHOLD  # a "strong" range is one with no slope at all
    label: Literal["weak", "moderate", "strong"] = (
        "strong" if strength >= 0.75 else "moderate" if strength >= 0.5 else "weak"
    )
    lean: Literal["up", "down"] | None = None
    if direction == "range" and math.isfinite(e20) and math.isfinite(e50):
        lean = "up" if price > max(e20, e50) else "down" if price < min(e20, e50) else None
    return Trend(
        direction=direction,
        strength=round(strength, 4),
        label=label,
        score=round(score, 4),
        ema_alignment=round(alignment, 4),
        slope_atr=round(slope, 4),
        lean=lean,
    )


def trend_key(trend: Trend) -> str:
    """The one reading of a trend every text uses: up, down, range (price between EMA20 and EMA50),
    range-up or range-down (a range with the price above or below both)."""
    if trend.direction == "range" and trend.lean is not None:
        return f"range-{trend.lean}"
    return trend.direction


def swing_points(high: FloatArray, low: FloatArray, window: int = SWING_WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """Indices of swing highs and swing lows: the first extreme of `window` candles on each side."""
    n = high.shape[0]
    if n < 2 * window + 1:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    centre = slice(window, n - window)
    left_high = np.maximum.reduce([high[window - k : n - window - k] for k in range(1, window + 1)])
    right_high = np.maximum.reduce([high[window + k : n - window + k] for k in range(1, window + 1)])
    left_low = np.minimum.reduce([low[window - k : n - window - k] for k in range(1, window + 1)])
    right_low = np.minimum.reduce([low[window + k : n - window + k] for k in range(1, window + 1)])
    highs = np.flatnonzero((high[centre] > left_high) & (high[centre] >= right_high)) + window
    lows = np.flatnonzero((low[centre] < left_low) & (low[centre] <= right_low)) + window
    return highs, lows


Swings = tuple[np.ndarray, np.ndarray]


def _momentum(candles: Candles, s: IndicatorSeries, rsi14: float, swings: Swings) -> Momentum:
    hist = s.macd_hist[-(CROSS_LOOKBACK + 1) :]
    signs = np.sign(np.nan_to_num(hist))
    changes = np.flatnonzero((signs[1:] != signs[:-1]) & (signs[1:] != 0))
    cross: Literal["bullish", "bearish"] | None = None
    bars_ago: int | None = None
    if changes.size:
        last = int(changes[-1]) + 1
        cross = "bullish" if signs[last] > 0 else "bearish"
        bars_ago = int(signs.shape[0] - 1 - last)
    rising = bool(_f(s.macd_hist[-1]) > _f(s.macd_hist[-2]))
    state: Literal["overbought", "oversold", "neutral"] = (
        "overbought" if rsi14 >= RSI_OVERBOUGHT else "oversold" if rsi14 <= RSI_OVERSOLD else "neutral"
    )
    return Momentum(
        macd_cross=cross,
        macd_cross_bars_ago=bars_ago,
        macd_hist_rising=rising,
        rsi_state=state,
        divergence=_divergence(candles, s.rsi14, swings),
    )


def _divergence(candles: Candles, rsi: FloatArray, swings: Swings) -> Literal["bullish", "bearish"] | None:
    """The latest swing high tops every earlier swing high of the lookback while RSI there is lower
    (bearish), or the latest swing low undercuts every earlier one with a higher RSI (bullish)."""
    start = len(candles) - DIVERGENCE_LOOKBACK
    highs, lows = swings[0][swings[0] >= start], swings[1][swings[1] >= start]
    found: list[tuple[int, Literal["bullish", "bearish"]]] = []
    if highs.size >= 2:
        last, earlier = int(highs[-1]), highs[:-1]
        top = int(earlier[np.argmax(candles.high[earlier])])
        if candles.high[last] > candles.high[top] and rsi[last] < rsi[top] - 1.0:
            found.append((last, "bearish"))
    if lows.size >= 2:
        last, earlier = int(lows[-1]), lows[:-1]
        bottom = int(earlier[np.argmin(candles.low[earlier])])
        if candles.low[last] < candles.low[bottom] and rsi[last] > rsi[bottom] + 1.0:
            found.append((last, "bullish"))
    if not found:
        return None
    return max(found)[1]  # the more recent one


def _cluster(prices: FloatArray, tolerance: float) -> tuple[FloatArray, np.ndarray]:
    """Greedy 1-D clustering: a cluster spans at most `tolerance` → (cluster means, touches)."""
    if prices.size == 0:
        return prices, np.empty(0, dtype=np.int64)
    ordered = np.sort(prices)
    group = np.empty(ordered.shape[0], dtype=np.int64)
    current, first = 0, float(ordered[0])
    for i, value in enumerate(ordered.tolist()):
        if value - first > tolerance:
            current += 1
            first = value
        group[i] = current
    counts = np.bincount(group)
    means = np.bincount(group, weights=ordered) / counts
    return means, counts


def _levels(candles: Candles, swings: Swings, price: float, atr: float) -> Levels:
    prices = np.concatenate((candles.high[swings[0]], candles.low[swings[1]]))
    means, touches = _cluster(prices, 0.5 * atr)
    support: list[Level] = []
    resistance: list[Level] = []
    for idx in np.argsort(np.abs(means - price)):
        level = float(means[idx])
        distance = _distance(level, price)
        if level < price and len(support) < LEVELS_EACH_SIDE:
            support.append(Level(price=level, kind="support", touches=int(touches[idx]), distance_pct=distance))
        elif level > price and len(resistance) < LEVELS_EACH_SIDE:
            resistance.append(Level(price=level, kind="resistance", touches=int(touches[idx]), distance_pct=distance))
        if len(support) >= LEVELS_EACH_SIDE and len(resistance) >= LEVELS_EACH_SIDE:
            break
    # After a move to new lows (highs) no swing is below (above) the price: the extreme of the latest
    # candles is not confirmed yet (a swing needs SWING_WINDOW candles after it), yet it is the level
    # traders watch. With nothing else on that side, the lookback's extreme is the level.
    start = max(0, len(candles) - LEVEL_LOOKBACK)
    lowest, highest = float(candles.low[start:].min()), float(candles.high[start:].max())
    if not support and lowest < price:
        support.append(Level(price=lowest, kind="support", touches=1, distance_pct=_distance(lowest, price)))
    if not resistance and highest > price:
        resistance.append(Level(price=highest, kind="resistance", touches=1, distance_pct=_distance(highest, price)))
    return Levels(support=tuple(support), resistance=tuple(resistance))


def _distance(level: float, price: float) -> float:
    """Signed distance of a level from the price, in percent."""
    return round((level - price) / price * 100, 4) if price else 0.0


def _volatility(close: FloatArray, s: IndicatorSeries) -> Volatility:
    atr_pct = s.atr / close * 100
    history = atr_pct[-VOL_HISTORY:]
    history = history[np.isfinite(history)]
    current = _f(atr_pct[-1])
    percentile = float((history < current).sum() + 0.5 * (history == current).sum()) / max(history.size, 1) * 100
    regime: Literal["low", "normal", "high"] = "low" if percentile < 20 else "high" if percentile > 80 else "normal"
    width = (s.bb_upper - s.bb_lower)[-120:]
    width = width[np.isfinite(width)]
    squeeze = bool(width.size >= 20 and width[-1] <= np.partition(width, width.size // 10)[width.size // 10])
    return Volatility(regime=regime, atr_pct=round(current, 6), percentile=round(_f(percentile), 2), bb_squeeze=squeeze)


def _volume(ratio: float) -> VolumeState:
    state: Literal["low", "normal", "high"] = "high" if ratio >= 1.5 else "low" if ratio <= 0.5 else "normal"
    return VolumeState(ratio=round(ratio, 4), state=state)


def derivatives_context(d: Derivatives | None) -> DerivativesContext | None:
    if d is None:
        return None
    rate = d.funding_rate if d.funding_rate is not None and math.isfinite(d.funding_rate) else None
    interval = d.funding_interval_hours or 8.0
    rate_8h = rate * 8.0 / interval if rate is not None else None
    bias: Literal["longs_pay", "shorts_pay", "neutral"] | None = None
    if rate_8h is not None:
        bias = "neutral" if abs(rate_8h) < FUNDING_NEUTRAL else "longs_pay" if rate_8h > 0 else "shorts_pay"
    return DerivativesContext(
        funding_rate=rate,
        funding_8h=rate_8h,
        funding_annualized_pct=rate * (24.0 / interval) * 365 * 100 if rate is not None else None,
        funding_bias=bias,
        funding_extreme=rate_8h is not None and abs(rate_8h) >= FUNDING_EXTREME,
        open_interest=_finite_or_none(d.open_interest),
        open_interest_value=_finite_or_none(d.open_interest_value),
    )


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
