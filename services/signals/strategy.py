"""The "trend" strategy: a trend-following entry on closed candles, with every rule written down.

`evaluate(candles, symbol=…, derivatives=…, config=…)` looks at CLOSED candles only (oldest first;
the caller drops a forming candle with `closed_only`) and returns a `SignalIdea` or None. It uses the
last `config.window` candles and nothing else (no clock, no network), so the live engine and the
backtest make the same decision from the same candles, and a decision never sees a later candle.

Rules (long; a short mirrors every comparison). All three REQUIRED rules must hold:

1. Trend (`trend_up`): close > EMA20 > EMA50, and the EMA50 slope over `slope_lookback` candles is
   at least `min_slope_atr` ATR per candle.
2. Momentum trigger, at least one of, within the last `cross_lookback` candles and still holding
   on the last one:
   - `macd_cross_up`: the MACD(12, 26, 9) histogram turned from ≤ 0 to > 0;
   - `rsi_cross_up`: RSI14 crossed from ≤ `rsi_mid` to > `rsi_mid`.
3. Volatility filter: the last ATR14 in percent of price ranks between `atr_percentile_min` and
   `atr_percentile_max` among the window's ATR% values (a crash or a dead market gives no signal).

Confidence (0-100) is the sum of the weights of the rules that fired, nothing else:
`base` (the three required rules) + `w_strong_trend` (`trend_strong`: slope ≥ 2 × `min_slope_atr`)
+ `w_both_triggers` (both MACD and RSI triggers) + `w_ema200` (`ema200_up`: EMA50 > EMA200, needs
200 candles) + `w_volume` (`volume_up`: last volume ≥ `volume_ratio` × its SMA20) + `w_near_ema`
(`near_ema`: close within `near_ema_atr` ATR of EMA20, not chasing) + `w_funding`
(`funding_supports`: the other side pays funding, 8 h rate ≤ −`funding_neutral`), minus
`penalty_crowded` (`funding_crowded`: our side pays an extreme rate ≥ `funding_extreme`), clipped
to 0-100. With the defaults the weights add up to exactly 100. A signal with a confidence below
`min_confidence` is not published. Open interest is not used: one snapshot has no trend.

Levels: entry = the last close; stop = entry ∓ `stop_atr` × ATR14; targets = entry ± R × each of
`targets_r` (R = |entry − stop|), one to three. `signal_at` = the last candle's open + timeframe
(its close time); `valid_until` = `signal_at` + `valid_candles` candles. `reason` lists the codes of
the rules that fired (texts render them per language; `REASON_CODES` is the full list).
Candles with a non-finite price in the window, a zero ATR or fewer than `min_candles` → None.

Speed: only the TA-Lib series the rules read (ATR, EMA20/50, MACD, RSI; EMA200 and the volume SMA
once the required rules hold), about 0.2 ms per coin and timeframe — the full market analysis
(`services.market.analyze`, levels and divergences included) costs ~1.2 ms and is not run
(tests/bench/bench_signals.py).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from services.market.analysis import derivatives_context
from services.market.indicators import ta
from services.market.models import Candles, Derivatives, FloatArray, ms_to_datetime
from services.market.timeframes import TIMEFRAME_MS
from services.signals.model import Direction, SignalIdea

__all__ = ["DEFAULT_STRATEGY", "REASON_CODES", "STRATEGIES", "StrategyConfig", "closed_only", "evaluate"]

REASON_CODES: tuple[str, ...] = (
    "trend_up",
    "trend_down",
    "macd_cross_up",
    "macd_cross_down",
    "rsi_cross_up",
    "rsi_cross_down",
    "trend_strong",
    "ema200_up",
    "ema200_down",
    "volume_up",
    "near_ema",
    "funding_supports",
    "funding_crowded",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategyConfig:
    """The strategy's parameters; change `version` whenever a rule or a default changes."""

    name: str = "trend"
    version: str = "1"
    window: int = 250  # candles the decision looks at (the last ones); live fetches ≥ this many
    min_candles: int = 80  # fewer → no decision
    ema_fast: int = 20
    ema_slow: int = 50
    ema_long: int = 200
    slope_lookback: int = 10  # candles over which the EMA50 slope is measured
    min_slope_atr: float = 0.05  # EMA50 rise per candle, in ATR, that counts as a trend
    cross_lookback: int = 3  # a trigger within this many candles (the last one included)
    rsi_period: int = 14
    rsi_mid: float = 50.0
    atr_period: int = 14
    atr_percentile_min: float = 10.0
    atr_percentile_max: float = 90.0
    volume_period: int = 20
    volume_ratio: float = 1.2
    near_ema_atr: float = 1.0
    funding_neutral: float = 0.00005  # per 8 h
    funding_extreme: float = 0.0005  # per 8 h
    stop_atr: float = 1.5
    targets_r: tuple[float, ...] = (1.0, 2.0, 3.0)
    valid_candles: int = 12
    base: int = 40
    w_strong_trend: int = 15
    w_both_triggers: int = 10
    w_ema200: int = 10
    w_volume: int = 10
    w_near_ema: int = 10
    w_funding: int = 5
    penalty_crowded: int = 15
    min_confidence: int = 50

    def __post_init__(self) -> None:
        if not 1 <= len(self.targets_r) <= 3 or any(r <= 0 for r in self.targets_r):
            raise ValueError("targets_r: one to three positive R multiples")
        if list(self.targets_r) != sorted(set(self.targets_r)):
            raise ValueError("targets_r must increase")
        if self.stop_atr <= 0 or self.valid_candles < 1:
            raise ValueError("stop_atr > 0 and valid_candles ≥ 1")
        warm_up = max(self.ema_slow + self.slope_lookback, 34 + self.cross_lookback)
        if self.min_candles < warm_up or self.window < self.min_candles:
            raise ValueError(f"min_candles ≥ {warm_up} and window ≥ min_candles")


DEFAULT_STRATEGY = StrategyConfig()
STRATEGIES: dict[str, StrategyConfig] = {DEFAULT_STRATEGY.name: DEFAULT_STRATEGY}

_TIMEFRAME = re.compile(r"^(\d+)([mhdwM])$")
_UNIT_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000, "M": 2_592_000_000}


def timeframe_ms(timeframe: str) -> int:
    """Length of a candle: the market's timeframes, or any ccxt-style one ("1m", "2h") for backtests."""
    known = TIMEFRAME_MS.get(timeframe)
    if known is not None:
        return known
    match = _TIMEFRAME.match(timeframe)
    if match is None:
        raise ValueError(f"unknown timeframe {timeframe!r}")
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def closed_only(candles: Candles, now_ms: int) -> Candles:
    """The candles without a last one that has not closed by `now_ms` (an exchange lists it forming)."""
    n = len(candles)
    if n and int(candles.timestamp[-1]) + timeframe_ms(candles.timeframe) > now_ms:
        return candles.take(slice(n - 1))
    return candles


def _crossed(series: FloatArray, level: float, lookback: int, sign: int) -> bool:
    """`series` crossed `level` in direction `sign` within the last `lookback` steps and stays there."""
    recent = series[-(lookback + 1) :]
    if recent.shape[0] < 2 or not np.isfinite(recent).all():
        return False
    side = sign * (recent - level) > 0
    return bool(side[-1] and not side.all())


def evaluate(
    candles: Candles,
    *,
    symbol: str,
    derivatives: Derivatives | None = None,
    config: StrategyConfig = DEFAULT_STRATEGY,
) -> SignalIdea | None:
    """A signal from the last closed candle, or None (see the module docstring for every rule)."""
    if len(candles) < config.min_candles:
        return None
    start = max(0, len(candles) - config.window)
    close = np.ascontiguousarray(candles.close[start:], dtype=np.float64)
    high = np.ascontiguousarray(candles.high[start:], dtype=np.float64)
    low = np.ascontiguousarray(candles.low[start:], dtype=np.float64)
    if not (np.isfinite(close).all() and np.isfinite(high).all() and np.isfinite(low).all()):
        return None
    talib = ta()
    atr_series = talib.ATR(high, low, close, config.atr_period)
    atr = float(atr_series[-1])
    price = float(close[-1])
    if not (math.isfinite(atr) and atr > 0 and price > 0):
        return None
    ema_fast = talib.EMA(close, config.ema_fast)
    ema_slow = talib.EMA(close, config.ema_slow)
    e20, e50 = float(ema_fast[-1]), float(ema_slow[-1])
    slope = (e50 - float(ema_slow[-1 - config.slope_lookback])) / (config.slope_lookback * atr)
    if price > e20 > e50 and slope >= config.min_slope_atr:
        direction: Direction = "long"
    elif price < e20 < e50 and slope <= -config.min_slope_atr:
        direction = "short"
    else:
        return None
    side, suffix = (1, "up") if direction == "long" else (-1, "down")

    _, _, hist = talib.MACD(close, 12, 26, 9)
    rsi = talib.RSI(close, config.rsi_period)
    macd_cross = _crossed(hist, 0.0, config.cross_lookback, side)
    rsi_cross = _crossed(rsi, config.rsi_mid, config.cross_lookback, side)
    if not (macd_cross or rsi_cross):
        return None

    atr_pct = atr_series / close
    history = atr_pct[np.isfinite(atr_pct)]
    current = float(atr_pct[-1])
    percentile = float((history < current).sum() + 0.5 * (history == current).sum()) / history.size * 100
    if not config.atr_percentile_min <= percentile <= config.atr_percentile_max:
        return None

    reason = [f"trend_{suffix}"]
    confidence = config.base
    if macd_cross:
        reason.append(f"macd_cross_{suffix}")
    if rsi_cross:
        reason.append(f"rsi_cross_{suffix}")
    if macd_cross and rsi_cross:
        confidence += config.w_both_triggers
    if side * slope >= 2 * config.min_slope_atr:
        reason.append("trend_strong")
        confidence += config.w_strong_trend
    if close.shape[0] >= config.ema_long:
        e200 = float(talib.EMA(close, config.ema_long)[-1])
        if math.isfinite(e200) and side * (e50 - e200) > 0:
            reason.append(f"ema200_{suffix}")
            confidence += config.w_ema200
    volume = np.ascontiguousarray(candles.volume[start:], dtype=np.float64)
    volume_sma = float(talib.SMA(volume, config.volume_period)[-1])
    if math.isfinite(volume_sma) and volume_sma > 0 and float(volume[-1]) >= config.volume_ratio * volume_sma:
        reason.append("volume_up")
        confidence += config.w_volume
    if abs(price - e20) <= config.near_ema_atr * atr:
        reason.append("near_ema")
        confidence += config.w_near_ema
    funding = derivatives_context(derivatives)
    rate = funding.funding_8h if funding is not None else None
    if rate is not None:
        if side * rate <= -config.funding_neutral:
            reason.append("funding_supports")
            confidence += config.w_funding
        elif side * rate >= config.funding_extreme:
            reason.append("funding_crowded")
            confidence -= config.penalty_crowded
    confidence = max(0, min(100, confidence))
    if confidence < config.min_confidence:
        return None

    step = timeframe_ms(candles.timeframe)
    signal_at = ms_to_datetime(int(candles.timestamp[-1]) + step)
    risk = config.stop_atr * atr
    stop = price - side * risk
    targets = tuple(level for r in config.targets_r if (level := price + side * r * risk) > 0)
    if stop <= 0 or not targets:
        return None  # a stop or every target below zero: the ATR is too wide for this price
    return SignalIdea(
        symbol=symbol,
        exchange=candles.exchange,
        timeframe=candles.timeframe,
        direction=direction,
        entry=price,
        stop=stop,
        targets=targets,
        confidence=confidence,
        reason=tuple(reason),
        signal_at=signal_at,
        valid_until=signal_at + timedelta(milliseconds=step * config.valid_candles),
        strategy=config.name,
        version=config.version,
    )
