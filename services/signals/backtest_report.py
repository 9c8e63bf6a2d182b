"""The backtest report as plain text for a terminal (`python -m bot backtest`, the benchmark).

Figures as in /performance (services/signals/performance.py): after costs, each with its sample;
"too few" below the minimum sample, "n/a" where a figure is undefined (e.g. a profit factor without
a losing signal). The baseline column is the mean ± standard deviation over the random-entry seeds
(and in how many seeds the figure was defined).
"""

from __future__ import annotations

from services.signals.backtest import FIGURES, BacktestReport, Spread, Table
from services.signals.performance import Figure

LABELS = {
    "win_rate": "win rate",
    "average_r": "average R",
    "profit_factor": "profit factor",
    "expectancy_pct": "expectancy (% per signal)",
    "max_drawdown_r": "max drawdown (R)",
    "sharpe": "Sharpe (per signal)",
    "sortino": "Sortino (per signal)",
    "kelly": "Kelly fraction",
}
PERCENT = ("win_rate", "kelly")


def number(name: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    if name in PERCENT:
        return f"{value * 100:.1f} %"
    if name in ("average_r", "expectancy_pct"):
        return f"{value:+.3f}"
    return f"{value:.3f}" if name in ("sharpe", "sortino") else f"{value:.2f}"


def figure_cell(name: str, figure: Figure | None) -> str:
    if figure is None:
        return "too few"
    return f"{number(name, figure.value)} (n={figure.sample})"


def spread_cell(name: str, spread: Spread, spread_only: bool = False) -> str:
    if spread.mean is None or spread.stdev is None:
        return "n/a"
    if name in PERCENT:
        text = f"{spread.mean * 100:.1f} % ± {spread.stdev * 100:.1f}"
    elif name == "trades":
        text = f"{spread.mean:.1f} ± {spread.stdev:.1f}"
    else:
        text = f"{number(name, spread.mean)} ± {spread.stdev:.3f}"
    return text if spread_only else f"{text} ({spread.runs})"


def table_lines(table: Table) -> list[str]:
    result = table.strategy
    lines = [
        f"{table.label:<28} {'strategy':<26} random entries, mean ± sd (seeds)",
        f"{'signals graded':<28} {result.trades:<26} {spread_cell('trades', table.baseline_trades)}",
    ]
    if not result.enough:
        lines.append(
            f"{'':<28} too few signals for figures ({result.trades} < {result.min_signals}): the sample "
            "is too small to mean anything"
        )
    for name in FIGURES:
        cell = figure_cell(name, getattr(result, name))
        lines.append(f"{LABELS[name]:<28} {cell:<26} {spread_cell(name, table.baseline[name])}")
    return lines


def _value(figure: Figure | None) -> float | None:
    return figure.value if figure is not None else None


def period_line(table: Table) -> str:
    result = table.strategy
    if not result.enough:
        figures = f"too few ({result.trades} < {result.min_signals})"
    else:
        figures = "  ".join(
            f"{LABELS[name].split(' (')[0]} {number(name, _value(getattr(result, name)))}"
            for name in ("win_rate", "average_r", "profit_factor", "max_drawdown_r")
        )
    random_r = spread_cell("average_r", table.baseline["average_r"], spread_only=True)
    return f"{table.label:<14} n={result.trades:<5} {figures:<70} random average R {random_r}"


def format_report(report: BacktestReport, *, per_series: bool = True) -> str:
    config = report.config
    costs = config.costs
    runs = [run for run in report.runs if not run.skipped]
    graded = sum(len(run.graded) for run in runs)
    still_open = sum(run.still_open for run in runs)
    lines = [
        f"Backtest of strategy {config.strategy.name} v{config.strategy.version}: costs per side "
        f"fee {costs.fee_pct:.3f} % + slippage {costs.slippage_pct:.3f} %; baseline {config.seeds} seeds; "
        f"{config.periods} walk-forward periods; figures need ≥ {config.min_signals} signals.",
        f"{len(runs)} series, {report.candles:,} candles; {graded} signals graded, {still_open} still open "
        "when the data ended (left out). Past results on recorded data, not a promise.",
        "",
        *table_lines(report.overall),
        "",
        "walk-forward (each period out of sample: nothing is fitted)",
        *(period_line(table) for table in report.periods),
    ]
    for table in report.periods:  # the full table of each period with figures (the line above says too few)
        if table.strategy.enough:
            lines += ["", *table_lines(table)]
    if per_series:
        lines += ["", f"{'series':<44} {'tf':<4} {'candles':>7} {'signals':>7} {'open':>4}"]
        for run in report.runs:
            if run.skipped:
                lines.append(f"{run.source[-44:]:<44} {run.timeframe:<4} {run.candles:>7} skipped: {run.skipped}")
                continue
            lines.append(
                f"{run.source[-44:]:<44} {run.timeframe:<4} {run.candles:>7} {len(run.graded):>7} {run.still_open:>4}"
            )
    return "\n".join(lines)
