"""Reading /alert and /position arguments in English and Chinese; problems name their locale key."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.i18n import Translations
from services.risk.parse import (
    ABOVE,
    BELOW,
    MOVE,
    AlertRequest,
    ParseError,
    PositionRequest,
    parse_alert,
    parse_number,
    parse_position,
)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("btc > 70000", AlertRequest("btc", ABOVE, Decimal(70000))),
        ("BTC >= 70,000", AlertRequest("BTC", ABOVE, Decimal(70000))),
        ("eth < 3000", AlertRequest("eth", BELOW, Decimal(3000))),
        ("eth below 2.9k", AlertRequest("eth", BELOW, Decimal(2900))),
        ("btc 高于 7万", AlertRequest("btc", ABOVE, Decimal(70000))),
        ("比特币跌破60000", AlertRequest("比特币", BELOW, Decimal(60000))),
        ("doge 0.2", AlertRequest("doge", None, Decimal("0.2"))),
        ("sol ±5% 1h", AlertRequest("sol", MOVE, pct=Decimal(5), window="1h")),
        ("sol +-5% 4h", AlertRequest("sol", MOVE, pct=Decimal(5), window="4h")),
        ("sol 5%", AlertRequest("sol", MOVE, pct=Decimal(5), window="1h")),
        ("sol 涨跌2.5% 1小时", AlertRequest("sol", MOVE, pct=Decimal("2.5"), window="1h")),
    ],
)
def test_alert_forms(args: str, expected: AlertRequest) -> None:
    assert parse_alert(args) == expected


@pytest.mark.parametrize(
    ("args", "key"),
    [
        ("", "alert-usage"),
        ("btc", "alert-usage"),
        ("btc > lots", "alert-usage"),
        ("sol ±500% 1h", "alert-bad-pct"),
        ("sol ±5% 3m", "alert-bad-window"),
        ("sol ±5% soon", "alert-bad-window"),
        ("btc > 0", "risk-bad-number"),
    ],
)
def test_alert_problems_name_their_answer(args: str, key: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_alert(args)
    assert caught.value.key == key


def test_numbers() -> None:
    assert parse_number("70,000") == Decimal(70000)
    assert parse_number("1.5m") == Decimal(1_500_000)
    assert parse_number("7万") == Decimal(70000)
    with pytest.raises(ParseError):
        parse_number("1.2.3")


def test_position_forms() -> None:
    full = parse_position("add btc long 10x entry 65000 size 0.1 sl 62000 tp 70000")
    assert full == PositionRequest(
        "btc", "long", Decimal(65000), Decimal(10), Decimal("0.1"), Decimal(62000), Decimal(70000)
    )
    chinese = parse_position("add eth 空 20倍 开仓3000 止损3100 止盈2800")
    assert chinese == PositionRequest(
        "eth", "short", Decimal(3000), Decimal(20), Decimal(0), Decimal(3100), Decimal(2800)
    )
    assert parse_position("sol short x5 @ 150").leverage == Decimal(5)


@pytest.mark.parametrize(
    ("args", "key"),
    [
        ("", "position-usage"),
        ("add btc 10x entry 65000", "position-need-side"),
        ("add btc long 10x", "position-need-entry"),
        ("add btc long 500x entry 65000", "position-bad-leverage"),
        ("add btc long 10x entry 65000 sl 66000", "position-bad-stop-long"),
        ("add btc short 10x entry 65000 sl 64000", "position-bad-stop-short"),
        ("add btc long 10x entry 65000 tp 60000", "position-bad-tp-long"),
        ("add btc short 10x entry 65000 tp 66000", "position-bad-tp-short"),
        ("add btc long 10x entry 65000 banana", "position-unknown-word"),
        ("add btc long entry abc", "risk-bad-number"),
    ],
)
def test_position_problems_name_their_answer(args: str, key: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_position(args)
    assert caught.value.key == key


def test_every_problem_key_is_translated_in_both_languages() -> None:
    translations = Translations()
    keys = {
        "alert-usage",
        "alert-bad-pct",
        "alert-bad-window",
        "risk-bad-number",
        "position-usage",
        "position-need-side",
        "position-need-entry",
        "position-bad-leverage",
        "position-bad-stop-long",
        "position-bad-stop-short",
        "position-bad-tp-long",
        "position-bad-tp-short",
        "position-unknown-word",
    }
    for locale in ("en", "zh"):
        assert keys <= translations.keys(locale)
