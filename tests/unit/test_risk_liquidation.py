"""Liquidation prices against worked examples (isolated margin, services/risk/liquidation.py) and
the warning steps a price path reaches."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from db.repositories.risk import PositionRow
from services.risk.liquidation import LiquidationError, liquidation_price, mmr_for, progress
from services.risk.rules import Seen, messages_for, position_steps

# (side, entry, leverage, mmr, expected) — worked by hand: long entry×(1−1/L+m), short entry×(1+1/L−m)
EXAMPLES = [
    ("long", "65000", "10", "0.005", "58825"),
    ("short", "65000", "10", "0.005", "71175"),
    ("long", "3000", "20", "0.01", "2880"),
    ("short", "3000", "25", "0.005", "3105"),
    ("long", "65000", "1", "0.005", "325"),
    ("short", "65000", "2", "0.005", "97175"),
    ("long", "0.6", "5", "0.01", "0.486"),
    ("short", "0.6", "100", "0.005", "0.603"),
]


@pytest.mark.parametrize(("side", "entry", "leverage", "mmr", "expected"), EXAMPLES)
def test_liquidation_prices_equal_the_worked_examples(
    side: str, entry: str, leverage: str, mmr: str, expected: str
) -> None:
    assert liquidation_price(side, entry, leverage, mmr) == Decimal(expected)


def test_high_leverage_long_is_one_percent_below_entry_at_fifty_x() -> None:
    # 150 × (1 − 0.02 + 0.01) = 148.5
    assert liquidation_price("long", 150, 50, "0.01") == Decimal("148.5")


def test_leverage_whose_margin_is_below_maintenance_has_no_liquidation_price() -> None:
    with pytest.raises(LiquidationError) as caught:
        liquidation_price("long", 65000, 200, "0.005")
    assert caught.value.mmr == Decimal("0.005")
    with pytest.raises(LiquidationError):
        liquidation_price("short", 65000, 0.5, "0.005")


def test_maintenance_rate_most_specific_key_and_tiers() -> None:
    rates = {"*": 0.01, "bybit": 0.008, "bybit:btc": 0.005}
    assert mmr_for(rates, "bybit", "BTC") == Decimal("0.005")
    assert mmr_for(rates, "bybit", "SOL") == Decimal("0.008")
    assert mmr_for(rates, "binance", "BTC") == Decimal("0.01")
    tiers = ((2_000_000.0, 0.01), (10_000_000.0, 0.025))
    assert mmr_for(rates, "bybit", "BTC", 1_000_000, tiers) == Decimal("0.005")
    assert mmr_for(rates, "bybit", "BTC", 2_000_000, tiers) == Decimal("0.01")
    assert mmr_for(rates, "bybit", "BTC", 50_000_000, tiers) == Decimal("0.025")


def test_progress_is_zero_at_entry_and_one_at_liquidation() -> None:
    assert progress("long", 65000, 58825, 65000) == 0
    assert progress("long", 65000, 58825, 58825) == 1
    assert progress("short", 65000, 71175, 68087.5) == pytest.approx(0.5)
    assert progress("short", 65000, 71175, 60000) < 0


def _position(side: str, *, warned: str = "", stop: float | None = None, tp: float | None = None) -> PositionRow:
    entry, liq = (65000.0, 58825.0) if side == "long" else (65000.0, 71175.0)
    return PositionRow(
        1,
        1,
        10,
        "BTC",
        "bybit",
        side,
        entry,
        10.0,
        0.1,
        stop,
        tp,
        liq,
        0.005,
        warned,
        True,
        datetime(2026, 1, 1, tzinfo=UTC),
        None,
        None,
        "en",
    )


def test_steps_reached_by_a_long_and_the_message_for_them() -> None:
    long = _position("long", stop=61000, tp=70000)
    assert position_steps(long, Seen.price(64000), (50, 80)) == []
    halfway = 65000 - 0.5 * 6175
    assert position_steps(long, Seen.price(halfway), (50, 80)) == ["50"]
    assert position_steps(long, Seen.price(60000), (50, 80)) == ["50", "80", "sl"]
    assert messages_for(["50", "80", "sl"]) == ["80", "sl"]
    assert position_steps(_position("long", warned="50"), Seen.price(60000), (50, 80)) == ["80"]
    assert position_steps(long, Seen(64000, 70500, 63900), (50, 80)) == ["tp"]
    assert position_steps(long, Seen.price(58000), (50, 80)) == ["50", "80", "liq", "sl"]


def test_steps_reached_by_a_short() -> None:
    short = _position("short", stop=68000, tp=60000)
    assert position_steps(short, Seen.price(68100), (50, 80)) == ["50", "sl"]
    assert position_steps(short, Seen(64000, 64000, 59000), (50, 80)) == ["tp"]
    assert position_steps(_position("short", warned="50,sl"), Seen.price(70000), (50, 80)) == ["80"]
