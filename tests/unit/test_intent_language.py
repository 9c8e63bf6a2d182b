"""The answer's language is the question's; relative time words pick the timeframe (issue 13, 7)."""

from __future__ import annotations

import pytest

from services.intent.horizon import HORIZONS, find_horizon
from services.intent.language import answer_language


@pytest.mark.parametrize(
    ("text", "interface", "expected"),
    [
        ("比特币今天怎么样", "en", "zh"),
        ("BTC 短线", "en", "zh"),
        ("以太坊 4h", "en", "zh"),
        ("how does BTC look?", "zh", "en"),
        ("ETH today", "zh", "en"),
        ("what about sol", "zh", "en"),
        ("BTC 4h", "zh", "zh"),  # tickers and timeframes only: the interface language
        ("$ETH", "en", "en"),
        ("SOLUSDT 1d", "zh", "zh"),
        ("🚀🚀", "zh", "zh"),
        ("", "en", "en"),
    ],
)
def test_answer_language(text: str, interface: str, expected: str) -> None:
    assert answer_language(text, interface) == expected


@pytest.mark.parametrize(
    ("text", "key", "timeframe"),
    [
        ("BTC today?", "today", "1d"),
        ("比特币今天怎么样", "today", "1d"),
        ("ETH 今日走势", "today", "1d"),
        ("intraday view on SOL", "today", "1d"),
        ("what about this week", "this_week", "1d"),
        ("以太坊本周会涨吗", "this_week", "1d"),
        ("BTC next week", "this_week", "1d"),
        ("比特币这个月", "this_month", "1d"),
        ("BTC this year", "this_year", "1w"),
        ("SOL 短线机会", "short_term", "1h"),
        ("short-term setup for ETH", "short_term", "1h"),
        ("比特币长线怎么看", "long_term", "1d"),
        ("long term BTC", "long_term", "1d"),
        ("ETH 波段", "swing", "4h"),
        ("swing trade on SOL?", "swing", "4h"),
        ("scalping BTC", "scalp", "15m"),
        ("超短 ETH", "scalp", "15m"),
        ("BTC tonight", "hours", "1h"),
        ("明天比特币", "tomorrow", "1h"),
        ("短线和长线都说说", "short_term", "1h"),  # the first row of the table wins
    ],
)
def test_time_words_map_to_timeframes(text: str, key: str, timeframe: str) -> None:
    horizon = find_horizon(text)
    assert horizon is not None and horizon.key == key and horizon.timeframe == timeframe


@pytest.mark.parametrize("text", ["BTC 4h", "how does ETH look?", "shortage of SOL", "the longest candle", "weekday"])
def test_no_time_word_no_horizon(text: str) -> None:
    assert find_horizon(text) is None


def test_every_horizon_is_a_supported_timeframe_with_a_note() -> None:
    from services.intent import TIMEFRAMES

    for horizon in HORIZONS.values():
        assert horizon.timeframe in TIMEFRAMES and horizon.note.isascii() and len(horizon.note) < 120
