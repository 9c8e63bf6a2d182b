"""Timeframe mentions ("15m", "4 hour", "4小时", "日线", "the daily", "H4") → one of the supported ones.

`DEFAULT_TIMEFRAME` is the one default of the whole bot: the timeframe of a chat question that names
none (and whose conversation has none yet), of `/chart BTC`, and of a "did you mean" chart button.
It is 4h, what the chat analyst has always used: a 4-hour chart shows the swing (weeks, not hours
or months) that a question like "how does BTC look?" is about.
"""

from __future__ import annotations

import math
import re

from services.market.timeframes import MINUTE_MS, SUPPORTED_TIMEFRAMES, TIMEFRAME_MS

__all__ = ["DEFAULT_TIMEFRAME", "TIMEFRAMES", "find_timeframe"]

TIMEFRAMES = SUPPORTED_TIMEFRAMES
DEFAULT_TIMEFRAME = "4h"
_MINUTES = {timeframe: ms // MINUTE_MS for timeframe, ms in TIMEFRAME_MS.items()}

_EN_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "eight": 8,
    "twelve": 12,
    "fifteen": 15,
    "thirty": 30,
    "an": 1,
    "a": 1,
}
_ZH_NUMBERS = {
    "一": 1,
    "两": 2,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "八": 8,
    "十二": 12,
    "十五": 15,
    "三十": 30,
}
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 1440, "w": 10080}

_NUM = r"(?<![A-Za-z0-9.,$€¥£])(?P<n>\d{1,3})"
_EN = "(?P<n>" + "|".join(sorted(_EN_NUMBERS, key=len, reverse=True)) + ")"
_ZH = "(?P<n>" + "|".join(sorted(_ZH_NUMBERS, key=len, reverse=True)) + ")"

# (pattern, unit or None for a fixed timeframe, fixed timeframe, what the text must contain for the
# row to be worth trying: digit / word / cjk). The number, if any, is group "n". Earlier rows win
# when two match at the same place. "(?i:...)" marks case-insensitive rows.
_ROWS: list[tuple[str, str | None, str, str]] = [
    # compact forms: 15m 4h 1d 1w 4H 1D (a lone "m" must be lower case: "5M" is five million)
    (_NUM + r"m(?![A-Za-z0-9])", "m!", "", "digit"),
    (_NUM + r"\s?(?:h|hr|hrs|H)(?![A-Za-z0-9])", "h", "", "digit"),
    (_NUM + r"[dD](?![A-Za-z0-9])", "d", "", "digit"),
    (_NUM + r"[wW](?![A-Za-z0-9])", "w", "", "digit"),
    # spelled units: 15 min, 4 hour(s), 4-hour, 1 day chart, 1 week chart
    (_NUM + r"\s?-?\s?(?i:mins?|minutes?)(?![A-Za-z])", "m", "", "digit"),
    (_NUM + r"\s?-?\s?(?i:hours?|hourly)(?![A-Za-z])", "h", "", "digit"),
    (_NUM + r"\s?-?\s?(?i:days?\s?(?:chart|candles?|tf|timeframe|view))", "d", "", "digit"),
    (_NUM + r"\s?-?\s?(?i:weeks?\s?(?:chart|candles?|tf|timeframe|view))", "w", "", "digit"),
    (r"(?<![A-Za-z])(?i:" + _EN + r"[\s-](?:mins?|minutes?))(?![A-Za-z])", "m", "", "word"),
    (r"(?<![A-Za-z])(?i:" + _EN + r"[\s-]hours?)(?![A-Za-z])", "h", "", "word"),
    # Chinese: 15分钟 4小时 四小时
    (_NUM + r"\s?(?:分钟|分鐘|分k|分K|分线)", "m", "", "digit"),
    (_NUM + r"\s?(?:小时|小時|h线|H线)", "h", "", "digit"),
    (_ZH + r"个?(?:分钟|分鐘)", "m", "", "cjk"),
    (_ZH + r"个?(?:小时|小時)", "h", "", "cjk"),
    # MetaTrader style: M15 H1 H4 D1 W1
    (r"(?<![A-Za-z0-9])[Mm](?P<n>5|15|30)(?![A-Za-z0-9])", "m", "", "digit"),
    (r"(?<![A-Za-z0-9])[Hh](?P<n>1|4)(?![A-Za-z0-9])", "h", "", "digit"),
    (r"(?<![A-Za-z0-9])D1(?![A-Za-z0-9])", None, "1d", "digit"),
    (r"(?<![A-Za-z0-9])W1(?![A-Za-z0-9])", None, "1w", "digit"),
    # words
    (r"(?<![A-Za-z])(?i:hourly)(?![A-Za-z])|(?<![A-Za-z0-9-])(?i:hour\s?(?:chart|candles?|tf))", None, "1h", "word"),
    (r"(?<![A-Za-z])(?i:daily)(?![A-Za-z])|(?<![A-Za-z0-9-])(?i:day\s?(?:chart|candles?|tf))", None, "1d", "word"),
    (r"(?<![A-Za-z])(?i:weekly)(?![A-Za-z])|(?<![A-Za-z0-9-])(?i:week\s?(?:chart|candles?|tf))", None, "1w", "word"),
    (r"(?<![A-Za-z])(?i:monthly)(?![A-Za-z])|(?<![A-Za-z0-9-])(?i:month\s?(?:chart|candles?))", None, "1w", "word"),
    (r"小时线|小时图|小時線|时线", None, "1h", "cjk"),
    (r"日线|日k|日K|日線|天线图|日图|日级别|日內|日内", None, "1d", "cjk"),
    (r"周线|周k|周K|週線|周图|周级别", None, "1w", "cjk"),
    (r"月线|月k|月K|月線", None, "1w", "cjk"),
]

_COMPILED = [re.compile(row[0]) for row in _ROWS]
# Cheap pre-checks: a row can only match if the text has what it is built from.
_DIGIT = re.compile(r"\d")
_CJK_HINT = re.compile(r"[分小时時线線日周週月]")
_WORD_HINT = ("min", "hour", "da", "week", "month", "fifteen", "thirty")


def _applicable(text: str) -> list[int]:
    present = {
        "digit": _DIGIT.search(text) is not None,
        "cjk": _CJK_HINT.search(text) is not None,
        "word": any(hint in text.lower() for hint in _WORD_HINT),
    }
    return [index for index, row in enumerate(_ROWS) if present[row[3]]]


def _nearest(minutes: float) -> str:
    """The supported timeframe closest on a log scale (ties go to the shorter one)."""
    return min(TIMEFRAMES, key=lambda tf: (abs(math.log(minutes / _MINUTES[tf])), _MINUTES[tf]))


def find_timeframe(text: str) -> str | None:
    """The first timeframe mentioned in `text`, mapped to a supported one, or None."""
    best: tuple[int, int, str] | None = None  # (position, row, timeframe)
    for index in _applicable(text):
        _, unit, fixed, _ = _ROWS[index]
        for match in _COMPILED[index].finditer(text):
            if best is not None and match.start() > best[0]:
                break
            if unit is None:
                found = fixed
            else:
                raw = match.group("n")
                number = _EN_NUMBERS.get(raw.lower()) or _ZH_NUMBERS.get(raw) or (int(raw) if raw.isdigit() else 0)
                if number <= 0 or (unit == "m!" and number < 3):
                    continue  # "1m" is far more often "one million" than a one-minute chart
                found = _nearest(number * _UNIT_MINUTES[unit[0]])
            candidate = (match.start(), index, found)
            if best is None or candidate < best:
                best = candidate
            break
    return best[2] if best else None
