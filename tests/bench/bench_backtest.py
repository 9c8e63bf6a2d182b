"""Backtest benchmark over real recorded candles: ../shared/data/ohlcv beside the repository
(or SHARED_DATA=<folder holding ohlcv/>); skipped cleanly when absent.

Run: `python -m tests.bench.bench_backtest`. Prints the track-record table of the strategy next to the
random-entry baseline, overall, per walk-forward period and per series, and the speed in candles per
second. Nothing about the results is asserted: a strategy is not required to be profitable, only
honestly measured. Exit status 1 only when the data is there but the backtest cannot read any of it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from services.signals.backtest import BacktestConfig, backtest
from services.signals.backtest_report import format_report
from services.signals.candle_files import CandleFileError, CandleSeries, candle_paths, load_candles

ROOT = Path(__file__).resolve().parents[2]
SEEDS = 50


def data_folder() -> Path:
    shared = Path(os.environ["SHARED_DATA"]) if os.environ.get("SHARED_DATA") else ROOT.parent / "shared" / "data"
    return shared / "ohlcv"


def main() -> int:
    folder = data_folder()
    if not folder.is_dir():
        print(f"skipped: {folder} not found (set SHARED_DATA to the shared data folder)")
        return 0
    series: list[CandleSeries] = []
    for path in candle_paths(folder):
        try:
            series += load_candles(path)
        except CandleFileError as exc:
            print(f"not a candle series: {exc}")
    if not series:
        print(f"FAIL: no readable candle series under {folder}")
        return 1
    config = BacktestConfig(seeds=SEEDS)
    started = time.perf_counter()
    report = backtest(series, config)
    elapsed = time.perf_counter() - started
    print(format_report(report))
    strategy_only = BacktestConfig(seeds=0)
    started = time.perf_counter()
    backtest(series, strategy_only)
    decide_s = time.perf_counter() - started
    print(
        f"\n{report.candles:,} candles: {elapsed:.1f} s with a {SEEDS}-seed baseline "
        f"({report.candles / elapsed:,.0f} candles/s); strategy and grading alone {decide_s:.1f} s "
        f"({report.candles / decide_s:,.0f} candles/s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
