"""Track-record figures on small hand-checked samples, and no figure at all below the minimum sample."""

from __future__ import annotations

import math

import pytest

from services.signals.performance import Trade, max_drawdown, performance

# Three wins (+2, +1, +0.5 R), two losses (-1, -1 R), one flat (0 R), one unfilled limit entry.
SAMPLE = [
    Trade(2.0, 4.0),
    Trade(-1.0, -2.0),
    Trade(1.0, 2.0),
    Trade(0.0, 0.0),
    Trade(-1.0, -2.0),
    Trade(0.5, 1.0),
    Trade(0.0, 0.0, filled=False),
]


def test_figures_match_their_documented_formulas() -> None:
    result = performance(SAMPLE, min_signals=6)
    assert (result.signals, result.trades, result.unfilled, result.wins, result.losses) == (7, 6, 1, 3, 2)
    assert result.enough
    figures = (result.win_rate, result.average_r, result.profit_factor, result.expectancy_pct)
    assert all(figure is not None and figure.sample == 6 for figure in figures)
    assert result.win_rate is not None and result.win_rate.value == pytest.approx(0.5)
    assert result.average_r is not None and result.average_r.value == pytest.approx(1.5 / 6)
    assert result.profit_factor is not None and result.profit_factor.value == pytest.approx(3.5 / 2)
    assert result.expectancy_pct is not None and result.expectancy_pct.value == pytest.approx(3.0 / 6)
    # equity 2, 1, 2, 2, 1, 1.5: peak 2, lowest after it 1
    assert result.max_drawdown_r is not None and result.max_drawdown_r.value == pytest.approx(1.0)
    mean = 0.25
    stdev = math.sqrt(sum((r - mean) ** 2 for r in (2, -1, 1, 0, -1, 0.5)) / 5)
    assert result.sharpe is not None and result.sharpe.value == pytest.approx(mean / stdev)
    assert result.sortino is not None and result.sortino.value == pytest.approx(mean / math.sqrt(2 / 6))
    payoff = (3.5 / 3) / 1.0
    assert result.kelly is not None and result.kelly.value == pytest.approx(0.5 - 0.5 / payoff)


def test_below_the_minimum_sample_there_is_no_figure() -> None:
    result = performance(SAMPLE, min_signals=7)  # 6 trades: the unfilled entry does not count
    assert not result.enough
    assert (result.trades, result.wins, result.losses) == (6, 3, 2)
    assert result.win_rate is None and result.average_r is None and result.kelly is None
    assert performance([], min_signals=0).average_r is None  # nothing to compute from, even with no minimum


def test_undefined_figures_say_so_instead_of_inventing_a_number() -> None:
    only_wins = performance([Trade(1.0, 1.0), Trade(2.0, 2.0)], min_signals=1)
    assert only_wins.profit_factor is not None and only_wins.profit_factor.value is None
    assert only_wins.sortino is not None and only_wins.sortino.value is None
    assert only_wins.kelly is not None and only_wins.kelly.value is None
    assert only_wins.max_drawdown_r is not None and only_wins.max_drawdown_r.value == 0.0
    same = performance([Trade(1.0, 1.0)] * 3, min_signals=1)
    assert same.sharpe is not None and same.sharpe.value is None  # no spread


@pytest.mark.parametrize(
    ("results", "expected"),
    [([], 0.0), ([-1.0, -1.0], 2.0), ([1.0, -3.0, 2.0, -1.0], 3.0), ([3.0, -1.0, -1.0, 4.0, -2.5], 2.5)],
)
def test_max_drawdown_from_the_running_peak_starting_at_zero(results: list[float], expected: float) -> None:
    assert max_drawdown(results) == pytest.approx(expected)
