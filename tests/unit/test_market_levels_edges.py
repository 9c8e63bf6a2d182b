"""Key levels at the edge of the range: after a crash to new lows (or a pump to new highs) the latest
candles' extreme is not yet a confirmed swing, yet it is the level a trader watches.

Recorded data showed it (`make check-data`: jesse test_candles_19, a 1d crash, and test_candles_sol,
a 1m slide): no support at all, printed as `nan` in the table.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from services.market import Candles, analyze
from services.market.analysis import LEVEL_LOOKBACK
from standins.exchanges import generate_scenario


def make(rows: np.ndarray) -> Candles:
    return Candles.from_array(rows, exchange="test", symbol="TST/USDT", timeframe="1h")


@pytest.mark.parametrize("seed", range(4))
def test_a_crash_to_new_lows_has_the_low_as_support(seed: int) -> None:
    rows = generate_scenario([("range", 250), ("crash", 8)], seed=seed)
    analysis = analyze(make(rows))
    support = analysis.levels.support
    assert support, "no support below the price after a crash"
    assert all(math.isfinite(level.price) and level.price < analysis.price for level in support)
    lowest = float(rows[-LEVEL_LOOKBACK:, 3].min())
    assert min(level.price for level in support) == pytest.approx(lowest)
    assert analysis.levels.resistance  # the range above is still there


@pytest.mark.parametrize("seed", range(4))
def test_a_pump_to_new_highs_has_the_high_as_resistance(seed: int) -> None:
    rows = generate_scenario([("range", 250), ("pump", 8)], seed=seed)
    analysis = analyze(make(rows))
    resistance = analysis.levels.resistance
    assert resistance, "no resistance above the price after a pump"
    assert all(math.isfinite(level.price) and level.price > analysis.price for level in resistance)
    highest = float(rows[-LEVEL_LOOKBACK:, 2].max())
    assert max(level.price for level in resistance) == pytest.approx(highest)


def test_a_close_at_the_very_low_has_no_support_below() -> None:
    rows = generate_scenario([("range", 250), ("crash", 8)], seed=0)
    rows[-1, 3] = rows[-1, 4] = float(rows[-LEVEL_LOOKBACK:, 3].min()) * 0.99  # closes at a new low
    analysis = analyze(make(rows))
    assert analysis.levels.support == ()  # nothing below: "none found", never a made-up number
