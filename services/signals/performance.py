"""The track record: statistics of graded signals, recomputable by anyone from the `signals` rows.

Pure functions over plain rows (no database, no aiogram). The input is the closed signals of a scope
(coin, timeframe, period), oldest close first: stored `SignalRecord`s (`trades_of_records`) or a
backtest's outcomes (`trade_of_outcome`). Every figure is after costs (fees and slippage), as graded.

Definitions (R = one risk unit |entry − stop|; a row's `result_r` is its result in R after costs):
- signals: closed signals in scope (tp, sl, expired). A manual limit entry that was never filled
  (expired with `exit_price` NULL) is no trade: it is counted as `unfilled` and left out of every
  figure below. The figures are over the n filled signals ("trades").
- win: a trade whose result after costs is > 0 R (a target hit whose profit the costs ate, or an
  expiry below entry, is not a win); loss: < 0 R; a result of exactly 0 R is neither.
- win rate = wins / n.
- average R = (Σ R) / n.
- profit factor = gross win / gross loss = Σ R over wins / |Σ R over losses|; no figure without a
  losing trade (it would be infinite).
- expectancy = (Σ result_pct) / n: the average percent of the traded amount a signal returned after
  costs (`outcome_pct`). Average R is the same average in risk units.
- max drawdown = the largest drop of the cumulative R curve (starting at 0, in close order) from its
  running peak: max over t of (max(0, C_1..C_t) − C_t), in R, ≥ 0.
- Sharpe = mean R / sample standard deviation of R (n − 1); per signal, NOT annualised.
- Sortino = mean R / downside deviation, sqrt(Σ min(R, 0)² / n) (target 0); per signal, NOT
  annualised; no figure without a losing trade.
- Kelly fraction = W − (1 − W) / P with W the win rate and P the payoff ratio (average win R /
  average |loss R|); no figure without both a win and a loss. A negative value means: no edge.

Each figure carries its sample size. Below `min_signals` trades there are no figures at all
(`Performance.enough` is False): the texts say the sample is too small instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from services.signals.model import Outcome, SignalRecord

DEFAULT_MIN_SIGNALS = 20


@dataclass(frozen=True, slots=True)
class Trade:
    """One closed signal as the statistics see it."""

    result_r: float  # after costs
    result_pct: float  # after costs
    filled: bool = True  # False: a limit entry never reached (no trade)


@dataclass(frozen=True, slots=True)
class Figure:
    value: float | None  # None: undefined for this sample (e.g. a profit factor without losses)
    sample: int  # the trades it is computed from


@dataclass(frozen=True, slots=True, kw_only=True)
class Performance:
    signals: int  # closed signals in scope
    trades: int  # filled ones: the sample of every figure
    unfilled: int
    wins: int
    losses: int
    min_signals: int
    win_rate: Figure | None = None  # a share 0-1; None below min_signals
    average_r: Figure | None = None
    profit_factor: Figure | None = None
    expectancy_pct: Figure | None = None
    max_drawdown_r: Figure | None = None
    sharpe: Figure | None = None
    sortino: Figure | None = None
    kelly: Figure | None = None
    total_r: Figure | None = None

    @property
    def enough(self) -> bool:
        return self.trades >= self.min_signals


def trades_of_records(records: Iterable[SignalRecord]) -> list[Trade]:
    """The trades of stored closed signals (open ones are skipped), in the order given."""
    trades = []
    for record in records:
        if record.status == "open" or record.result_r is None:
            continue
        filled = not (record.status == "expired" and record.exit_price is None)
        trades.append(Trade(record.result_r, record.outcome_pct or 0.0, filled))
    return trades


def trade_of_outcome(outcome: Outcome) -> Trade:
    filled = not (outcome.status == "expired" and outcome.exit_price is None)
    return Trade(outcome.result_r, outcome.result_pct, filled)


def max_drawdown(results: Sequence[float]) -> float:
    equity = peak = drawdown = 0.0
    for value in results:
        equity += value
        peak = max(peak, equity)
        drawdown = max(drawdown, peak - equity)
    return drawdown


def _sharpe(results: Sequence[float], mean: float) -> float | None:
    if len(results) < 2:
        return None
    variance = sum((value - mean) ** 2 for value in results) / (len(results) - 1)
    return mean / math.sqrt(variance) if variance > 0 else None


def _sortino(results: Sequence[float], mean: float) -> float | None:
    downside = math.sqrt(sum(min(value, 0.0) ** 2 for value in results) / len(results))
    return mean / downside if downside > 0 else None


def performance(trades: Sequence[Trade], *, min_signals: int = DEFAULT_MIN_SIGNALS) -> Performance:
    """The track record of `trades` (oldest close first)."""
    filled = [trade for trade in trades if trade.filled]
    results = [trade.result_r for trade in filled]
    n = len(results)
    gains = [value for value in results if value > 0]
    losses = [value for value in results if value < 0]
    base = Performance(
        signals=len(trades),
        trades=n,
        unfilled=len(trades) - n,
        wins=len(gains),
        losses=len(losses),
        min_signals=min_signals,
    )
    if n == 0 or n < min_signals:
        return base
    mean = sum(results) / n
    win_rate = len(gains) / n
    gross_loss = -sum(losses)
    kelly = None
    if gains and losses:
        payoff = (sum(gains) / len(gains)) / (gross_loss / len(losses))
        kelly = win_rate - (1 - win_rate) / payoff
    return Performance(
        signals=base.signals,
        trades=n,
        unfilled=base.unfilled,
        wins=base.wins,
        losses=base.losses,
        min_signals=min_signals,
        win_rate=Figure(win_rate, n),
        average_r=Figure(mean, n),
        profit_factor=Figure(sum(gains) / gross_loss if gross_loss > 0 else None, n),
        expectancy_pct=Figure(sum(trade.result_pct for trade in filled) / n, n),
        max_drawdown_r=Figure(max_drawdown(results), n),
        sharpe=Figure(_sharpe(results, mean), n),
        sortino=Figure(_sortino(results, mean), n),
        kelly=Figure(kelly, n),
        total_r=Figure(sum(results), n),
    )
