"""Intent extraction for the chat analyst: coins, timeframe, language, prompt-injection check."""

from services.intent.extract import MAX_COINS, Intent, extract, resolve_base
from services.intent.injection import is_prompt_injection
from services.intent.timeframe import TIMEFRAMES, find_timeframe

__all__ = ["MAX_COINS", "TIMEFRAMES", "Intent", "extract", "find_timeframe", "is_prompt_injection", "resolve_base"]
