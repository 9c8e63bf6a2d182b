"""Market benchmarks: exchange fan-in, scan compute (TA-Lib vs a pandas baseline), chart rendering.

Run: `python -m tests.bench.bench_market` (exit status 1 when a target is missed).

* fan-in: 1,000 concurrent candle requests over 20 symbols against the fake Bybit (real ccxt over
  HTTP, with ccxt's rate limiter as the bot configures it: a rolling window of the exchange's own
  rate) → exchange kline requests (single flight + cache) and latency; then the same candle requests
  with ccxt's default limiter (a leaky bucket) for comparison;
* scan: indicators + analysis for 200 symbols × 2 timeframes × 500 candles, and the same indicators
  written with pandas rolling/ewm for comparison; each timed as the median of SCAN_REPEATS runs;
* charts: render time of a 1280×900 PNG (last 120 of 500 candles).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from services.market import Candles, analyze, render_chart
from services.market.indicators import compute_indicators
from standins.exchanges import MarketEnv, default_specs, generate_ohlcv, market_env

SYMBOLS = 20
REQUESTS = 1_000
SCAN_SYMBOLS, SCAN_TIMEFRAMES, SCAN_CANDLES = 200, ("1h", "4h"), 500
SCAN_REPEATS = 5
# ccxt's own default rate limiter, instead of the rolling window the bot configures.
CCXT_DEFAULT_LIMITER: dict[str, dict[str, object]] = {
    "*": {"rateLimiterAlgorithm": "leakyBucket", "rollingWindowSize": 0.0}
}
CHART_RENDERS = 15


@dataclass
class Row:
    figure: str
    value: float
    limit: float | None
    unit: str

    @property
    def ratio(self) -> float | None:
        return self.value / self.limit if self.limit else None

    @property
    def ok(self) -> bool:
        return self.limit is None or self.value <= self.limit


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


# ----------------------------------------------------------------------------------- fan-in
async def candle_requests(env: MarketEnv, bases: list[str]) -> tuple[int, list[float], float]:
    """1,000 concurrent candle requests: (kline requests to the exchange, latencies s, wall time s)."""
    env.bybit.reset_counts()
    latencies: list[float] = []

    async def one(i: int) -> None:
        started = time.perf_counter()
        candles = await env.service.candles(bases[i % len(bases)], "1h")
        latencies.append(time.perf_counter() - started)
        assert len(candles) == 300

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(REQUESTS)))
    return env.bybit.count("/v5/market/kline"), latencies, time.perf_counter() - started


async def bench_fan_in() -> list[Row]:
    specs = default_specs()[:SYMBOLS]
    bases = [spec.base for spec in specs]
    # ccxt_config={}: ccxt's limiter exactly as the bot configures it (no test speed-ups).
    async with market_env(bybit_specs=specs, exchanges=("bybit",), ccxt_config={}, timeout_ms=10_000) as env:
        klines, latencies, wall = await candle_requests(env, bases)

        # the chat path: snapshots (candles + ticker + funding/OI + analysis), again 1,000 at once
        env.clock.advance(3600)  # a new candle: the cache must refresh (incrementally)
        env.bybit.reset_counts()
        snap_latencies: list[float] = []

        async def snap(i: int) -> None:
            started = time.perf_counter()
            await env.service.snapshot(bases[i % len(bases)], "1h")
            snap_latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(snap(i) for i in range(REQUESTS)))
        snapshot_requests = len(env.bybit.requests)
    async with market_env(
        bybit_specs=specs, exchanges=("bybit",), ccxt_config=CCXT_DEFAULT_LIMITER, timeout_ms=10_000
    ) as env:
        default_klines, default_latencies, default_wall = await candle_requests(env, bases)
    return [
        Row(f"fan-in: kline requests for {REQUESTS} candle requests / {SYMBOLS} symbols", klines, SYMBOLS, ""),
        Row("fan-in: candle request latency p95", percentile(latencies, 95) * 1000, None, "ms"),
        Row("fan-in: wall time for all requests", wall * 1000, None, "ms"),
        Row(f"fan-in: exchange requests for {REQUESTS} snapshots (next candle)", snapshot_requests, 4 * SYMBOLS, ""),
        Row("fan-in: snapshot latency p95", percentile(snap_latencies, 95) * 1000, None, "ms"),
        Row("fan-in, ccxt default limiter: kline requests", default_klines, SYMBOLS, ""),
        Row("fan-in, ccxt default limiter: latency p95", percentile(default_latencies, 95) * 1000, None, "ms"),
        Row("fan-in, ccxt default limiter: wall time", default_wall * 1000, None, "ms"),
    ]


# ----------------------------------------------------------------------------------- scan
def pandas_indicators(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """The same indicators with pandas rolling/ewm (Wilder smoothing as alpha = 1/n)."""
    close, high, low, volume = frame["close"], frame["high"], frame["low"], frame["volume"]
    out: dict[str, pd.Series] = {}
    for span in (20, 50, 200):
        out[f"ema{span}"] = close.ewm(span=span, adjust=False).mean()
    macd = close.ewm(span=12, adjust=False).mean() - close.ewm(span=26, adjust=False).mean()
    out["macd"] = macd
    out["macd_signal"] = macd.ewm(span=9, adjust=False).mean()
    out["macd_hist"] = macd - out["macd_signal"]
    delta = close.diff()
    for period in (7, 14):
        gain = delta.clip(lower=0).ewm(alpha=1 / period, adjust=False).mean()
        loss = (-delta.clip(upper=0)).ewm(alpha=1 / period, adjust=False).mean()
        out[f"rsi{period}"] = 100 - 100 / (1 + gain / loss)
    previous = close.shift()
    true_range = pd.concat([high - low, (high - previous).abs(), (low - previous).abs()], axis=1).max(axis=1)
    out["atr"] = true_range.ewm(alpha=1 / 14, adjust=False).mean()
    middle = close.rolling(20).mean()
    std = close.rolling(20).std(ddof=0)
    out["bb_upper"], out["bb_middle"], out["bb_lower"] = middle + 2 * std, middle, middle - 2 * std
    out["volume_sma20"] = volume.rolling(20).mean()
    return out


def timed(work: Callable[[], object], repeat: int = SCAN_REPEATS) -> float:
    """The median wall time of `repeat` runs (every contender is timed the same way)."""
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def bench_scan() -> list[Row]:
    datasets = [
        Candles.from_array(
            generate_ohlcv(SCAN_CANDLES, seed=s * 7 + t, regime=("up", "down", "range", "random")[s % 4], timeframe=tf),
            exchange="bench",
            symbol=f"S{s}/USDT",
            timeframe=tf,
        )
        for s in range(SCAN_SYMBOLS)
        for t, tf in enumerate(SCAN_TIMEFRAMES)
    ]
    frames = [
        pd.DataFrame({"open": c.open, "high": c.high, "low": c.low, "close": c.close, "volume": c.volume})
        for c in datasets
    ]
    count = len(datasets)
    full = timed(lambda: [analyze(c) for c in datasets])
    talib_only = timed(lambda: [compute_indicators(c) for c in datasets])
    pandas_only = timed(lambda: [pandas_indicators(f) for f in frames])
    runs = f"median of {SCAN_REPEATS}"
    return [
        Row(f"scan: indicators + analysis, {count} × {SCAN_CANDLES} candles ({runs})", full * 1000, 500.0, "ms"),
        Row("scan: per analysis", full / count * 1e6, None, "µs"),
        Row(f"scan: indicators only, TA-Lib/numpy ({runs})", talib_only * 1000, None, "ms"),
        Row(f"scan: indicators only, pandas rolling/ewm ({runs})", pandas_only * 1000, None, "ms"),
        Row("scan: pandas / TA-Lib indicator time (×)", pandas_only / talib_only, None, "×"),
    ]


# ----------------------------------------------------------------------------------- charts
def bench_charts() -> list[Row]:
    candles = Candles.from_array(generate_ohlcv(500, seed=3, start_price=60_000), exchange="bybit",
                                 symbol="BTC/USDT", timeframe="1h")  # fmt: skip
    analysis = analyze(candles)
    render_chart(candles, analysis, symbol="BTC/USDT", timeframe="1h", exchange="bybit")  # imports, fonts
    timings = []
    size = 0
    for _ in range(CHART_RENDERS):
        started = time.perf_counter()
        size = len(render_chart(candles, analysis, symbol="BTC/USDT", timeframe="1h", exchange="bybit"))
        timings.append(time.perf_counter() - started)
    return [
        Row("chart render p50", statistics.median(timings) * 1000, 500.0, "ms"),
        Row("chart render p95", percentile(timings, 95) * 1000, 500.0, "ms"),
        Row("chart PNG size", size / 1024, None, "KiB"),
    ]


def main() -> int:
    rows = asyncio.run(bench_fan_in()) + bench_scan() + bench_charts()
    width = max(len(r.figure) for r in rows)
    print(f"{'figure':<{width}}  {'value':>10} {'unit':<4}  {'limit':>8}  {'ratio':>6}  ok")
    print("-" * (width + 41))
    for r in rows:
        limit = f"{r.limit:g}" if r.limit is not None else "-"
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
        mark = "" if r.limit is None else ("yes" if r.ok else "MISS")
        print(f"{r.figure:<{width}}  {r.value:>10.1f} {r.unit:<4}  {limit:>8}  {ratio:>6}  {mark}")
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
