"""Indicators and the structured analysis on generated candles (no network)."""

from __future__ import annotations

import math
from dataclasses import asdict, fields

import numpy as np
import pytest
import talib

from services.market import Candles, Derivatives, NotEnoughData, analyze
from services.market.analysis import MIN_CANDLES, swing_points
from services.market.indicators import compute_indicators
from services.market.models import ms_to_datetime
from services.market.results import Analysis
from standins.exchanges import generate_ohlcv, generate_scenario


def make(rows: np.ndarray, timeframe: str = "1h") -> Candles:
    return Candles.from_array(rows, exchange="test", symbol="TST/USDT", timeframe=timeframe)


def all_floats(value: object) -> list[float]:
    """Every float anywhere inside a (nested) dataclass dict."""
    found: list[float] = []
    if isinstance(value, dict):
        for item in value.values():
            found += all_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            found += all_floats(item)
    elif isinstance(value, float):
        found.append(value)
    return found


def assert_no_nan(analysis: Analysis) -> None:
    values = all_floats(asdict(analysis))
    assert values, "analysis has no numbers"
    assert all(math.isfinite(v) for v in values), [v for v in values if not math.isfinite(v)]


def test_indicators_equal_talib() -> None:
    rows = generate_ohlcv(500, seed=7, regime="random")
    candles = make(rows)
    s = compute_indicators(candles)
    close, high, low, volume = rows[:, 4].copy(), rows[:, 2].copy(), rows[:, 3].copy(), rows[:, 5].copy()
    np.testing.assert_allclose(s.ema20, talib.EMA(close, 20), equal_nan=True)
    np.testing.assert_allclose(s.ema50, talib.EMA(close, 50), equal_nan=True)
    np.testing.assert_allclose(s.ema200, talib.EMA(close, 200), equal_nan=True)
    macd, signal, hist = talib.MACD(close, 12, 26, 9)
    np.testing.assert_allclose(s.macd, macd, equal_nan=True)
    np.testing.assert_allclose(s.macd_signal, signal, equal_nan=True)
    np.testing.assert_allclose(s.macd_hist, hist, equal_nan=True)
    np.testing.assert_allclose(s.rsi7, talib.RSI(close, 7), equal_nan=True)
    np.testing.assert_allclose(s.rsi14, talib.RSI(close, 14), equal_nan=True)
    np.testing.assert_allclose(s.atr, talib.ATR(high, low, close, 14), equal_nan=True)
    upper, middle, lower = talib.BBANDS(close, 20, 2.0, 2.0)
    np.testing.assert_allclose(s.bb_middle, middle, equal_nan=True)
    np.testing.assert_allclose(s.bb_upper, upper, equal_nan=True)
    np.testing.assert_allclose(s.bb_lower, lower, equal_nan=True)
    np.testing.assert_allclose(s.volume_sma20, talib.SMA(volume, 20), equal_nan=True)

    analysis = analyze(candles)
    ind = analysis.indicators
    assert ind.ema20 == pytest.approx(talib.EMA(close, 20)[-1])
    assert ind.ema200 == pytest.approx(talib.EMA(close, 200)[-1])
    assert ind.macd == pytest.approx(macd[-1])
    assert ind.rsi14 == pytest.approx(talib.RSI(close, 14)[-1])
    assert ind.atr == pytest.approx(talib.ATR(high, low, close, 14)[-1])
    assert ind.volume_ratio == pytest.approx(volume[-1] / talib.SMA(volume, 20)[-1], rel=1e-3)
    assert ind.atr_pct == pytest.approx(ind.atr / close[-1] * 100)


def test_ema_matches_an_independent_recurrence() -> None:
    """Guard against silently feeding TA-Lib the wrong column: EMA by hand (SMA seed)."""
    rows = generate_ohlcv(120, seed=3)
    close = rows[:, 4]
    alpha = 2 / 21
    ema = close[:20].mean()
    for price in close[20:]:
        ema = alpha * price + (1 - alpha) * ema
    assert analyze(make(rows)).indicators.ema20 == pytest.approx(ema)


@pytest.mark.parametrize("regime", ["up", "down", "range"])
def test_trend_detection_on_generated_regimes(regime: str) -> None:
    expected = regime
    hits: list[str] = [
        analyze(make(generate_ohlcv(300, seed=seed, regime=regime))).trend.direction for seed in range(20)
    ]
    assert hits.count(expected) >= 18, hits


def test_trend_follows_the_latest_regime_of_a_scenario() -> None:
    rows = generate_scenario([("range", 200), ("up", 120)], seed=11)
    trend = analyze(make(rows)).trend
    assert trend.direction == "up"
    assert trend.ema_alignment > 0
    assert trend.slope_atr > 0
    rows = generate_scenario([("up", 200), ("down", 120)], seed=11)
    assert analyze(make(rows)).trend.direction == "down"
    rows = generate_scenario([("up", 200), ("range", 150)], seed=5)
    assert analyze(make(rows)).trend.direction == "range"


def test_strong_trend_is_labelled_strong() -> None:
    trend = analyze(make(generate_ohlcv(300, seed=1, regime="pump", sigma=0.005))).trend
    assert trend.direction == "up"
    assert trend.label == "strong"
    assert 0.75 <= trend.strength <= 1


def test_rsi_states_and_macd_cross_after_a_crash_and_a_pump() -> None:
    crash = analyze(make(generate_scenario([("range", 250), ("crash", 12)], seed=2)))
    assert crash.momentum.rsi_state == "oversold"
    assert crash.volatility.regime == "high"
    assert crash.volume.ratio > 1.0
    pump = analyze(make(generate_scenario([("range", 250), ("pump", 12)], seed=2)))
    assert pump.momentum.rsi_state == "overbought"


def synthetic(closes: np.ndarray) -> np.ndarray:
    """Candles from a close path: open = previous close, wicks 0.1 % beyond the body."""
    opens = np.concatenate(([closes[0]], closes[:-1]))
    ts = 1_767_225_600_000 + 3_600_000 * np.arange(closes.shape[0])
    high = np.maximum(opens, closes) * 1.001
    low = np.minimum(opens, closes) * 0.999
    return np.column_stack((ts, opens, high, low, closes, np.full(closes.shape[0], 1000.0)))


def test_macd_cross_detected_with_its_age() -> None:
    decline = 200 - 0.001 * np.arange(250) ** 2  # an accelerating decline: histogram firmly negative
    rally = decline[-1] * 1.03 ** np.arange(1, 5)
    momentum = analyze(make(synthetic(np.concatenate((decline, rally))))).momentum
    assert momentum.macd_cross == "bullish"
    assert momentum.macd_cross_bars_ago is not None and 0 <= momentum.macd_cross_bars_ago <= 3
    assert momentum.macd_hist_rising is True
    momentum = analyze(make(synthetic(decline))).momentum
    assert momentum.macd_cross is None and momentum.macd_cross_bars_ago is None


def test_squeeze_is_low_volatility() -> None:
    volatility = analyze(make(generate_scenario([("random", 250), ("squeeze", 60)], seed=9))).volatility
    assert volatility.regime == "low"
    assert volatility.bb_squeeze is True
    assert volatility.percentile < 20


def test_levels_bracket_the_price() -> None:
    analysis = analyze(make(generate_ohlcv(400, seed=21, regime="range")))
    levels = analysis.levels
    assert levels.support and levels.resistance
    assert all(level.price < analysis.price for level in levels.support)
    assert all(level.price > analysis.price for level in levels.resistance)
    supports = [level.price for level in levels.support]
    resistances = [level.price for level in levels.resistance]
    assert supports == sorted(supports, reverse=True)  # nearest first
    assert resistances == sorted(resistances)
    assert len(supports) <= 3 and len(resistances) <= 3
    assert all(level.touches >= 1 for level in (*levels.support, *levels.resistance))


def test_swing_points_on_a_known_shape() -> None:
    high = np.array([1, 2, 3, 9, 3, 2, 1, 2, 3, 4, 5, 6, 7], dtype=float)
    low = high - 0.5
    low[6] = 0.1
    highs, lows = swing_points(high, low, window=3)
    assert highs.tolist() == [3]
    assert lows.tolist() == [6]


def test_divergences() -> None:
    # fast rally to a high, pullback, slow grind to a marginally higher high → weaker RSI: bearish
    flat = np.full(100, 100.0) * (1 + 0.002 * np.sin(np.arange(100)))
    rally = np.linspace(100, 120, 8)
    pullback = np.linspace(119, 110, 8)
    grind = np.linspace(110.5, 121, 30)
    after = np.array([120.5, 120.2, 120.0, 119.8])
    closes = np.concatenate((flat, rally, pullback, grind, after))
    assert analyze(make(synthetic(closes))).momentum.divergence == "bearish"
    # the mirror image: a fast drop, a bounce, a slow slide to a marginally lower low → bullish
    mirror = 240.0 - closes
    assert analyze(make(synthetic(mirror))).momentum.divergence == "bullish"
    assert analyze(make(synthetic(flat))).momentum.divergence is None


def test_not_enough_data() -> None:
    with pytest.raises(NotEnoughData) as info:
        analyze(make(generate_ohlcv(MIN_CANDLES - 1, seed=1)))
    assert info.value.needed == MIN_CANDLES
    assert info.value.got == MIN_CANDLES - 1
    with pytest.raises(NotEnoughData):
        analyze(make(np.empty((0, 6))))


def test_short_history_has_no_ema200_and_no_nan() -> None:
    analysis = analyze(make(generate_ohlcv(MIN_CANDLES, seed=5)))
    assert analysis.indicators.ema200 is None
    assert_no_nan(analysis)


@pytest.mark.parametrize("regime", ["up", "down", "range", "crash", "pump", "squeeze", "random"])
def test_no_nan_anywhere(regime: str) -> None:
    for seed in range(5):
        analysis = analyze(make(generate_ohlcv(260, seed=seed, regime=regime)))
        assert_no_nan(analysis)


def test_degenerate_inputs_stay_finite() -> None:
    flat = generate_ohlcv(100, seed=1)
    flat[:, 1:5] = 5.0
    flat[:, 5] = 0.0
    analysis = analyze(make(flat))
    assert_no_nan(analysis)
    assert analysis.indicators.rsi14 == 50.0
    assert analysis.indicators.volume_ratio == 1.0
    assert analysis.trend.direction == "range"
    holes = generate_ohlcv(120, seed=2)
    holes[10, 4] = np.nan  # a broken row is dropped, a missing volume counts as zero
    holes[20, 5] = np.nan
    analysis = analyze(make(holes))
    assert analysis.candles_used == 119
    assert_no_nan(analysis)


def test_derivatives_context_and_snapshot_record() -> None:
    rows = generate_ohlcv(300, seed=12)
    derivatives = Derivatives(
        exchange="test",
        symbol="TST/USDT:USDT",
        funding_rate=0.0006,
        next_funding_time=None,
        funding_interval_hours=8.0,
        open_interest=1234.5,
        open_interest_value=1234.5 * rows[-1, 4],
        mark_price=float(rows[-1, 4]),
        timestamp=ms_to_datetime(int(rows[-1, 0])),
    )
    analysis = analyze(make(rows), derivatives)
    context = analysis.derivatives
    assert context is not None
    assert context.funding_bias == "longs_pay"
    assert context.funding_extreme is True
    assert context.funding_annualized_pct == pytest.approx(0.0006 * 3 * 365 * 100)
    snapshot = analysis.snapshot()
    record = snapshot.as_dict()
    expected = {"symbol", "timeframe", "as_of", "price", "ema20", "ema50", "macd", "rsi7", "rsi14", "atr",
                "funding_rate", "open_interest"}  # fmt: skip
    assert expected <= set(record)
    assert {f.name for f in fields(snapshot)} >= expected
    assert record["symbol"] == "TST/USDT"
    assert record["funding_rate"] == 0.0006
    assert record["open_interest"] == 1234.5
    assert record["as_of"] == ms_to_datetime(int(rows[-1, 0]))
    assert record["as_of"].tzinfo is not None
    assert analyze(make(rows)).snapshot().funding_rate is None
    assert isinstance(analysis.as_dict()["as_of"], str)


def test_ohlcv_from_real_layout_roundtrip() -> None:
    rows = generate_ohlcv(70, seed=1)
    candles = make(rows)
    assert candles.close.flags["C_CONTIGUOUS"] and candles.high.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(candles.to_array(), rows)
    assert len(candles.tail(10)) == 10
    assert candles.tail(10).timestamp[-1] == candles.timestamp[-1]
    bumped = candles.with_last_price(float(rows[-1, 2]) * 2)
    assert bumped.high[-1] == bumped.close[-1]
    assert candles.close[-1] == rows[-1, 4]  # the original is untouched
