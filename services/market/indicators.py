"""Indicator series from TA-Lib on contiguous float64 numpy arrays (no pandas in the hot path).

TA-Lib is imported on first use (`ta()`), not with this module: the bot's start path imports the
analysis, and `import talib` also imports pandas when it can (to accept pandas Series), about 0.5 s
and 30 MB that nothing here needs. `ta()` imports it without pandas; the bot calls `warm_up()` in a
worker thread once it is serving, so the first analysis finds it loaded. Charts import matplotlib
themselves, when the first one is drawn (services/market/charts.py).
"""

from __future__ import annotations

import importlib
import sys
import threading
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from services.market.models import Candles, FloatArray

EMA_FAST = 20
EMA_SLOW = 50
EMA_LONG = 200
MACD_FAST, MACD_SLOW, MACD_SIGNAL = 12, 26, 9
RSI_FAST, RSI_SLOW = 7, 14
ATR_PERIOD = 14
BB_PERIOD, BB_DEV = 20, 2.0
VOLUME_PERIOD = 20


_loaded: list[ModuleType] = []  # TA-Lib, once imported
_loading = threading.Lock()


def ta() -> ModuleType:
    """The `talib` module, imported by the first caller (any thread)."""
    if not _loaded:
        with _loading:
            if not _loaded:
                _loaded.append(_import_talib())
    return _loaded[0]


def _import_talib() -> ModuleType:
    """`import talib`, without pandas unless something already imported it.

    TA-Lib wraps its functions for pandas Series only when `from pandas import Series` succeeds; a
    None in `sys.modules` makes that import fail (Python's documented way to block one), for the
    moment of TA-Lib's own import. Nothing else of ours imports pandas.
    """
    if "pandas" in sys.modules:
        return importlib.import_module("talib")
    sys.modules["pandas"] = None  # type: ignore[assignment]
    try:
        return importlib.import_module("talib")
    finally:
        if sys.modules.get("pandas", False) is None:
            del sys.modules["pandas"]


def warm_up() -> None:
    """Import TA-Lib and compute every indicator once (CPU-bound: run it in a worker thread)."""
    close = np.linspace(100.0, 120.0, EMA_LONG + 10)
    timestamps = np.arange(close.shape[0], dtype=np.int64) * 60_000
    rows = np.column_stack((timestamps, close, close + 1.0, close - 1.0, close, np.ones_like(close)))
    compute_indicators(Candles.from_array(rows, exchange="warm-up", symbol="WARM/UP", timeframe="1m"))


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
    talib = ta()
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
