"""`make check-data`'s checks can fail: each finds what it claims is absent (scripts/check_market_data.py)."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import asdict, replace
from pathlib import Path
from types import ModuleType

import pytest

from services.market import Candles, analyze
from services.market.results import Levels
from standins.exchanges import generate_scenario

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_market_data.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_market_data", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("check_market_data", module)
    spec.loader.exec_module(module)
    return module


def crash() -> Candles:
    rows = generate_scenario([("range", 250), ("crash", 8)], seed=0)
    return Candles.from_array(rows, exchange="test", symbol="TST/USDT", timeframe="1h")


def test_non_finite_numbers_are_found_with_their_path(script: ModuleType) -> None:
    analysis = analyze(crash())
    assert script.non_finite_fields(asdict(analysis)) == []
    broken = replace(analysis, price=float("nan"), indicators=replace(analysis.indicators, rsi14=float("inf")))
    assert script.non_finite_fields(asdict(broken)) == ["analysis.price = nan", "analysis.indicators.rsi14 = inf"]
    levels = {"levels": {"support": [{"price": 1.0}, {"price": float("-inf")}]}}
    assert script.non_finite_fields(levels) == ["analysis.levels.support[1].price = -inf"]


def test_a_missing_support_below_the_recent_low_is_found(script: ModuleType) -> None:
    candles = crash()
    analysis = analyze(candles)
    assert script.level_gaps(candles, analysis) == []
    no_support = replace(analysis, levels=Levels(support=(), resistance=analysis.levels.resistance))
    (gap,) = script.level_gaps(candles, no_support)
    assert gap.startswith("no support although the low ")


def test_a_missing_level_is_shown_as_none_never_nan(script: ModuleType) -> None:
    assert script._cell(None) == "none"
    assert script._cell(101.2) == "101.2"


def test_absent_data_is_skipped_cleanly(
    script: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(script, "DATA", tmp_path / "absent")
    assert script.main() == 0
    assert capsys.readouterr().out.startswith("skipped: ")
