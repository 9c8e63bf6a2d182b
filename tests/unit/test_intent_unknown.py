"""Coin-like words that name no listed coin, the nearest listed coins, and comparison words."""

from __future__ import annotations

import pytest

from services.intent.compare import asks_comparison
from services.intent.unknown import asked_unknown_coins, near_matches, unknown_coins
from tests.unit.test_intent_extract import CASES, KNOWN_BASES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("how is FOOBARCOIN doing?", ("FOOBARCOIN",)),
        ("how is foobarcoin doing?", ("FOOBARCOIN",)),
        ("what about $SOLL today?", ("SOLL",)),
        ("#foobar pump?", ("FOOBAR",)),
        ("xyzusdt 4h", ("XYZ",)),
        ("XYZ/USDT on the daily", ("XYZ",)),
        ("FOOBAR币怎么样", ("FOOBAR",)),
        ("compare BTC and FOOBAR vs QWERTY", ("FOOBAR", "QWERTY")),
        ("MoonToken?", ("MOONTOKEN",)),
    ],
)
def test_coin_like_words_that_no_exchange_lists(text: str, expected: tuple[str, ...]) -> None:
    assert unknown_coins(text, KNOWN_BASES) == expected


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        "how is it going?",
        "and the daily?",
        "日线呢？",
        "WHAT IS GOING ON WITH THE MARKET TODAY",  # shouted: capitals say nothing
        "RSI on H4?",
        "any SEC news before the FOMC and CPI?",
        "is this altcoin season?",
        "OK thanks",
        "BTC and ETH on the 4h",
        "bitcoin vs ethereum",
        "$ETH 1D",
        "ETHUSDT",
        "and the EMA200?",
        "what about RSI14 and MA50",
        "any news for Q3?",
        "GM! LFG",
        "BTCD and TOTAL2 look heavy",
        "the perp funding is high",
        "I have some usdc to deploy",
        "#gm everyone",
    ],
)
def test_ordinary_words_and_listed_coins_are_not_unknown_coins(text: str) -> None:
    assert unknown_coins(text, KNOWN_BASES) == ()


def test_no_real_world_phrasing_of_the_extraction_suite_has_an_unknown_coin() -> None:
    found = {text: unknown_coins(text, KNOWN_BASES) for text, _, _ in CASES}
    assert {text: words for text, words in found.items() if words} == {}


def test_a_name_of_a_coin_no_exchange_lists_is_unknown() -> None:
    # MATIC is the old name of POL; where POL is not listed either, the word names nothing we have.
    assert unknown_coins("MATIC 4h", {"BTC", "ETH"}) == ("MATIC",)
    assert unknown_coins("MATIC 4h", {"BTC", "POL"}) == ()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SOLL", ("SOL",)),
        ("ETHEREUMM", ("ETH",)),  # by name
        ("DOGECOINN", ("DOGE",)),
        ("SHIBAINUU", ("SHIB",)),
        ("PEPECOIN", ("PEPE",)),  # the "COIN" ending dropped
        ("FOOBARCOIN", ()),
        ("USDTT", ()),  # stablecoins are never offered
    ],
)
def test_near_matches_by_ticker_and_name(query: str, expected: tuple[str, ...]) -> None:
    found = near_matches(query, KNOWN_BASES | {"USDT"})
    assert found[: len(expected)] == expected
    assert len(found) <= 4
    if not expected:
        assert found == ()


def test_near_matches_only_offer_listed_coins() -> None:
    assert near_matches("ETHEREUMM", {"BTC", "SOL"}) == ()
    assert near_matches("", KNOWN_BASES) == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("compare BTC and ETH", True),
        ("BTC vs ETH", True),
        ("btc vs. eth", True),
        ("比较 BTC 和 ETH", True),
        ("BTC和ETH哪个更强", True),
        ("is SOL stronger than ETH?", True),
        ("how does BTC look?", False),
        ("ETH 4h", False),
        ("比特币日线怎么样", False),
    ],
)
def test_comparison_words(text: str, expected: bool) -> None:
    assert asks_comparison(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BTC and FOOBAR 4h", ("FOOBAR",)),
        ("比特币和FOOBAR", ("FOOBAR",)),
        ("BTC, ETH and QWERTY", ("QWERTY",)),
        ("$BTC & $FOOBAR", ("FOOBAR",)),
        ("BTC vs FOOBAR", ("FOOBAR",)),
        ("is SOL stronger than FOOBAR?", ("FOOBAR",)),
        ("BTC after the NFP", ()),
        ("how is BTC? also the XYZCORP earnings", ()),  # not a list of coins: BTC alone
    ],
)
def test_unknown_coins_asked_beside_a_listed_one(text: str, expected: tuple[str, ...]) -> None:
    assert asked_unknown_coins(text, KNOWN_BASES, names_a_coin=True) == expected


def test_without_a_listed_coin_every_unknown_one_is_asked() -> None:
    assert asked_unknown_coins("how is XYZCORP doing?", KNOWN_BASES, names_a_coin=False) == ("XYZCORP",)
