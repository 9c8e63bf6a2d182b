"""Plain data returned by the market service. Every result names the exchange it came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def ms_to_datetime(ms: int | float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


@dataclass(frozen=True, slots=True)
class ResolvedSymbol:
    """A user's symbol query resolved against the exchanges' markets.

    `spot`/`perp` are ccxt unified symbols on `exchange` (the first exchange, in priority order,
    that lists the pair); `exchanges` lists every configured exchange that lists it, in priority
    order, which is the fallback order for data requests.
    """

    query: str
    base: str
    quote: str
    exchange: str
    spot: str | None
    perp: str | None
    exchanges: tuple[str, ...]
    prefer_perp: bool = False

    @property
    def pair(self) -> str:
        """Display name, e.g. ``BTC/USDT``."""
        return f"{self.base}/{self.quote}"

    @property
    def market(self) -> str:
        """The market used for candles and the ticker: spot unless only a perp exists (or was asked)."""
        if self.prefer_perp and self.perp:
            return self.perp
        market = self.spot or self.perp
        assert market is not None  # a ResolvedSymbol always has at least one market
        return market


@dataclass(frozen=True, slots=True, eq=False)
class Candles:
    """OHLCV columns as contiguous float64 arrays (oldest first); `timestamp` is the open time in ms."""

    exchange: str
    symbol: str
    timeframe: str
    timestamp: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray

    @classmethod
    def from_array(cls, rows: npt.ArrayLike, *, exchange: str, symbol: str, timeframe: str) -> Candles:
        """From an (n, 6) array-like of ``[ts, open, high, low, close, volume]`` rows, oldest first."""
        data = np.asarray(rows, dtype=np.float64).reshape(-1, 6)
        cols = np.ascontiguousarray(data.T)
        return cls(
            exchange=exchange,
            symbol=symbol,
            timeframe=timeframe,
            timestamp=cols[0].astype(np.int64),
            open=cols[1],
            high=cols[2],
            low=cols[3],
            close=cols[4],
            volume=cols[5],
        )

    def to_array(self) -> FloatArray:
        """The (n, 6) float64 row layout (timestamps are exact in float64 up to 2**53 ms)."""
        return np.column_stack(
            (self.timestamp.astype(np.float64), self.open, self.high, self.low, self.close, self.volume)
        )

    def __len__(self) -> int:
        return int(self.close.shape[0])

    def tail(self, n: int) -> Candles:
        if n >= len(self):
            return self
        return self.take(slice(-n, None))

    def take(self, rows: slice) -> Candles:
        """The candles of `rows` (a slice of positions), same market and timeframe."""
        return Candles(
            exchange=self.exchange,
            symbol=self.symbol,
            timeframe=self.timeframe,
            timestamp=self.timestamp[rows],
            open=self.open[rows],
            high=self.high[rows],
            low=self.low[rows],
            close=self.close[rows],
            volume=self.volume[rows],
        )

    def with_last_price(self, price: float) -> Candles:
        """A copy whose last (forming) candle closes at `price` — merges a fresher ticker in."""
        if not len(self):
            return self
        close = self.close.copy()
        high = self.high.copy()
        low = self.low.copy()
        close[-1] = price
        high[-1] = max(high[-1], price)
        low[-1] = min(low[-1], price)
        return Candles(
            exchange=self.exchange,
            symbol=self.symbol,
            timeframe=self.timeframe,
            timestamp=self.timestamp,
            open=self.open,
            high=high,
            low=low,
            close=close,
            volume=self.volume,
        )

    @property
    def last_time(self) -> datetime:
        return ms_to_datetime(int(self.timestamp[-1]))

    @property
    def last_close(self) -> float:
        return float(self.close[-1])


@dataclass(frozen=True, slots=True)
class Ticker:
    exchange: str
    symbol: str
    price: float
    change_24h_pct: float | None
    volume_24h: float | None  # in the quote currency (USDT)
    high_24h: float | None
    low_24h: float | None
    timestamp: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "exchange": self.exchange,
            "symbol": self.symbol,
            "price": self.price,
            "change_24h_pct": self.change_24h_pct,
            "volume_24h": self.volume_24h,
            "high_24h": self.high_24h,
            "low_24h": self.low_24h,
            "timestamp": self.timestamp.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Ticker:
        return cls(
            exchange=str(data["exchange"]),
            symbol=str(data["symbol"]),
            price=float(data["price"]),
            change_24h_pct=_opt_float(data.get("change_24h_pct")),
            volume_24h=_opt_float(data.get("volume_24h")),
            high_24h=_opt_float(data.get("high_24h")),
            low_24h=_opt_float(data.get("low_24h")),
            timestamp=datetime.fromisoformat(str(data["timestamp"])),
        )


@dataclass(frozen=True, slots=True)
class Derivatives:
    """Perpetual-swap context. `funding_rate` is per funding interval (0.0001 = 0.01 %)."""

    exchange: str
    symbol: str
    funding_rate: float | None
    next_funding_time: datetime | None
    funding_interval_hours: float | None
    open_interest: float | None  # in contracts/base units
    open_interest_value: float | None  # in the quote currency
    mark_price: float | None
    timestamp: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "exchange": self.exchange,
            "symbol": self.symbol,
            "funding_rate": self.funding_rate,
            "next_funding_time": self.next_funding_time.isoformat() if self.next_funding_time else None,
            "funding_interval_hours": self.funding_interval_hours,
            "open_interest": self.open_interest,
            "open_interest_value": self.open_interest_value,
            "mark_price": self.mark_price,
            "timestamp": self.timestamp.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Derivatives:
        next_funding = data.get("next_funding_time")
        return cls(
            exchange=str(data["exchange"]),
            symbol=str(data["symbol"]),
            funding_rate=_opt_float(data.get("funding_rate")),
            next_funding_time=datetime.fromisoformat(str(next_funding)) if next_funding else None,
            funding_interval_hours=_opt_float(data.get("funding_interval_hours")),
            open_interest=_opt_float(data.get("open_interest")),
            open_interest_value=_opt_float(data.get("open_interest_value")),
            mark_price=_opt_float(data.get("mark_price")),
            timestamp=datetime.fromisoformat(str(data["timestamp"])),
        )


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)
