"""Relative time words ("today", "this week", 短线, 长线…) → the timeframe that answers them.

A question that names a timeframe ("4h", "日线") gets that one; a question that names only a
horizon gets the timeframe of this table, and the model is told the horizon (`Horizon.note`, in
English like the rest of the market block) so "today" is answered as today, with the day's move.

| words | timeframe | why |
|---|---|---|
| today, intraday, 今天, 今日, 当天 | 1d | the day's candle and levels, with the 24h (intraday) move |
| tonight, next few hours, 今晚, 几小时 | 1h | hours ahead: hourly candles |
| tomorrow, 明天 | 1h | the next day in hourly candles |
| this week, next week, 本周, 这周, 下周 | 1d | a week is seven daily candles (one weekly candle says little) |
| this month, 本月, 这个月 | 1d | about thirty daily candles |
| this year, 今年 | 1w | weeks |
| scalp, 超短 | 15m | minutes to an hour |
| short term, 短线, 短期 | 1h | hours to a day or two |
| swing, mid term, 波段, 中线, 中期 | 4h | days to weeks |
| long term, 长线, 长期, 長線, 長期 | 1d | weeks to months (1w needs years of history that new coins lack) |

Earlier rows of `_ROWS` win when two words appear; matching is case-insensitive.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["HORIZONS", "Horizon", "find_horizon"]


@dataclass(frozen=True, slots=True)
class Horizon:
    key: str  # today, this_week, short_term…
    timeframe: str
    note: str  # for the model's data block


HORIZONS: dict[str, Horizon] = {
    h.key: h
    for h in (
        Horizon("scalp", "15m", "scalp: minutes to an hour; weigh the nearest levels and RSI7"),
        Horizon("today", "1d", "today: the daily view with the intraday move (change_24h, nearest levels)"),
        Horizon("hours", "1h", "the next few hours: hourly candles"),
        Horizon("tomorrow", "1h", "tomorrow: the next day, in hourly candles"),
        Horizon("this_week", "1d", "this week: the next days, in daily candles"),
        Horizon("this_month", "1d", "this month: the next weeks, in daily candles"),
        Horizon("this_year", "1w", "this year: months ahead, in weekly candles"),
        Horizon("short_term", "1h", "short term: hours to a day or two"),
        Horizon("swing", "4h", "swing / mid term: days to weeks"),
        Horizon("long_term", "1d", "long term: weeks to months; weigh EMA50/EMA200 and the larger levels"),
    )
}

_ROWS: tuple[tuple[str, str], ...] = (
    (r"\bscalp(?:ing|s)?\b|超短", "scalp"),
    (r"\b(?:short[\s-]?term|near[\s-]?term)\b|短线|短期|短線", "short_term"),
    (r"\b(?:long[\s-]?term|longer[\s-]?term|hodl)\b|长线|长期|長線|長期", "long_term"),
    (r"\b(?:swing(?:\s?trade)?|mid[\s-]?term|medium[\s-]?term)\b|波段|中线|中期|中線", "swing"),
    (r"\b(?:today|intraday|this\s+session)\b|今天|今日|当天|當天|日内|日內", "today"),
    (r"\b(?:tonight|next\s+(?:few\s+)?hours?)\b|今晚|今夜|几个?小时内|幾個?小時內", "hours"),
    (r"\btomorrow\b|明天|明日", "tomorrow"),
    (r"\b(?:this|next|the\s+coming)\s+week\b|本周|这周|這週|本週|下周|下週|这个星期|這個星期", "this_week"),
    (r"\b(?:this|next|the\s+coming)\s+month\b|本月|这个月|這個月|下个月|下個月", "this_month"),
    (r"\b(?:this|next)\s+year\b|今年|明年", "this_year"),
)
_COMPILED = tuple((re.compile(pattern, re.IGNORECASE), key) for pattern, key in _ROWS)


def find_horizon(text: str) -> Horizon | None:
    """The horizon a question names, or None."""
    text = unicodedata.normalize("NFKC", text or "")
    for pattern, key in _COMPILED:
        if pattern.search(text):
            return HORIZONS[key]
    return None
