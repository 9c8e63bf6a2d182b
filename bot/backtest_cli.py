"""`python -m bot backtest --candles PATH …`: the backtest (services/signals/backtest.py) over recorded
candle files, printed as a table. A problem with the arguments or the files → one line, exit status 2."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the services load only when the command runs (not on the bot's start path)
    from bot.settings import Settings
    from services.signals.backtest import BacktestConfig
    from services.signals.candle_files import CandleSeries

USAGE_ERROR = 2
OPTIONS = ("candles", "strategy", "exchange", "fees", "slippage", "seeds", "periods", "min_signals")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("backtest")
    group.add_argument("--candles", type=Path, help="backtest: an OHLCV file (.json/.csv) or a folder of them")
    group.add_argument("--strategy", default="trend", help="backtest: strategy name (default: trend)")
    group.add_argument(
        "--exchange", default="bybit", help="backtest: whose taker fee from SIGNAL_FEES applies (default: bybit)"
    )
    group.add_argument("--fees", type=float, help="backtest: taker fee, %% per side (default: the exchange's)")
    group.add_argument("--slippage", type=float, help="backtest: slippage, %% per side (default: SIGNAL_SLIPPAGE_PCT)")
    group.add_argument("--seeds", type=int, default=100, help="backtest: random-entry baseline runs")
    group.add_argument("--periods", type=int, default=4, help="backtest: walk-forward periods")
    group.add_argument(
        "--min-signals", type=int, help="backtest: no figure below this sample (PERFORMANCE_MIN_SIGNALS)"
    )


def given(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The backtest options set on the command line (they mean nothing to the other commands)."""
    return ["--" + dest.replace("_", "-") for dest in OPTIONS if getattr(args, dest) != parser.get_default(dest)]


class BacktestArgumentError(Exception):
    """A bad argument or unusable candles: one line for a person."""


def load_series(path: Path) -> tuple[list[CandleSeries], list[str]]:
    """Every series under `path`, and one line per file skipped (a single file that fails is an error)."""
    from services.signals.candle_files import CandleFileError, candle_paths, load_candles

    paths = candle_paths(path)
    series: list[CandleSeries] = []
    skipped: list[str] = []
    for item in paths:
        try:
            series += load_candles(item)
        except CandleFileError as exc:
            if not path.is_dir():
                raise
            skipped.append(f"skipped {exc}")
    if not series:
        raise CandleFileError(f"{path}: no usable candle file")
    return series, skipped


def config_of(args: argparse.Namespace, settings: Settings) -> BacktestConfig:
    """The live costs (SIGNAL_FEES for --exchange, SIGNAL_SLIPPAGE_PCT) unless --fees/--slippage say otherwise."""
    from services.signals.backtest import BacktestConfig
    from services.signals.model import Costs
    from services.signals.outcomes import CostTable
    from services.signals.strategy import STRATEGIES

    if args.candles is None:
        raise BacktestArgumentError("backtest needs --candles PATH (an OHLCV .json/.csv file or a folder)")
    strategy = STRATEGIES.get(args.strategy)
    if strategy is None:
        raise BacktestArgumentError(f"unknown strategy {args.strategy!r} (known: {', '.join(STRATEGIES)})")
    live = CostTable(fees=dict(settings.signal_fees), slippage_pct=settings.signal_slippage_pct)
    live_costs = live.for_exchange(args.exchange)
    fees = live_costs.fee_pct if args.fees is None else args.fees
    slippage = live_costs.slippage_pct if args.slippage is None else args.slippage
    if not (0 <= fees < 10 and 0 <= slippage < 10):
        raise BacktestArgumentError("--fees and --slippage are percent per side, 0 to 10")
    if not (1 <= args.seeds <= 10_000 and 1 <= args.periods <= 100):
        raise BacktestArgumentError("--seeds is 1-10000 and --periods 1-100")
    wanted = args.min_signals if args.min_signals is not None else settings.performance_min_signals
    if wanted < 1:
        raise BacktestArgumentError("--min-signals is at least 1")
    return BacktestConfig(
        strategy=strategy,
        costs=Costs(fee_pct=fees, slippage_pct=slippage),
        seeds=args.seeds,
        periods=args.periods,
        min_signals=wanted,
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from services.signals.backtest import backtest
    from services.signals.backtest_report import format_report
    from services.signals.candle_files import CandleFileError

    try:
        config = config_of(args, settings)
        series, skipped = load_series(args.candles)
    except (BacktestArgumentError, CandleFileError) as exc:
        print(f"backtest: {exc}", file=sys.stderr)
        return USAGE_ERROR
    started = time.perf_counter()
    report = backtest(series, config)
    elapsed = time.perf_counter() - started
    print(format_report(report))
    for line in skipped:
        print(line)
    print(f"\n{report.candles:,} candles in {elapsed:.1f} s ({report.candles / max(elapsed, 1e-9):,.0f} candles/s)")
    return 0
