"""Shared machinery of the fake exchange servers: clock, market book, faults, request log.

A fake is an aiohttp app on 127.0.0.1 (random port) that speaks one exchange's public REST dialect
to the real ccxt client (point ccxt at it with `api_urls={"bybit": fake.url}`). Candles come from the
seeded generators, aligned to the fake clock: the candle containing "now" is the forming one, and
advancing the clock makes the next pre-generated candles appear.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
from aiohttp import web

from services.market.timeframes import TIMEFRAME_MS, candle_open
from standins.exchanges.candles import generate_ohlcv


class FakeClock:
    """Wall clock for the fakes and the service; frozen unless `frozen=False` (then it ticks)."""

    def __init__(self, start: float | None = None, *, frozen: bool = True) -> None:
        self._start = time.time() if start is None else start
        self._t0 = time.monotonic()
        self._offset = 0.0
        self.frozen = frozen

    def time(self) -> float:
        running = 0.0 if self.frozen else time.monotonic() - self._t0
        return self._start + self._offset + running

    __call__ = time

    def ms(self) -> int:
        return int(self.time() * 1000)

    def advance(self, seconds: float) -> None:
        self._offset += seconds

    def set(self, timestamp: float) -> None:
        self._offset += timestamp - self.time()


@dataclass
class SymbolSpec:
    """One base asset on a fake exchange (quoted in USDT)."""

    base: str
    price: float = 100.0
    spot: bool = True
    perp: bool = True
    regime: str = "random"
    history: int = 1200  # candles available per timeframe (short histories: set it low)
    funding_rate: float = 0.0001
    funding_interval_min: int = 480
    open_interest: float = 50_000.0
    sigma: float = 0.01

    @property
    def symbol_id(self) -> str:
        return f"{self.base}USDT"


DEFAULT_PRICES: dict[str, float] = {
    "BTC": 60_000.0, "ETH": 3_000.0, "SOL": 150.0, "XRP": 0.6, "DOGE": 0.15, "ADA": 0.45, "TRX": 0.12,
    "LTC": 80.0, "LINK": 15.0, "AVAX": 30.0, "DOT": 6.0, "BNB": 550.0, "TON": 5.5, "SUI": 1.2,
    "APT": 8.0, "ARB": 0.9, "OP": 1.8, "NEAR": 5.0, "ATOM": 7.0, "FIL": 4.5, "UNI": 9.0, "INJ": 22.0,
}  # fmt: skip


def default_specs(bases: Iterable[str] | None = None) -> list[SymbolSpec]:
    names = list(bases) if bases is not None else list(DEFAULT_PRICES)
    return [SymbolSpec(base, price=DEFAULT_PRICES.get(base, 10.0)) for base in names]


@dataclass
class Fault:
    """Misbehaviour for matching requests: kind ∈ FAULT_KINDS; `times=None` means until cleared."""

    kind: str
    path: str | None = None  # substring of the request path
    symbol: str | None = None  # exact `symbol` query parameter
    times: int | None = None
    delay: float = 0.0

    def matches(self, path: str, query: dict[str, str]) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.path is not None and self.path not in path:
            return False
        return self.symbol is None or query.get("symbol") == self.symbol


FAULT_KINDS = (
    "latency",  # answer normally after `delay` seconds
    "timeout",  # hang for `delay` (default 30 s): the client times out
    "http429",  # HTTP 429
    "ratelimit",  # the exchange's own rate-limit answer (Bybit: HTTP 200 retCode 10006)
    "ban",  # Bybit HTTP 403 / Binance HTTP 418
    "http500",
    "http502",
    "http503",
    "malformed",  # HTTP 200, truncated JSON
    "empty",  # HTTP 200, empty body
    "unknown_symbol",  # the exchange's invalid-symbol error
)


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    at: float


@dataclass
class MarketBook:
    """The candles, prices and derivatives data a fake serves, per base asset and timeframe."""

    specs: dict[str, SymbolSpec]
    clock: FakeClock
    future_candles: int = 600
    anchor_ms: int = 0
    _series: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.anchor_ms = self.clock.ms()

    def series(self, base: str, timeframe: str) -> np.ndarray:
        key = (base, timeframe)
        rows = self._series.get(key)
        if rows is None:
            spec = self.specs[base]
            step = TIMEFRAME_MS[timeframe]
            first = candle_open(self.anchor_ms, timeframe) - (spec.history - 1) * step
            seed = zlib.crc32(f"{base}:{timeframe}".encode())
            rows = generate_ohlcv(
                spec.history + self.future_candles,
                seed=seed,
                regime=spec.regime,
                start_price=spec.price,
                start_ms=first,
                timeframe=timeframe,
                sigma=spec.sigma,
            )
            # every timeframe of one asset trades at `spec.price` at the anchor time
            rows[:, 1:5] *= spec.price / rows[spec.history - 1, 4]
            self._series[key] = rows
        return rows

    def set_candles(self, base: str, timeframe: str, rows: np.ndarray) -> None:
        """Serve exactly these rows (ts, o, h, l, c, v) for `base` on `timeframe`."""
        self._series[(base, timeframe)] = np.asarray(rows, dtype=np.float64)

    def move(self, base: str, price: float, *, high: float | None = None, low: float | None = None) -> None:
        """Trade `base` at `price` now, on every timeframe: the candle containing the clock's time
        closes (so far) at `price` with its high/low widened to `high`/`low` (a wick), and every
        later candle is rescaled to continue from `price`. The ticker's last price follows."""
        now = self.clock.ms()
        for timeframe in TIMEFRAME_MS:
            rows = self.series(base, timeframe)
            index = int(np.searchsorted(rows[:, 0], now, side="right")) - 1
            if index < 0:
                continue
            previous = float(rows[index, 4])
            rows[index, 4] = price
            rows[index, 2] = max(float(rows[index, 2]), price, high if high is not None else price)
            rows[index, 3] = min(float(rows[index, 3]), price, low if low is not None else price)
            rows[index + 1 :, 1:5] *= price / previous

    def visible(self, base: str, timeframe: str) -> np.ndarray:
        rows = self.series(base, timeframe)
        return rows[rows[:, 0] <= self.clock.ms()]

    def window(
        self, base: str, timeframe: str, *, start: int | None, end: int | None, limit: int, newest: bool
    ) -> np.ndarray:
        """Rows in [start, end]; the oldest `limit` from `start` if only start is given, else the newest."""
        rows = self.visible(base, timeframe)
        if start is not None:
            rows = rows[rows[:, 0] >= start]
        if end is not None:
            rows = rows[rows[:, 0] <= end]
        if start is not None and end is None and not newest:
            return rows[:limit]
        return rows[-limit:] if limit else rows[:0]

    def last_price(self, base: str) -> float:
        return float(self.visible(base, "1h")[-1, 4])

    def day_stats(self, base: str) -> dict[str, float]:
        rows = self.visible(base, "1h")[-24:]
        last = float(rows[-1, 4])
        prev = float(rows[0, 1])
        volume = float(rows[:, 5].sum())
        return {
            "last": last,
            "prev": prev,
            "high": float(rows[:, 2].max()),
            "low": float(rows[:, 3].min()),
            "volume": volume,
            "turnover": float((rows[:, 5] * rows[:, 4]).sum()),
            "pct": (last - prev) / prev if prev else 0.0,
        }


def fmt(value: float, digits: int = 8) -> str:
    """Exchange-style decimal string without exponent."""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text or "0"


class FakeExchangeServer:
    """Base class: lifecycle, request log, faults. Subclasses add routes and error dialects."""

    name = "fake"

    def __init__(
        self,
        specs: Sequence[SymbolSpec] | None = None,
        *,
        clock: FakeClock | None = None,
        future_candles: int = 600,
        port: int = 0,
    ) -> None:
        self.clock = clock or FakeClock()
        self.port = port
        self.book = MarketBook({s.base: s for s in (specs or default_specs())}, self.clock, future_candles)
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self.url = ""

    # ------------------------------------------------------------------ lifecycle
    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    async def start(self) -> str:
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(self.routes())
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def close(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ faults and counters
    def inject(
        self,
        kind: str,
        *,
        path: str | None = None,
        symbol: str | None = None,
        times: int | None = None,
        delay: float | None = None,
    ) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULT_KINDS}")
        default_delay = 30.0 if kind == "timeout" else 0.0
        fault = Fault(kind, path, symbol, times, default_delay if delay is None else delay)
        self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        self.faults.clear()

    def count(self, path: str | None = None, **query: str) -> int:
        """Requests seen whose path contains `path` and whose query has these values."""
        return sum(
            1
            for r in self.requests
            if (path is None or path in r.path) and all(r.query.get(k) == v for k, v in query.items())
        )

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if path in r.path]

    def reset_counts(self) -> None:
        self.requests.clear()

    def set_price(self, base: str, price: float, *, high: float | None = None, low: float | None = None) -> None:
        """Move the market on command (tests drive alerts with this): see `MarketBook.move`."""
        self.book.move(base, price, high=high, low=low)

    def spec_for_id(self, symbol_id: str | None, *, perp: bool) -> SymbolSpec | None:
        for spec in self.book.specs.values():
            if spec.symbol_id == symbol_id and (spec.perp if perp else spec.spot):
                return spec
        return None

    # ------------------------------------------------------------------ dialect hooks
    def fault_response(self, fault: Fault) -> web.StreamResponse:
        raise NotImplementedError

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        query = dict(request.query)
        self.requests.append(RecordedRequest(request.method, request.path, query, time.monotonic()))
        for fault in self.faults:
            if not fault.matches(request.path, query):
                continue
            if fault.times is not None:
                fault.times -= 1
            if fault.kind in ("latency", "timeout"):
                await self._pause(fault.delay)
                break
            return self.fault_response(fault)
        return await handler(request)  # type: ignore[no-any-return]

    @staticmethod
    def int_param(request: web.Request, name: str) -> int | None:
        value = request.query.get(name)
        return int(value) if value not in (None, "") else None
