"""Isolated-margin liquidation price of a declared position (no exchange keys: from what the user typed).

The formula (Bybit's and Binance's isolated margin without added margin or fees, linear USDT
contracts)::

    initial margin rate   IMR = 1 / leverage
    maintenance rate      MMR (from settings per exchange and coin, or a notional tier)
    long:   liq = entry × (1 − IMR + MMR)
    short:  liq = entry × (1 + IMR − MMR)

It follows from "the position is liquidated when the margin left equals the maintenance margin":
for a long of size q, margin q·entry·IMR − loss q·(entry − liq) = q·liq·MMR·(≈ entry); exchanges
compute maintenance on the entry value, which gives the lines above. Worked examples (tested):

    long  65,000 × 10x, MMR 0.5 % → 65,000 × (1 − 0.1 + 0.005)  = 58,825
    short 65,000 × 10x, MMR 0.5 % → 65,000 × (1 + 0.1 − 0.005)  = 71,175
    long   3,000 × 20x, MMR 1 %   →  3,000 × (1 − 0.05 + 0.01)  =  2,880
    short  3,000 × 25x, MMR 0.5 % →  3,000 × (1 + 0.04 − 0.005) =  3,105

Large positions use a higher maintenance rate (exchanges' risk-limit tiers): `mmr_for` takes the
rate of the highest tier whose notional floor (entry × size) the position reaches. Arithmetic is
in `Decimal` from the decimal strings of the inputs, so the examples come out exact.

Warning steps: `progress` is how far the price has gone from entry towards liquidation (0 at entry,
1 at liquidation), so "50 %" means half the way to being liquidated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

LONG = "long"
SHORT = "short"
SIDES = (LONG, SHORT)
DEFAULT_MMR = Decimal("0.01")
_Q = Decimal("0.00000001")


class LiquidationError(ValueError):
    """Inputs that have no liquidation price (leverage so high the maintenance margin exceeds the margin)."""

    def __init__(self, message: str, mmr: Decimal | None = None) -> None:
        super().__init__(message)
        self.mmr = mmr


def _dec(value: float | str | Decimal) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def liquidation_price(
    side: str, entry: float | str | Decimal, leverage: float | str | Decimal, mmr: float | str | Decimal
) -> Decimal:
    """The isolated-margin liquidation price (see the module docstring), exact to 8 decimals."""
    entry_d, leverage_d, mmr_d = _dec(entry), _dec(leverage), _dec(mmr)
    if side not in SIDES:
        raise ValueError(f"side must be long or short, not {side!r}")
    if entry_d <= 0 or leverage_d < 1 or not Decimal(0) <= mmr_d < 1:
        raise LiquidationError("entry > 0, leverage ≥ 1 and 0 ≤ MMR < 1 are required")
    imr = Decimal(1) / leverage_d
    if imr <= mmr_d:
        raise LiquidationError(f"leverage {leverage_d} is too high for a maintenance margin rate of {mmr_d}", mmr_d)
    factor = (Decimal(1) - imr + mmr_d) if side == LONG else (Decimal(1) + imr - mmr_d)
    return (entry_d * factor).quantize(_Q).normalize()


def mmr_for(
    rates: Mapping[str, float],
    exchange: str,
    base: str,
    notional: float | None = None,
    tiers: Sequence[tuple[float, float]] = (),
) -> Decimal:
    """The maintenance margin rate for a coin on an exchange: `rates` keys are "exchange:COIN",
    "exchange" or "*" (most specific wins); `tiers` (notional floor, rate), when the position's
    notional reaches a floor, raise the rate to that tier's (never lower it)."""
    rate = _dec(
        rates.get(f"{exchange}:{base}".lower(), rates.get(exchange.lower(), rates.get("*", float(DEFAULT_MMR))))
    )
    if notional is not None:
        for floor, tier_rate in sorted(tiers):
            if notional >= floor:
                rate = max(rate, _dec(tier_rate))
    return rate


def progress(side: str, entry: float, liquidation: float, price: float) -> float:
    """0 at entry, 1 at the liquidation price; negative when the position is in profit."""
    span = entry - liquidation if side == LONG else liquidation - entry
    if span <= 0:
        return 0.0
    moved = entry - price if side == LONG else price - entry
    return moved / span
