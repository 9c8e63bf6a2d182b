"""Supported timeframes and candle-boundary arithmetic (UTC, milliseconds since the epoch)."""

from __future__ import annotations

from typing import Final

from services.market.errors import UnsupportedTimeframe

MINUTE_MS: Final = 60_000
HOUR_MS: Final = 60 * MINUTE_MS
DAY_MS: Final = 24 * HOUR_MS
WEEK_MS: Final = 7 * DAY_MS

TIMEFRAME_MS: Final[dict[str, int]] = {
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "1h": HOUR_MS,
    "4h": 4 * HOUR_MS,
    "1d": DAY_MS,
    "1w": WEEK_MS,
}
SUPPORTED_TIMEFRAMES: Final[tuple[str, ...]] = tuple(TIMEFRAME_MS)

# Weekly candles open on Monday 00:00 UTC on Bybit, Binance and OKX; the epoch was a Thursday.
_WEEK_OFFSET_MS: Final = 4 * DAY_MS

_ALIASES: Final[dict[str, str]] = {
    alias: timeframe
    for timeframe, aliases in {
        "5m": "5 5min 5m",
        "15m": "15 15min 15m",
        "1h": "60 60m 1h h1 1hour hourly",
        "4h": "240 4h h4 4hour",
        "1d": "d 1d d1 day 1day daily",
        "1w": "w 1w w1 week 1week weekly",
    }.items()
    for alias in aliases.split()
}


def validate_timeframe(timeframe: str) -> str:
    """The canonical timeframe for `timeframe` ("4H", "h4", "240", "daily" …) or `UnsupportedTimeframe`."""
    key = timeframe.strip().lower().replace(" ", "")
    canonical = _ALIASES.get(key)
    if canonical is None:
        raise UnsupportedTimeframe(timeframe, SUPPORTED_TIMEFRAMES)
    return canonical


def timeframe_ms(timeframe: str) -> int:
    return TIMEFRAME_MS[validate_timeframe(timeframe)]


def candle_open(ts_ms: int, timeframe: str) -> int:
    """Open time of the candle of `timeframe` that contains `ts_ms`."""
    step = timeframe_ms(timeframe)
    offset = _WEEK_OFFSET_MS if step == WEEK_MS else 0
    return (ts_ms - offset) // step * step + offset


def next_candle_close(ts_ms: int, timeframe: str) -> int:
    """Close time (= next open) of the candle that contains `ts_ms`."""
    return candle_open(ts_ms, timeframe) + timeframe_ms(timeframe)
