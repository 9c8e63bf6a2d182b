"""Grading a signal against candles: the outcome rules, shared by the live tracker and the backtest.

`grade(signal, candles, costs, now=...)` returns the `Outcome` once the signal is decided, or None
while it is still open. It is pure (no clock, no I/O) and vectorised over the candle arrays.

Which candles count
- Only CLOSED candles: a candle whose close time (open + timeframe) is after `now` is ignored.
- Candles that open before `signal_at` are ignored (the decision candle and everything before it);
  a record without `signal_at` uses its `created_at`.
- Only candles that close at or before `valid_until` can decide the signal; a candle straddling
  `valid_until` is ignored (we cannot tell whether a touch inside it came before the deadline).

Entry
- Market entry (`source="auto"`): filled at `entry` (the decision candle's close) at `signal_at`.
- Limit entry (`source="manual"`: the admin's entry may not be reached yet): filled at `entry` in
  the first counted candle that trades through it — low ≤ entry ≤ high, or the price gapped across
  it between the previous close and this open. Graded at `entry` even when a gap gave a better
  price. Never filled by `valid_until` → `expired`, `exit_price` None, 0 R and 0 % (no trade, no
  costs).

Exit (long; a short is the mirror image: highs for the stop, lows for the target)
- Graded on the FIRST target only.
- Stop: the first candle with low ≤ stop → `sl`, exit at the stop — or at the candle's open when
  it opened at or beyond the stop (a gap through the stop exits at the open, worse than −1 R).
- Target: the first candle with high ≥ target → `tp`, exit at the target (never better, even on a
  gap through it).
- Stop and target both inside one candle → `sl` (the order within a candle is unknown: conservative).
- On the candle that fills a limit entry the stop counts as usual, but the target only when that
  candle CLOSES at or beyond it (the close is the one price known to come after the fill).
- Expiry: neither hit by `valid_until` and `now` ≥ `valid_until` → `expired`, exit at the close of
  the last counted candle (the last close at or before `valid_until`); with no counted candle at
  all, at `entry`.
- `exit_at` is the close time of the candle the exit happened in (when candles show it), or for
  an expiry the last counted close (`valid_until` when there is none).

Result, after costs
- gross % = ±(exit − entry) / entry × 100 (+ for a long moving up, + for a short moving down);
- costs % = 2 × (fee_pct + slippage_pct): the taker fee and the slippage allowance, each on entry
  and on exit, as a percent of the entry price;
- result % = gross % − costs %; result R = result % / risk %, risk % = |entry − stop| / entry × 100
  (so a clean stop is −1 R minus the costs in R, a first target of 2 R is 2 R minus them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from services.market.errors import UnsupportedTimeframe
from services.market.models import Candles, ms_to_datetime
from services.market.timeframes import timeframe_ms
from services.signals.model import Costs, Outcome, SignalIdea, SignalRecord, Status

_TIMEFRAME = re.compile(r"^(\d+)([mhdw])$")
_DEFAULT = Costs()
_UNIT_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


@dataclass(frozen=True, slots=True)
class CostTable:
    """Per-exchange taker fees (percent per side; "*" for any other exchange, else the `Costs`
    default) and one slippage allowance (percent per side): SIGNAL_FEES, SIGNAL_SLIPPAGE_PCT."""

    fees: Mapping[str, float] = field(default_factory=lambda: {"bybit": 0.055, "binance": 0.05, "okx": 0.05})
    slippage_pct: float = _DEFAULT.slippage_pct

    def for_exchange(self, exchange: str) -> Costs:
        fee = self.fees.get(exchange.lower(), self.fees.get("*", _DEFAULT.fee_pct))
        return Costs(fee_pct=fee, slippage_pct=self.slippage_pct)


def candle_ms(timeframe: str) -> int:
    """A timeframe's length in ms: the market's list, else any "<n>m/h/d/w" (backtest files)."""
    try:
        return timeframe_ms(timeframe)
    except UnsupportedTimeframe:
        match = _TIMEFRAME.match(timeframe.strip().lower())
        if match is None:
            raise
        return int(match.group(1)) * _UNIT_MS[match.group(2)]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _first(mask: np.ndarray) -> int | None:
    index = int(np.argmax(mask)) if mask.size else 0
    return index if mask.size and mask[index] else None


def _previous_closes(candles: Candles, first: int, end: int) -> np.ndarray:
    """The close before each of candles[first:end] (NaN before the first candle there is)."""
    if end <= first:
        return candles.close[first:end]
    if first > 0:
        return candles.close[first - 1 : end - 1]
    return np.concatenate(([np.nan], candles.close[: end - 1]))


def grade(signal: SignalIdea | SignalRecord, candles: Candles, costs: Costs, *, now: datetime) -> Outcome | None:
    """The signal's outcome from closed candles (rules in the module docstring), or None while open."""
    start = signal.signal_at if isinstance(signal, SignalIdea) else signal.signal_at or signal.created_at
    step = candle_ms(candles.timeframe)
    until_ms = _ms(signal.valid_until)
    expired = _ms(now) >= until_ms
    ts = candles.timestamp
    first = int(np.searchsorted(ts, _ms(start), side="left"))
    # Counted candles close by now and by valid_until: open time ≤ min(now, valid_until) − step.
    end = int(np.searchsorted(ts, min(_ms(now), until_ms) - step, side="right"))
    end = max(end, first)
    entry, stop, target = signal.entry, signal.stop, signal.targets[0]
    sign = 1.0 if signal.direction == "long" else -1.0
    opens, highs, lows, closes = (
        candles.open[first:end],
        candles.high[first:end],
        candles.low[first:end],
        candles.close[first:end],
    )
    fill = 0
    limit = signal.source == "manual"
    if limit:
        previous = _previous_closes(candles, first, end)
        touched = (lows <= entry) & (highs >= entry)
        gapped = (previous - entry) * (opens - entry) < 0
        found = _first(touched | gapped)
        if found is None:
            if not expired:
                return None
            exit_at = ms_to_datetime(int(ts[end - 1]) + step) if end > first else signal.valid_until
            return Outcome(
                status="expired", exit_price=None, exit_at=exit_at, result_r=0.0, result_pct=0.0, costs=costs
            )
        fill = found
    adverse = lows[fill:] if sign > 0 else highs[fill:]
    favourable = highs[fill:] if sign > 0 else lows[fill:]
    stop_hit = sign * (adverse - stop) <= 0
    target_hit = sign * (favourable - target) >= 0
    if limit and target_hit.size:
        target_hit[0] = sign * (closes[fill] - target) >= 0
    hit_stop, hit_target = _first(stop_hit), _first(target_hit)
    status: Status
    if hit_stop is not None and (hit_target is None or hit_stop <= hit_target):
        index = fill + hit_stop
        opened = float(opens[index])
        status, exit_price = "sl", opened if sign * (opened - stop) <= 0 else stop
    elif hit_target is not None:
        index = fill + hit_target
        status, exit_price = "tp", target
    elif expired:
        if end > first:
            index = end - first - 1
            status, exit_price = "expired", float(closes[index])
        else:
            return _outcome("expired", entry, signal, signal.valid_until, costs)
    else:
        return None
    return _outcome(status, exit_price, signal, ms_to_datetime(int(ts[first + index]) + step), costs)


def _outcome(
    status: Status, exit_price: float, signal: SignalIdea | SignalRecord, exit_at: datetime, costs: Costs
) -> Outcome:
    sign = 1.0 if signal.direction == "long" else -1.0
    gross_pct = sign * (exit_price - signal.entry) / signal.entry * 100
    result_pct = gross_pct - 2 * (costs.fee_pct + costs.slippage_pct)
    risk_pct = abs(signal.entry - signal.stop) / signal.entry * 100
    return Outcome(
        status=status,
        exit_price=exit_price,
        exit_at=exit_at,
        result_r=result_pct / risk_pct,
        result_pct=result_pct,
        costs=costs,
    )
