"""The backtest: no decision sees a candle that had not closed, the baseline mirrors the strategy's
levels, walk-forward periods add up to the whole, costs are applied once per side, and the command
prints the table (or one line and exit 2)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.__main__ import main
from services.market.models import Candles
from services.signals.backtest import BacktestConfig, backtest, decide, run_series
from services.signals.candle_files import CandleSeries
from services.signals.model import Costs, SignalIdea
from services.signals.strategy import DEFAULT_STRATEGY, evaluate, timeframe_ms
from standins.exchanges import generate_scenario

SEGMENTS = [("range", 120), ("up", 150), ("range", 80), ("down", 150), ("up", 120)]
STEP = timeframe_ms("4h")


def rows(seed: int = 0) -> np.ndarray:
    return generate_scenario(SEGMENTS, seed=seed, timeframe="4h")


def series(data: np.ndarray, name: str = "TST_USDT-4h.json") -> CandleSeries:
    candles = Candles.from_array(data, exchange="recorded", symbol="TST/USDT", timeframe="4h")
    return CandleSeries(source=name, symbol="TST/USDT", coin="TST", timeframe="4h", candles=candles)


def decisions(data: np.ndarray) -> list[tuple[int, SignalIdea]]:
    return decide(series(data).candles, coin="TST", config=DEFAULT_STRATEGY)


def test_every_decision_sees_exactly_the_candles_closed_by_then() -> None:
    data = rows(1)
    seen: list[tuple[int, int]] = []  # (last visible open time, number visible)

    def recording(candles: Candles, **kwargs: object) -> SignalIdea | None:
        seen.append((int(candles.timestamp[-1]), len(candles)))
        return evaluate(candles, **kwargs)  # type: ignore[arg-type]

    ideas = decide(series(data).candles, coin="TST", config=DEFAULT_STRATEGY, evaluator=recording)
    first = DEFAULT_STRATEGY.min_candles - 1
    assert [last for last, _ in seen] == [int(ts) for ts in data[first:, 0]]  # one close at a time, in order
    assert all(count <= DEFAULT_STRATEGY.window for _, count in seen)
    assert ideas, "the generated trends should give the strategy something to decide"
    for index, idea in ideas:
        assert idea.signal_at.timestamp() * 1000 == data[index, 0] + STEP  # decided at that candle's close
        assert idea.entry == data[index, 4]  # its close, not a later price


def test_decisions_are_unchanged_by_any_later_candle() -> None:
    data = rows(2)
    cut = 420
    changed = data.copy()
    changed[cut:, 1:5] = generate_scenario([("crash", len(data) - cut)], seed=9, timeframe="4h")[:, 1:5] * 3
    full, prefix, other = decisions(data), decisions(data[:cut]), decisions(changed)
    assert prefix == [item for item in full if item[0] < cut]  # a prefix decides as the full data truncated
    assert [item for item in other if item[0] < cut] == prefix  # later candles changed: same decisions
    assert any(item[0] < cut for item in full)


def test_baseline_mirrors_the_strategy_and_periods_add_up() -> None:
    config = BacktestConfig(seeds=12, periods=3, min_signals=1)
    run = run_series(series(rows(3)), config)
    assert run.graded and len(run.baselines) == 12
    per_period = [sum(1 for g in run.graded if g.period == k) for k in range(3)]
    for seed in run.baselines:  # the strategy's rate in each period (signals still open only in the last)
        picked = [sum(1 for g in seed if g.period == k) for k in range(3)]
        assert picked[:2] == per_period[:2]
        assert picked[2] <= per_period[2] + run.still_open
        for item in seed:
            idea = item.idea
            assert idea.strategy == "random" and idea.confidence == 0
            assert idea.r_multiples() == pytest.approx(DEFAULT_STRATEGY.targets_r)
            assert (idea.valid_until - idea.signal_at).total_seconds() * 1000 == STEP * DEFAULT_STRATEGY.valid_candles
            assert idea.risk > 0
    again = run_series(series(rows(3)), config)
    assert [[g.idea for g in seed] for seed in again.baselines] == [[g.idea for g in seed] for seed in run.baselines]
    assert len({tuple(g.idea.signal_at for g in seed) for seed in run.baselines}) > 1  # seeds differ

    report = backtest([series(rows(3)), series(rows(4), "OTHER-4h.json")], config)
    assert sum(table.strategy.trades for table in report.periods) == report.overall.strategy.trades
    assert report.overall.strategy.trades == sum(len(run.graded) for run in report.runs)
    assert report.overall.baseline["average_r"].runs == 12


def test_costs_are_charged_on_entry_and_exit() -> None:
    cheap = run_series(series(rows(5)), BacktestConfig(seeds=1, costs=Costs(fee_pct=0.0, slippage_pct=0.0)))
    dear = run_series(series(rows(5)), BacktestConfig(seeds=1, costs=Costs(fee_pct=0.1, slippage_pct=0.05)))
    assert [g.idea for g in cheap.graded] == [g.idea for g in dear.graded] and cheap.graded
    for a, b in zip(cheap.graded, dear.graded, strict=True):
        assert a.outcome.result_pct - b.outcome.result_pct == pytest.approx(0.3)


def test_too_short_or_irregular_series_are_skipped_with_the_reason() -> None:
    short = run_series(series(rows(6)[:50]), BacktestConfig(seeds=1))
    assert short.skipped == "too few candles" and not short.graded
    odd = replace(series(rows(6)), timeframe="7s")
    odd = replace(odd, candles=replace(odd.candles, timeframe="7s"))
    assert run_series(odd, BacktestConfig(seeds=1)).skipped == "irregular candle spacing"


def test_command_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "TST_USDT-4h.json"
    path.write_text(json.dumps(rows(7).tolist()))
    (tmp_path / "broken.json").write_text("[[1, 2")
    code = main(["backtest", "--candles", str(tmp_path), "--seeds", "5", "--fees", "0.04", "--min-signals", "3"])
    out = capsys.readouterr().out
    assert code == 0
    assert "fee 0.040 %" in out and "random entries, mean ± sd" in out and "period 4/4" in out
    assert "TST_USDT-4h.json" in out and "candles/s" in out
    assert "skipped " in out and "broken.json: not valid JSON" in out


def test_command_uses_the_live_costs_unless_told(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNAL_FEES", "bybit=0.07,okx=0.04")
    monkeypatch.setenv("SIGNAL_SLIPPAGE_PCT", "0.03")
    path = tmp_path / "TST_USDT-4h.json"
    path.write_text(json.dumps(rows(8).tolist()))
    assert main(["backtest", "--candles", str(path), "--seeds", "2"]) == 0
    assert "fee 0.070 % + slippage 0.030 %" in capsys.readouterr().out
    assert main(["backtest", "--candles", str(path), "--seeds", "2", "--exchange", "okx", "--slippage", "0"]) == 0
    assert "fee 0.040 % + slippage 0.000 %" in capsys.readouterr().out


def test_backtest_options_with_another_command_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "--candles", "x.csv", "--seeds", "3"]) == 2
    assert capsys.readouterr().err == "--candles, --seeds: only for `python -m bot backtest`\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "backtest needs --candles PATH"),
        (["--candles", "{tmp}/missing.csv"], "no such file or folder"),
        (["--candles", "{tmp}/bad.json"], "not valid JSON"),
        (["--candles", "{tmp}", "--strategy", "magic"], "unknown strategy 'magic'"),
        (["--candles", "{tmp}", "--fees", "-1"], "--fees and --slippage are percent per side"),
        (["--candles", "{tmp}", "--seeds", "0"], "--seeds is 1-10000"),
    ],
)
def test_command_errors_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    (tmp_path / "bad.json").write_text("[[1, 2")
    code = main(["backtest", *(arg.format(tmp=tmp_path) for arg in args)])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
