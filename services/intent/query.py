"""The coin and timeframe of a /price or /chart argument: "ETH 4h", "4h ETH", "bitcoin cash 1d", "以太坊 4小时".

Built on the chat's own readers (`find_timeframe` for Chinese timeframes, `extract` for coin names),
so a command and a chat message understand the same words and share `DEFAULT_TIMEFRAME`. One
difference is deliberate: a command names its timeframe exactly, so one we don't serve ("3m", "2h",
"月线") is answered with the supported list, while the chat maps a loose mention ("30 minutes") to
the nearest supported timeframe.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

from services.intent.extract import extract
from services.intent.timeframe import DEFAULT_TIMEFRAME, find_timeframe
from services.market import (
    SUPPORTED_TIMEFRAMES,
    MarketService,
    ResolvedSymbol,
    UnknownSymbol,
    UnsupportedTimeframe,
    validate_timeframe,
)

__all__ = ["MAX_QUERY", "MarketQuery", "parse_market_query", "read_timeframe", "resolve_coin"]

MAX_QUERY = 64  # characters of a coin query we look at
# Things that are clearly meant as a timeframe ("3m", "2h", "30min", "1mo", "monthly") even when we
# don't support them: the answer lists the supported ones instead of looking for a coin "3M".
_TIMEFRAME_LIKE = re.compile(
    r"\d{1,4}\s?(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?|mo|mons?|months?|y|yrs?|years?)"
    r"|monthly|yearly|quarterly",
    re.IGNORECASE,
)
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True, slots=True)
class MarketQuery:
    """What a /price or /chart argument asks for."""

    coin: str = ""  # the coin as typed ("bitcoin cash", "$eth"); "" when none is named ("/chart 4h")
    timeframe: str = DEFAULT_TIMEFRAME  # canonical; the default when none is named
    unsupported: str | None = None  # a timeframe as typed that we don't serve ("3m", "月线")


def read_timeframe(token: str) -> str | None:
    """The canonical timeframe a token means, None if it is no timeframe at all.

    Raises `UnsupportedTimeframe` for timeframe-looking tokens we don't serve ("3m", "2h", "monthly").
    """
    candidates = [token]
    if len(token) > 2 and token[-1] in "sS":  # 4hours, 15mins
        candidates.append(token[:-1])
    for candidate in candidates:
        with contextlib.suppress(UnsupportedTimeframe):
            return validate_timeframe(candidate)
    if _TIMEFRAME_LIKE.fullmatch(token):
        raise UnsupportedTimeframe(token, SUPPORTED_TIMEFRAMES)
    if not _CJK.search(token):
        return None
    found = find_timeframe(token)  # 4小时, 日线, 15分钟
    digits = re.findall(r"\d+", token)
    if found is not None and ("月" in token or (digits and not found.startswith(digits[0]))):
        raise UnsupportedTimeframe(token, SUPPORTED_TIMEFRAMES)  # 月线, 3分钟: not the nearest one
    return found


def _is_timeframe_token(token: str) -> bool:
    try:
        return read_timeframe(token) is not None
    except UnsupportedTimeframe:
        return True


def _is_bare_timeframe(query: str) -> bool:
    """A query like "4h" (no coin). Letters alone ("W", "D", "daily") are coins: W is a ticker."""
    return bool(re.search(r"\d", query) or _CJK.search(query)) and " " not in query and _is_timeframe_token(query)


def _split(args: str) -> tuple[str, str | None]:
    """(coin words, timeframe word or None): the timeframe is the last word, or else the first."""
    tokens = args.split()
    if len(tokens) >= 2:
        if _is_timeframe_token(tokens[-1]):
            return " ".join(tokens[:-1]), tokens[-1]
        if _is_timeframe_token(tokens[0]):
            return " ".join(tokens[1:]), tokens[0]
    return " ".join(tokens), None


def parse_market_query(args: str) -> MarketQuery:
    """The coin and timeframe of a command's arguments; `coin` is "" when they name no coin."""
    coin, raw_timeframe = _split(args)
    if not coin or _is_bare_timeframe(coin):
        return MarketQuery()
    if raw_timeframe is None:
        return MarketQuery(coin=coin)
    try:
        return MarketQuery(coin=coin, timeframe=read_timeframe(raw_timeframe) or DEFAULT_TIMEFRAME)
    except UnsupportedTimeframe:
        return MarketQuery(coin=coin, unsupported=raw_timeframe)


async def resolve_coin(market: MarketService, query: str) -> ResolvedSymbol:
    """A ticker or pair (`BTC`, `$eth`, `SOLUSDT`), else a coin name (`bitcoin`, `以太坊`)."""
    query = query.strip()[:MAX_QUERY]
    first = query.split()[0] if query.split() else query
    try:
        return await market.resolve(first)
    except UnknownSymbol as unknown:
        coins = extract(query, known_bases=market.known_bases()).coins
        if not coins:
            raise
        try:
            return await market.resolve(coins[0])
        except UnknownSymbol:
            raise unknown from None
