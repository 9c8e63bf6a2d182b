"""What a user asks about: coins, timeframe and language of a chat message or a /price, /chart argument."""

from services.intent.extract import MAX_COINS, Intent, extract, resolve_base
from services.intent.injection import is_prompt_injection
from services.intent.query import MarketQuery, parse_market_query, read_timeframe, resolve_coin
from services.intent.timeframe import DEFAULT_TIMEFRAME, TIMEFRAMES, find_timeframe

__all__ = [
    "DEFAULT_TIMEFRAME",
    "MAX_COINS",
    "TIMEFRAMES",
    "Intent",
    "MarketQuery",
    "extract",
    "find_timeframe",
    "is_prompt_injection",
    "parse_market_query",
    "read_timeframe",
    "resolve_base",
    "resolve_coin",
]
