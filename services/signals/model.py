"""The signal as the rest of the product sees it: plain data, no database, no aiogram.

`SignalIdea` is what a strategy or an admin proposes (not yet stored); `SignalRecord` (the
repository's `SignalRow`) is a stored signal with its outcome once graded; `Costs` are the trading costs an outcome is
graded with; `Outcome` is a graded close.

Conventions every part shares:
- `symbol` is the coin (base) as feeds store it ("BTC"); prices are in the quote (USDT).
- `signal_at` is the close time of the candle the decision used (UTC): only candles that closed at
  or before it were seen. Outcomes are graded on candles that open at or after it.
- `targets` are 1-3 take-profit levels ordered away from entry; outcomes are graded on the first.
- R: the risk unit |entry − stop|. A target's R is |target − entry| / R.
- `reason` is a tuple of rule codes (e.g. "trend_up", "macd_cross_up"); texts render them per language.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from db.repositories.signals import NewSignal, SignalRow

Direction = Literal["long", "short"]
Status = Literal["open", "tp", "sl", "expired"]
Source = Literal["auto", "manual"]
MAX_TARGETS = 3
SignalRecord = SignalRow  # a stored signal: plain data from db/repositories/signals.py


class InvalidSignal(ValueError):
    """A signal whose stop or targets are on the wrong side of entry, or that is otherwise unusable."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalIdea:
    symbol: str
    exchange: str
    timeframe: str
    direction: Direction
    entry: float
    stop: float
    targets: tuple[float, ...]
    confidence: int  # 0-100, derived from the rules that fired
    reason: tuple[str, ...]  # rule codes
    signal_at: datetime
    valid_until: datetime
    strategy: str
    version: str
    source: Source = "auto"
    created_by: int | None = None  # the admin's Telegram id (manual signals)
    note: str = ""

    def __post_init__(self) -> None:
        check_sides(self.direction, self.entry, self.stop, self.targets)
        if not 0 <= self.confidence <= 100:
            raise InvalidSignal("confidence is 0-100")
        if self.valid_until <= self.signal_at:
            raise InvalidSignal("valid_until must be after the signal time")

    @property
    def risk(self) -> float:
        return abs(self.entry - self.stop)

    def r_multiples(self) -> tuple[float, ...]:
        return r_multiples(self.entry, self.stop, self.targets)


def check_sides(direction: str, entry: float, stop: float, targets: tuple[float, ...]) -> None:
    """Raise `InvalidSignal` naming the problem when a level is on the wrong side of entry."""
    if direction not in ("long", "short"):
        raise InvalidSignal(f"direction is long or short, not {direction!r}")
    if not all(value > 0 for value in (entry, stop, *targets)):
        raise InvalidSignal("prices must be positive")
    if not 1 <= len(targets) <= MAX_TARGETS:
        raise InvalidSignal(f"1-{MAX_TARGETS} take-profit levels")
    sign = 1 if direction == "long" else -1
    if sign * (entry - stop) <= 0:
        raise InvalidSignal("stop_wrong_side")
    if any(sign * (target - entry) <= 0 for target in targets):
        raise InvalidSignal("target_wrong_side")
    if any(sign * (b - a) <= 0 for a, b in itertools.pairwise(targets)):
        raise InvalidSignal("targets_order")


def r_multiples(entry: float, stop: float, targets: tuple[float, ...]) -> tuple[float, ...]:
    risk = abs(entry - stop)
    return tuple(abs(target - entry) / risk for target in targets)


@dataclass(frozen=True, slots=True)
class Costs:
    """Per-side taker fee and slippage allowance, in percent of price (0.055 = 0.055 %)."""

    fee_pct: float = 0.055
    slippage_pct: float = 0.02


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    status: Status  # tp / sl / expired
    exit_price: float | None  # None: a limit entry never filled before valid_until (result 0)
    exit_at: datetime
    result_r: float  # after costs
    result_pct: float  # after costs
    costs: Costs


def costs_of(record: SignalRecord) -> Costs | None:
    """The costs a closed signal was graded with (None while open)."""
    if record.fee_pct is None or record.slippage_pct is None:
        return None
    return Costs(fee_pct=record.fee_pct, slippage_pct=record.slippage_pct)


def new_signal(idea: SignalIdea) -> NewSignal:
    """The repository's insert values for an idea."""
    return NewSignal(
        symbol=idea.symbol,
        exchange=idea.exchange,
        timeframe=idea.timeframe,
        direction=idea.direction,
        entry=idea.entry,
        stop=idea.stop,
        targets=idea.targets,
        confidence=idea.confidence,
        reason=idea.reason,
        strategy=idea.strategy,
        version=idea.version,
        source=idea.source,
        created_by=idea.created_by,
        note=idea.note,
        signal_at=idea.signal_at,
        valid_until=idea.valid_until,
    )
