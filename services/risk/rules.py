"""Pure decisions of the risk engine: did an alert fire, which position warnings are due, which
market-risk events a coin shows. No I/O; the engine (jobs.py) feeds them prices and candles.

A `Seen` is what the price did over the period checked: the minute tick passes the last price as
all three numbers; a scan passes the extremes of the candles since the alert was armed (or the
position declared), so a spike between two ticks still counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from db.repositories.risk import AlertRow, PositionRow
from services.market import Analysis, Candles
from services.risk.config import RiskConfig
from services.risk.liquidation import LONG, progress
from services.risk.parse import ABOVE, BELOW, MOVE

LIQUIDATION_STEP = "liq"
STOP_STEP = "sl"
TAKE_PROFIT_STEP = "tp"


@dataclass(frozen=True, slots=True)
class Seen:
    last: float
    high: float
    low: float

    @classmethod
    def price(cls, price: float) -> Seen:
        return cls(price, price, price)


def alert_fires(alert: AlertRow, seen: Seen) -> bool:
    if alert.condition == ABOVE:
        return seen.high >= alert.price
    if alert.condition == BELOW:
        return seen.low <= alert.price
    if alert.condition == MOVE and alert.pct is not None and alert.price > 0:
        moved = max(seen.high / alert.price - 1.0, 1.0 - seen.low / alert.price) * 100.0
        return moved >= alert.pct - 1e-9
    return False


def split_steps(warned: str) -> list[str]:
    return [step for step in warned.split(",") if step]


def position_steps(position: PositionRow, seen: Seen, steps: Sequence[int]) -> list[str]:
    """Warning steps this price path reaches that were not sent yet ("50", "80", "liq", "sl", "tp")."""
    long = position.side == LONG
    adverse = seen.low if long else seen.high
    favourable = seen.high if long else seen.low
    due: list[str] = []
    liquidation = position.liquidation_price
    if liquidation is not None:
        moved = progress(position.side, position.entry, liquidation, adverse)
        due.extend(str(step) for step in sorted(steps) if moved >= step / 100.0)
        if moved >= 1.0:
            due.append(LIQUIDATION_STEP)
    stop = position.stop
    if stop is not None and (adverse <= stop if long else adverse >= stop):
        due.append(STOP_STEP)
    target = position.take_profit
    if target is not None and (favourable >= target if long else favourable <= target):
        due.append(TAKE_PROFIT_STEP)
    done = set(split_steps(position.warned))
    return [step for step in due if step not in done]


def messages_for(new_steps: Sequence[str]) -> list[str]:
    """The steps worth a message: of the distance steps reached at once only the furthest (two
    messages in one minute would say the same), stop and take-profit always."""
    distance = [step for step in new_steps if step not in (STOP_STEP, TAKE_PROFIT_STEP)]
    rest = [step for step in new_steps if step in (STOP_STEP, TAKE_PROFIT_STEP)]
    return ([distance[-1]] if distance else []) + rest


def since(candles: Candles, start: datetime | None) -> Seen | None:
    """Extremes of the candles that opened at or after `start` (None when there are none)."""
    start_ms = int(start.timestamp() * 1000) if start is not None else 0
    mask = candles.timestamp >= start_ms
    if not mask.any():
        return None
    return Seen(float(candles.close[-1]), float(np.max(candles.high[mask])), float(np.min(candles.low[mask])))


@dataclass(frozen=True, slots=True)
class MarketEvent:
    kind: str  # move / volatility / funding / oi
    value: float  # % change, ATR percentile, funding per 8 h, % OI change
    extra: float | None = None  # the move in ATRs


def market_events(
    candles: Candles, analysis: Analysis, config: RiskConfig, previous_oi: float | None
) -> list[MarketEvent]:
    events: list[MarketEvent] = []
    close = candles.close
    atr = analysis.indicators.atr
    n = config.move_candles
    if len(close) > n and atr and np.isfinite(atr) and atr > 0:
        change = float(close[-1] - close[-1 - n])
        if abs(change) >= config.move_atr_multiple * atr:
            events.append(MarketEvent("move", change / float(close[-1 - n]) * 100.0, abs(change) / atr))
    if analysis.volatility.percentile >= config.volatility_percentile:
        events.append(MarketEvent("volatility", analysis.volatility.percentile, analysis.volatility.atr_pct))
    derivatives = analysis.derivatives
    if derivatives is not None:
        funding = derivatives.funding_8h
        if funding is not None and abs(funding) >= config.funding_8h:
            events.append(MarketEvent("funding", funding))
        current = derivatives.open_interest
        if current is not None and previous_oi:
            change = (current / previous_oi - 1.0) * 100.0
            if abs(change) >= config.oi_change_pct:
                events.append(MarketEvent("oi", change))
    return events
