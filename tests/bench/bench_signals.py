"""Signals engine benchmark: the strategy at one candle close over 200 coins × 2 timeframes.

Run: `python -m tests.bench.bench_signals` (exit status 1 when the target is missed).

What a scan does per coin once its candles are in memory (no network, no database): drop the forming
candle and check that the last closed one is the candle that just closed (`last_closed`), then
`evaluate` (TA-Lib on the arrays). Candles are generated (seeded; trends, ranges, crashes, squeezes),
300 per coin as the market service fetches them, the last one forming. TA-Lib is loaded before the
clock starts (the bot warms it up at start). Timed as the median and the worst of REPEATS runs.
Target (issue 12): ≤ 0.5 s for the whole close. For comparison (no target), the full market
analysis (`services.market.analyze`: levels, divergences, …) over the same candles, which the
strategy does not need and does not run.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from services.market import analyze
from services.market.indicators import warm_up
from services.market.models import Candles
from services.market.timeframes import TIMEFRAME_MS, candle_open
from services.signals.engine import last_closed
from services.signals.strategy import DEFAULT_STRATEGY, evaluate
from standins.exchanges import ending_at, generate_scenario

SYMBOLS, TIMEFRAMES, CANDLES = 200, ("1h", "4h"), 300
REPEATS = 7
LIMIT_S = 0.5
NOW = datetime(2026, 3, 2, 12, 0, 5, tzinfo=UTC)  # 5 s after a 4h (and 1h) close
SCENARIOS = (
    [("range", 150), ("up", 150)],
    [("range", 150), ("down", 150)],
    [("range", 300)],
    [("up", 280), ("crash", 20)],
    [("range", 150), ("squeeze", 150)],
    [("random", 300)],
)


@dataclass(frozen=True, slots=True)
class Row:
    figure: str
    value: float
    unit: str
    limit: float | None = None

    @property
    def ratio(self) -> float | None:
        return self.value / self.limit if self.limit else None

    @property
    def ok(self) -> bool:
        return self.limit is None or self.value <= self.limit


def market(now_ms: int) -> list[tuple[str, Candles]]:
    """Every coin's candles on every timeframe, the last one forming at `now_ms`."""
    out: list[tuple[str, Candles]] = []
    for i in range(SYMBOLS):
        for timeframe in TIMEFRAMES:
            rows = generate_scenario(SCENARIOS[i % len(SCENARIOS)], seed=i, timeframe=timeframe)[-CANDLES:]
            rows = ending_at(rows, candle_open(now_ms, timeframe), timeframe)
            symbol = f"C{i:03d}"
            out.append(
                (symbol, Candles.from_array(rows, exchange="bybit", symbol=f"{symbol}/USDT", timeframe=timeframe))
            )
    return out


def one_close(coins: list[tuple[str, Candles]], now_ms: int) -> int:
    signals = 0
    for symbol, candles in coins:
        closed = last_closed(candles, now_ms)
        if closed is not None and evaluate(closed, symbol=symbol, config=DEFAULT_STRATEGY) is not None:
            signals += 1
    return signals


def bench() -> tuple[list[Row], int]:
    now_ms = int(NOW.timestamp() * 1000)
    assert all(now_ms % TIMEFRAME_MS[tf] < 60_000 for tf in TIMEFRAMES)
    coins = market(now_ms)
    warm_up()
    signals = one_close(coins, now_ms)
    timings: list[float] = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        one_close(coins, now_ms)
        timings.append(time.perf_counter() - started)
    median = statistics.median(timings)
    per_coin = median / len(coins) * 1e6
    analyses: list[float] = []
    for _ in range(3):
        started = time.perf_counter()
        for _symbol, candles in coins:
            analyze(candles)
        analyses.append(time.perf_counter() - started)
    return [
        Row(f"one close, {SYMBOLS} coins × {len(TIMEFRAMES)} tf (median)", median * 1000, "ms", LIMIT_S * 1000),
        Row(f"one close, worst of {REPEATS}", max(timings) * 1000, "ms", LIMIT_S * 1000),
        Row("per coin and timeframe", per_coin, "µs"),
        Row("full analyze() instead, per coin (not used)", statistics.median(analyses) / len(coins) * 1e6, "µs"),
    ], signals


def main() -> int:
    rows, signals = bench()
    width = max(len(r.figure) for r in rows)
    print(f"signals engine: {SYMBOLS} coins × {len(TIMEFRAMES)} timeframes × {CANDLES} candles, {signals} signals")
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
