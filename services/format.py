"""Every number the bot shows: /price, /chart captions, the rule-based analyst and the model's data block.

One rule per kind of number, the same everywhere:

* prices: decimals by magnitude (5–6 significant digits from 1 up, 4 below 1), thousands separators,
  half-up rounding: 67,234.5 · 3,012.25 · 150.26 · 15.123 · 1.2346 · 0.08123 · 0.00001234;
* percent changes carry their sign: +3.59%, -1.20%; a change that rounds to zero reads 0.00%
  (no direction). Sizes that cannot be negative (ATR as a share of price) have no sign: 2.35%;
* funding is always stated per 8 hours: the exchange's rate × 8 / its interval in hours (a rate
  whose interval the exchange does not state is taken as per 8h), the normalisation the analysis
  uses for its thresholds, so coins with 1h, 4h and 8h intervals compare directly: +0.0100%;
* large amounts (volume, open interest) in one unit style per language: en 2.29B · 456.7M ·
  12.35K, zh 22.87亿 · 4,567.8万 (Chinese counts in 万 and 亿);
* a value that is unknown, NaN or infinite is "—" (`MISSING`), never "n/a", "nan" or "inf".

Prices, percentages and funding read the same in English and Chinese; amounts and durations take
`locale` ("en" or "zh"; any other reads as "en"). Pure functions, plain text (no HTML), no aiogram.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

__all__ = [
    "MISSING",
    "exchange_name",
    "format_change",
    "format_compact",
    "format_duration",
    "format_funding",
    "format_number",
    "format_pct",
    "format_price",
    "format_share",
    "format_utc_time",
    "price_decimals",
]

MISSING = "—"

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


def _signed(value: float, decimals: int) -> str:
    rounded = _round(value, decimals)
    if rounded == 0:
        return f"{abs(rounded):.{decimals}f}"
    return f"{'+' if rounded > 0 else '-'}{abs(rounded):,.{decimals}f}"


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
    """A price (or a price-like amount: EMA, ATR, MACD) by magnitude; "—" when unknown."""
    if price is None or not _finite(price):
        return MISSING
    return _grouped(price, price_decimals(price))


def format_pct(pct: float | None, decimals: int = 2) -> str:
    """A signed change already in percent units: 3.5873 → "+3.59%", -1.2 → "-1.20%", -0.004 → "0.00%"."""
    if pct is None or not _finite(pct):
        return MISSING
    return f"{_signed(pct, decimals)}%"


def format_change(pct: float | None) -> str:
    """A 24h change with a direction mark: "▲ +3.59%", "▼ -1.20%", "0.00%"."""
    text = format_pct(pct)
    if pct is None or text in (MISSING, "0.00%"):
        return text
    return f"{'▲' if pct > 0 else '▼'} {text}"


def format_share(pct: float | None, decimals: int = 2) -> str:
    """A size as a percentage of something (ATR of price), unsigned: 2.3456 → "2.35%"."""
    if pct is None or not _finite(pct):
        return MISSING
    return f"{_grouped(pct, decimals)}%"


def format_funding(rate_8h: float | None) -> str:
    """A funding rate per 8 hours, given as a fraction: 0.0001 → "+0.0100%", 0 → "0.0000%".

    Callers pass the rate normalised to 8 hours (`DerivativesContext.funding_8h`), never the raw
    per-interval rate: the texts around it say "per 8h".
    """
    if rate_8h is None or not _finite(rate_8h):
        return MISSING
    return f"{_signed(rate_8h * 100, 4)}%"


def format_compact(value: float | None, locale: str = "en") -> str:
    """Large amounts: 2,287,185,542 → "2.29B" (en) / "22.87亿" (zh); small ones with separators."""
    if value is None or not _finite(value):
        return MISSING
    sign = "-" if value < 0 else ""
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


def format_number(value: float | None, decimals: int = 1) -> str:
    """A plain reading (RSI, a ratio, a percentile) with fixed decimals: 63.456 → "63.5"; "—" when unknown."""
    if value is None or not _finite(value):
        return MISSING
    return _grouped(value, decimals)


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
