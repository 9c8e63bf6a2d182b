"""The backtest: the live strategy and the live outcome rules over recorded candles, next to a
random-entry baseline, so an edge — or its absence — is visible.

Per series (one coin, one timeframe, oldest first):
- Decisions, candle by candle: at the close of candle i (time `now` = its open + timeframe) the
  strategy's `evaluate` gets the last `window` candles that have closed by `now` — the slice is
  taken up to and including the next, still forming candle, and `closed_only(…, now)` drops it, as
  the live engine does with an exchange's list. No decision can see a later candle.
- As live: no new signal for a direction while one is open for it (open = not yet graded at `now`).
- Grading: `grade` (services/signals/outcomes.py) with the same costs for every signal, over the
  whole series; a signal still open when the data ends is counted as `open` and left out.
- Baseline, per seed: as many entries as the strategy made in each walk-forward period of the
  series (the same rate), at random decision candles of that period (uniform over the candles the
  strategy could decide at, without repeats), each a random direction; entry = that candle's close,
  stop = `stop_atr` × ATR14 (the strategy's stop rule, ATR up to that candle), targets at the
  strategy's R multiples, the same validity and costs, graded by the same `grade`. Reported as the
  mean ± standard deviation of each figure over seeds.
- Walk-forward: the strategy's rules are fixed (nothing is fitted), so every period is out of
  sample; each series is cut into `periods` consecutive spans of equal candle count, a signal
  belongs to the span of its decision candle, and span k of every series makes period k.
Figures (services/signals/performance.py) are over the signals in close order, all series merged.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from services.market.indicators import ta
from services.market.models import Candles, ms_to_datetime
from services.signals.candle_files import CandleSeries
from services.signals.model import Costs, Outcome, SignalIdea
from services.signals.outcomes import grade
from services.signals.performance import DEFAULT_MIN_SIGNALS, Performance, Trade, performance, trade_of_outcome
from services.signals.strategy import DEFAULT_STRATEGY, StrategyConfig, closed_only, evaluate, timeframe_ms

Evaluate = Callable[..., SignalIdea | None]
FIGURES = ("win_rate", "average_r", "profit_factor", "expectancy_pct", "max_drawdown_r", "sharpe", "sortino", "kelly")


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestConfig:
    strategy: StrategyConfig = DEFAULT_STRATEGY
    costs: Costs = field(default_factory=Costs)
    seeds: int = 100  # random-entry baseline runs
    periods: int = 4  # walk-forward spans per series
    min_signals: int = DEFAULT_MIN_SIGNALS


@dataclass(frozen=True, slots=True, kw_only=True)
class Graded:
    idea: SignalIdea
    outcome: Outcome
    index: int  # the decision candle
    period: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesRun:
    source: str
    symbol: str
    timeframe: str
    candles: int
    graded: list[Graded]  # the strategy's signals, graded
    still_open: int  # signals the data ended before deciding
    baselines: list[list[Graded]]  # one list per seed
    skipped: str = ""  # why no decision was made (e.g. too few candles)


@dataclass(frozen=True, slots=True)
class Spread:
    mean: float | None
    stdev: float | None
    runs: int  # seeds where the figure was defined


@dataclass(frozen=True, slots=True, kw_only=True)
class Table:
    label: str
    strategy: Performance
    baseline: dict[str, Spread]  # figure name → mean ± spread over seeds
    baseline_trades: Spread


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestReport:
    config: BacktestConfig
    runs: list[SeriesRun]
    overall: Table
    periods: list[Table]
    candles: int  # decided over (all series)


def _window_end(candles: Candles, i: int) -> int:
    """The slice end that includes candle i (closed) and the next one (forming, dropped by closed_only)."""
    return min(i + 2, len(candles))


def decide(
    candles: Candles, *, coin: str, config: StrategyConfig, evaluator: Evaluate = evaluate
) -> list[tuple[int, SignalIdea]]:
    """(decision candle index, idea) at every close, fed one candle at a time (see the module docstring)."""
    step = timeframe_ms(candles.timeframe)
    ideas = []
    for i in range(config.min_candles - 1, len(candles)):
        now_ms = int(candles.timestamp[i]) + step
        visible = closed_only(candles.take(slice(max(0, i + 1 - config.window), _window_end(candles, i))), now_ms)
        idea = evaluator(visible, symbol=coin, config=config)
        if idea is not None:
            ideas.append((i, idea))
    return ideas


def _period(index: int, count: int, periods: int) -> int:
    return min(periods - 1, index * periods // max(count, 1))


def _grade_all(
    ideas: Sequence[tuple[int, SignalIdea]], candles: Candles, config: BacktestConfig, *, one_open: bool
) -> tuple[list[Graded], list[int]]:
    """The graded signals, and the decision candles of those still open when the data ends."""
    end = ms_to_datetime(int(candles.timestamp[-1]) + timeframe_ms(candles.timeframe))
    busy: dict[str, float] = {}  # direction → close time (ms) of its open signal
    graded: list[Graded] = []
    still_open: list[int] = []
    for index, idea in ideas:
        at = idea.signal_at.timestamp()
        if one_open and busy.get(idea.direction, -math.inf) > at:
            continue
        outcome = grade(idea, candles, config.costs, now=end)
        if outcome is None:
            still_open.append(index)
            busy[idea.direction] = math.inf
            continue
        busy[idea.direction] = outcome.exit_at.timestamp()
        period = _period(index, len(candles), config.periods)
        graded.append(Graded(idea=idea, outcome=outcome, index=index, period=period))
    return graded, still_open


def eligible_by_period(candles: Candles, periods: int, *, config: StrategyConfig, atr: np.ndarray) -> list[list[int]]:
    """The candles a decision could be made at (warmed up, a usable ATR), per walk-forward period."""
    spans: list[list[int]] = [[] for _ in range(periods)]
    for i in range(config.min_candles - 1, len(candles)):
        if math.isfinite(atr[i]) and atr[i] > 0:
            spans[_period(i, len(candles), periods)].append(i)
    return spans


def baseline_ideas(
    candles: Candles,
    counts: Sequence[int],
    eligible: Sequence[Sequence[int]],
    rng: random.Random,
    *,
    coin: str,
    config: StrategyConfig,
    atr: np.ndarray,
) -> list[tuple[int, SignalIdea]]:
    """`counts[k]` random entries among `eligible[k]` (walk-forward period k, at the strategy's own rate
    there), with the strategy's stop, targets and validity (see the module docstring)."""
    step = timeframe_ms(candles.timeframe)
    chosen: list[int] = []
    for count, span in zip(counts, eligible, strict=True):
        chosen += rng.sample(span, min(count, len(span)))
    ideas = []
    for i in sorted(chosen):
        side = rng.choice((1, -1))
        price, risk = float(candles.close[i]), config.stop_atr * float(atr[i])
        targets = tuple(price + side * r * risk for r in config.targets_r)
        if price - side * risk <= 0 or min(targets) <= 0:
            continue
        signal_at = ms_to_datetime(int(candles.timestamp[i]) + step)
        ideas.append(
            (
                i,
                SignalIdea(
                    symbol=coin,
                    exchange=candles.exchange,
                    timeframe=candles.timeframe,
                    direction="long" if side > 0 else "short",
                    entry=price,
                    stop=price - side * risk,
                    targets=targets,
                    confidence=0,
                    reason=("random",),
                    signal_at=signal_at,
                    valid_until=signal_at + timedelta(milliseconds=step * config.valid_candles),
                    strategy="random",
                    version="baseline",
                ),
            )
        )
    return ideas


def run_series(series: CandleSeries, config: BacktestConfig, *, evaluator: Evaluate = evaluate) -> SeriesRun:
    candles = series.candles

    def skip(reason: str) -> SeriesRun:
        return SeriesRun(
            source=series.source,
            symbol=series.symbol,
            timeframe=series.timeframe,
            candles=len(candles),
            graded=[],
            still_open=0,
            baselines=[],
            skipped=reason,
        )

    try:
        timeframe_ms(candles.timeframe)
    except ValueError:
        return skip("irregular candle spacing")
    if len(candles) <= config.strategy.min_candles:
        return skip("too few candles")
    ideas = decide(candles, coin=series.coin, config=config.strategy, evaluator=evaluator)
    graded, still_open = _grade_all(ideas, candles, config, one_open=True)
    counts = [0] * config.periods  # the strategy's entries per period (open ones too): the baseline's rate
    for index in [item.index for item in graded] + still_open:
        counts[_period(index, len(candles), config.periods)] += 1
    atr = ta().ATR(candles.high, candles.low, candles.close, config.strategy.atr_period)
    spans = eligible_by_period(candles, config.periods, config=config.strategy, atr=atr)
    baselines = []
    for seed in range(config.seeds):
        rng = random.Random(f"{series.source}:{seed}")
        picks = baseline_ideas(candles, counts, spans, rng, coin=series.coin, config=config.strategy, atr=atr)
        baselines.append(_grade_all(picks, candles, config, one_open=False)[0])
    return SeriesRun(
        source=series.source,
        symbol=series.symbol,
        timeframe=series.timeframe,
        candles=len(candles),
        graded=graded,
        still_open=len(still_open),
        baselines=baselines,
    )


def _performance(graded: Sequence[Graded], min_signals: int) -> Performance:
    ordered = sorted(graded, key=lambda item: (item.outcome.exit_at, item.idea.signal_at))
    trades: list[Trade] = [trade_of_outcome(item.outcome) for item in ordered]
    return performance(trades, min_signals=min_signals)


def _spread(values: Sequence[float | None]) -> Spread:
    known = [value for value in values if value is not None]
    if not known:
        return Spread(None, None, 0)
    return Spread(statistics.fmean(known), statistics.stdev(known) if len(known) > 1 else 0.0, len(known))


def _table(label: str, runs: Sequence[SeriesRun], config: BacktestConfig, period: int | None) -> Table:
    def pick(items: Sequence[Graded]) -> list[Graded]:
        return [item for item in items if period is None or item.period == period]

    strategy = _performance([g for run in runs for g in pick(run.graded)], config.min_signals)
    seeds: list[Performance] = []
    for seed in range(config.seeds):
        merged = [g for run in runs if run.baselines for g in pick(run.baselines[seed])]
        seeds.append(_performance(merged, config.min_signals))
    baseline = {}
    for name in FIGURES:
        figures = [getattr(result, name) for result in seeds]
        baseline[name] = _spread([figure.value if figure is not None else None for figure in figures])
    trades = _spread([float(result.trades) for result in seeds])
    return Table(label=label, strategy=strategy, baseline=baseline, baseline_trades=trades)


def backtest(
    series: Sequence[CandleSeries], config: BacktestConfig, *, evaluator: Evaluate = evaluate
) -> BacktestReport:
    runs = [run_series(item, config, evaluator=evaluator) for item in series]
    periods = [_table(f"period {k + 1}/{config.periods}", runs, config, k) for k in range(config.periods)]
    decided = sum(run.candles for run in runs if not run.skipped)
    return BacktestReport(
        config=config, runs=runs, overall=_table("overall", runs, config, None), periods=periods, candles=decided
    )
