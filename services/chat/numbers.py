"""Number formatting shared by the prompt's data block and the rule-based analyst."""

from __future__ import annotations

import math


def price(value: float) -> str:
    """Significant digits by magnitude: 67,234.5 · 3,456.78 · 0.5123 · 0.00001234."""
    if not math.isfinite(value):
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 10_000:
        return f"{value:,.1f}"
    if magnitude >= 100:
        return f"{value:,.2f}"
    if magnitude >= 1:
        return f"{value:,.4f}".rstrip("0").rstrip(".") if magnitude < 10 else f"{value:,.3f}"
    if magnitude == 0:
        return "0"
    decimals = min(12, 3 - math.floor(math.log10(magnitude)))
    return f"{value:.{decimals}f}"


def pct(value: float | None, digits: int = 2, signed: bool = True) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:+.{digits}f}%" if signed else f"{value:.{digits}f}%"


def compact(value: float | None) -> str:
    """1.23B · 456.7M · 12.3K."""
    if value is None or not math.isfinite(value):
        return "n/a"
    for threshold, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= threshold:
            return f"{value / threshold:.2f}{suffix}"
    return f"{value:.2f}"


def number(value: float | None, digits: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.{digits}f}"
