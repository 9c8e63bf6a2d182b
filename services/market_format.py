"""Number formatting for market answers: prices by magnitude, signed percentages, compact volumes,
funding rates, durations and exchange names. Pure functions, no aiogram, no HTML (plain text out).

Everything that depends on the language takes `locale` ("en" or "zh"); unknown locales read as "en".
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

__all__ = [
    "MISSING",
    "exchange_name",
    "format_compact",
    "format_duration",
    "format_funding",
    "format_pct",
    "format_price",
    "format_utc_time",
    "price_decimals",
]

MISSING = "—"
MINUS = "-"

_EXCHANGE_NAMES = {"bybit": "Bybit", "binance": "Binance", "okx": "OKX", "bitget": "Bitget", "gate": "Gate"}
# (threshold, suffix) from the largest; Chinese counts in 万 (10⁴) and 亿 (10⁸).
_COMPACT_UNITS: dict[str, tuple[tuple[float, str], ...]] = {
    "en": ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")),
    "zh": ((1e12, "万亿"), (1e8, "亿"), (1e4, "万")),
}
_DURATION_UNITS: dict[str, tuple[str, str, str, str]] = {  # day, hour, minute, "under a minute"
    "en": ("d", "h", "m", "<1m"),
    "zh": ("天", "小时", "分钟", "不到1分钟"),
}


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _round(value: float, decimals: int) -> Decimal:
    """Half-up decimal rounding (float formatting rounds 0.125 to 0.12; traders expect 0.13)."""
    quantum = Decimal(1).scaleb(-decimals)
    return Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP)


def _grouped(value: float, decimals: int) -> str:
    return f"{_round(value, decimals):,.{decimals}f}"


def price_decimals(price: float) -> int:
    """Decimals for a price: 67,234.5 · 3,012.25 · 150.25 · 15.123 · 1.2345 · 0.08123 · 0.00001234.

    Prices ≥ 1 keep 5–6 significant digits, smaller ones 4 significant digits (at most 12 decimals).
    """
    magnitude = abs(price)
    if magnitude >= 10_000:
        return 1
    if magnitude >= 100:
        return 2
    if magnitude >= 10:
        return 3
    if magnitude >= 1:
        return 4
    if magnitude == 0:
        return 2
    leading_zeros = -math.floor(math.log10(magnitude)) - 1  # 0.08123 → 1, 0.00001234 → 4
    return min(12, leading_zeros + 4)


def format_price(price: float | None) -> str:
    """A price with thousands separators and decimals by magnitude; "—" when unknown."""
    if price is None or not _finite(price):
        return MISSING
    text = _grouped(price, price_decimals(price))
    return text.replace("-", MINUS)


def format_pct(pct: float | None, decimals: int = 2) -> str:
    """A signed percentage already in percent units: 3.5873 → "+3.59%", -0.004 → "0.00%"."""
    if pct is None or not _finite(pct):
        return MISSING
    rounded = _round(pct, decimals)
    if rounded == 0:
        return f"{abs(rounded):.{decimals}f}%"
    sign = "+" if rounded > 0 else MINUS
    return f"{sign}{abs(rounded):,.{decimals}f}%"


def format_funding(rate: float | None) -> str:
    """A funding rate given as a fraction per interval: 0.0001 → "+0.0100%"."""
    if rate is None or not _finite(rate):
        return MISSING
    rounded = _round(rate * 100, 4)
    if rounded == 0:
        return "0.0000%"
    return f"{'+' if rounded > 0 else MINUS}{abs(rounded):.4f}%"


def format_compact(value: float | None, locale: str = "en") -> str:
    """Large amounts: 2,287,185,542 → "2.29B" (en) / "22.87亿" (zh); small ones with separators."""
    if value is None or not _finite(value):
        return MISSING
    sign = MINUS if value < 0 else ""
    magnitude = abs(value)
    units = _COMPACT_UNITS.get(locale, _COMPACT_UNITS["en"])
    for index, (threshold, suffix) in enumerate(units):
        if magnitude < threshold:
            continue
        scaled = _round(magnitude / threshold, 2 if magnitude / threshold < 100 else 1)
        if index > 0 and scaled * Decimal(repr(threshold)) >= Decimal(repr(units[index - 1][0])):
            threshold, suffix = units[index - 1]  # 999.96M rounds to 1000.0M: say 1.00B
            scaled = _round(magnitude / threshold, 2)
        return f"{sign}{scaled:,}{suffix}"
    return f"{sign}{_grouped(magnitude, 2 if magnitude < 100 else 1 if magnitude < 1000 else 0)}"


def format_duration(delta: timedelta | float, locale: str = "en") -> str:
    """A coarse positive duration (timedelta or seconds): "2h 15m", "1d 3h", "45m" / "2小时15分钟"."""
    seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
    day, hour, minute, under = _DURATION_UNITS.get(locale, _DURATION_UNITS["en"])
    minutes_total = int(max(0.0, seconds) // 60)
    if minutes_total < 1:
        return under
    days, rest = divmod(minutes_total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        parts = [(days, day), (hours, hour)]
    elif hours:
        parts = [(hours, hour), (minutes, minute)]
    else:
        parts = [(minutes, minute)]
    joiner = "" if locale == "zh" else " "
    return joiner.join(f"{number}{unit}" for number, unit in parts if number)


def format_utc_time(when: datetime, now: datetime | None = None) -> str:
    """A UTC time: "08:00 UTC" today, "03-02 08:00 UTC" on another day (numbers only, the same in every locale)."""
    moment = when.astimezone(UTC)
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    if moment.date() == today:
        return moment.strftime("%H:%M UTC")
    return moment.strftime("%m-%d %H:%M UTC")


def exchange_name(exchange_id: str) -> str:
    """A ccxt id as people write it: bybit → Bybit, okx → OKX."""
    return _EXCHANGE_NAMES.get(exchange_id.lower(), exchange_id.capitalize())
