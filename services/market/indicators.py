"""Indicator series from TA-Lib on contiguous float64 numpy arrays (no pandas in the hot path)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import talib

from services.market.models import Candles, FloatArray

EMA_FAST = 20
EMA_SLOW = 50
EMA_LONG = 200
MACD_FAST, MACD_SLOW, MACD_SIGNAL = 12, 26, 9
RSI_FAST, RSI_SLOW = 7, 14
ATR_PERIOD = 14
BB_PERIOD, BB_DEV = 20, 2.0
VOLUME_PERIOD = 20


@dataclass(frozen=True, slots=True, eq=False)
class IndicatorSeries:
    """Full indicator series aligned with the candles; the warm-up head of each series is NaN.

    `ema200` is all NaN when there are fewer than 200 candles (then the analysis reports None).
    """

    ema20: FloatArray
    ema50: FloatArray
    ema200: FloatArray
    macd: FloatArray
    macd_signal: FloatArray
    macd_hist: FloatArray
    rsi7: FloatArray
    rsi14: FloatArray
    atr: FloatArray
    bb_upper: FloatArray
    bb_middle: FloatArray
    bb_lower: FloatArray
    volume_sma20: FloatArray


def compute_indicators(candles: Candles) -> IndicatorSeries:
    close = np.ascontiguousarray(candles.close, dtype=np.float64)
    high = np.ascontiguousarray(candles.high, dtype=np.float64)
    low = np.ascontiguousarray(candles.low, dtype=np.float64)
    volume = np.ascontiguousarray(candles.volume, dtype=np.float64)
    macd, macd_signal, macd_hist = talib.MACD(close, MACD_FAST, MACD_SLOW, MACD_SIGNAL)
    bb_upper, bb_middle, bb_lower = talib.BBANDS(close, BB_PERIOD, BB_DEV, BB_DEV)
    nan = np.full(close.shape[0], np.nan)
    return IndicatorSeries(
        ema20=talib.EMA(close, EMA_FAST),
        ema50=talib.EMA(close, EMA_SLOW),
        ema200=talib.EMA(close, EMA_LONG) if close.shape[0] >= EMA_LONG else nan,
        macd=macd,
        macd_signal=macd_signal,
        macd_hist=macd_hist,
        rsi7=talib.RSI(close, RSI_FAST),
        rsi14=talib.RSI(close, RSI_SLOW),
        atr=talib.ATR(high, low, close, ATR_PERIOD),
        bb_upper=bb_upper,
        bb_middle=bb_middle,
        bb_lower=bb_lower,
        volume_sma20=talib.SMA(volume, VOLUME_PERIOD),
    )
