"""Seeded OHLCV generators: random walks with trends, ranges, crashes, pumps and squeezes.

Every function returns an (n, 6) float64 array of ``[open_time_ms, open, high, low, close, volume]``
rows, oldest first, reproducible from `seed`. Tests build their own market data with these.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from services.market.timeframes import TIMEFRAME_MS, candle_open

# regime → (drift per candle in units of sigma, volatility multiplier, mean reversion strength)
REGIMES: dict[str, tuple[float, float, float]] = {
    "random": (0.0, 1.0, 0.0),
    "up": (0.35, 1.0, 0.0),
    "down": (-0.35, 1.0, 0.0),
    "range": (0.0, 1.0, 0.15),
    "crash": (-2.5, 3.0, 0.0),
    "pump": (2.5, 3.0, 0.0),
    "squeeze": (0.0, 0.25, 0.3),
}
DEFAULT_START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC


def _walk(
    rng: np.random.Generator, n: int, start_price: float, sigma: float, regime: str
) -> tuple[np.ndarray, np.ndarray]:
    """Log-price path of `n` closes and the per-candle volatility used."""
    drift, vol_mult, reversion = REGIMES[regime]
    vol = sigma * vol_mult
    shocks = rng.standard_normal(n)
    if reversion == 0.0:
        log_returns = drift * sigma + vol * shocks
        log_close = np.log(start_price) + np.cumsum(log_returns)
    else:  # Ornstein-Uhlenbeck around the start price
        anchor = np.log(start_price)
        log_close = np.empty(n)
        level = anchor
        for i in range(n):
            level = level - reversion * (level - anchor) + vol * shocks[i]
            log_close[i] = level
    return log_close, np.full(n, vol)


def generate_ohlcv(
    n: int,
    *,
    seed: int = 0,
    regime: str = "random",
    start_price: float = 100.0,
    start_ms: int = DEFAULT_START_MS,
    timeframe: str = "1h",
    sigma: float = 0.01,
    base_volume: float = 1_000.0,
) -> np.ndarray:
    """`n` candles of one regime, starting at the candle that contains `start_ms`."""
    return generate_scenario(
        [(regime, n)],
        seed=seed,
        start_price=start_price,
        start_ms=start_ms,
        timeframe=timeframe,
        sigma=sigma,
        base_volume=base_volume,
    )


def generate_scenario(
    segments: Sequence[tuple[str, int]],
    *,
    seed: int = 0,
    start_price: float = 100.0,
    start_ms: int = DEFAULT_START_MS,
    timeframe: str = "1h",
    sigma: float = 0.01,
    base_volume: float = 1_000.0,
) -> np.ndarray:
    """Chained regimes, e.g. ``[("range", 200), ("crash", 12), ("up", 150)]``."""
    rng = np.random.default_rng(seed)
    closes: list[np.ndarray] = []
    vols: list[np.ndarray] = []
    price = start_price
    for regime, count in segments:
        if count <= 0:
            continue
        log_close, vol = _walk(rng, count, price, sigma, regime)
        closes.append(log_close)
        vols.append(vol)
        price = float(np.exp(log_close[-1]))
    if not closes:
        return np.empty((0, 6))
    log_close = np.concatenate(closes)
    vol = np.concatenate(vols)
    n = log_close.shape[0]
    close = np.exp(log_close)
    open_ = np.concatenate(([start_price], close[:-1])) * np.exp(rng.normal(0.0, 0.05, n) * vol)
    wick_up = np.abs(rng.normal(0.0, 0.6, n)) * vol
    wick_down = np.abs(rng.normal(0.0, 0.6, n)) * vol
    high = np.maximum(open_, close) * np.exp(wick_up)
    low = np.minimum(open_, close) * np.exp(-wick_down)
    move = np.abs(np.diff(np.concatenate(([np.log(start_price)], log_close)))) / sigma
    volume = base_volume * rng.lognormal(0.0, 0.35, n) * (1.0 + 0.6 * move)
    step = TIMEFRAME_MS[timeframe]
    first = candle_open(start_ms, timeframe)
    ts = first + step * np.arange(n, dtype=np.int64)
    return np.column_stack((ts.astype(np.float64), open_, high, low, close, volume))


def ending_at(rows: np.ndarray, last_open_ms: int, timeframe: str) -> np.ndarray:
    """The same candles re-timed so that the last one opens at `last_open_ms` (aligned)."""
    out = rows.copy()
    step = TIMEFRAME_MS[timeframe]
    last = candle_open(last_open_ms, timeframe)
    out[:, 0] = last - step * np.arange(rows.shape[0] - 1, -1, -1, dtype=np.int64)
    return out
