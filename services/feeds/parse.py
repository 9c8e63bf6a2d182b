"""The arguments of /subscribe and /unsubscribe: coins, timeframes and kinds in any order
("btc eth 1h 4h signals", "SOL, risk", "比特币 4小时 信号"). Coins stay as typed: the handler
resolves them against the exchanges' markets."""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.intent import read_timeframe

KIND_WORDS = {
    "signals": "signals",
    "signal": "signals",
    "sig": "signals",
    "信号": "signals",
    "risk": "risk",
    "risks": "risk",
    "alerts": "risk",
    "风险": "risk",
    "all": "*",
    "全部": "*",
}
MAX_TOKENS = 24
_WORD_TIMEFRAMES = frozenset({"hourly", "daily", "weekly", "monthly"})


def _timeframe_like(token: str) -> bool:
    """Letters alone are coins ("W", "D" are tickers), except the timeframe words."""
    return bool(re.search(r"[\d\u3400-\u9fff]", token)) or token.lower() in _WORD_TIMEFRAMES


@dataclass(frozen=True, slots=True)
class FeedArgs:
    coins: tuple[str, ...] = ()  # as typed
    timeframes: tuple[str, ...] = ()  # canonical
    kinds: tuple[str, ...] = ()  # signals / risk (both for "all")


def parse_feed_args(text: str) -> FeedArgs:
    """Raises `UnsupportedTimeframe` for a timeframe we don't serve ("3m")."""
    coins: list[str] = []
    timeframes: list[str] = []
    kinds: list[str] = []
    for token in [t for t in re.split(r"[\s,，、;]+", text.strip()) if t][:MAX_TOKENS]:
        kind = KIND_WORDS.get(token.lower())
        if kind == "*":
            kinds.extend(("signals", "risk"))
            continue
        if kind is not None:
            kinds.append(kind)
            continue
        timeframe = read_timeframe(token) if _timeframe_like(token) else None
        if timeframe is not None:
            timeframes.append(timeframe)
            continue
        coins.append(token)
    return FeedArgs(tuple(dict.fromkeys(coins)), tuple(dict.fromkeys(timeframes)), tuple(dict.fromkeys(kinds)))
