"""How the settings' environment values are read and checked: `bot.settings.Settings` attaches these to
its fields (pydantic's BeforeValidator parses the text of a list or of pairs, AfterValidator checks the
typed value).

Lists and pairs are comma-separated (`bybit, okx`; `bybit=0.055,*=0.06`). A check raises ValueError with
a sentence for a person; `bot.settings.load_settings` turns it into one line naming the variable.
"""

from __future__ import annotations

import re

from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from services.admin.prices import parse_llm_prices
from services.exchange_ids import is_ccxt_exchange
from services.i18n import SUPPORTED_LOCALES

# What @BotFather gives: the bot's numeric id, a colon, and (today) 35 characters of A-Z a-z 0-9 _ -.
BOT_TOKEN_SHAPE = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{30,50}")

# What a market scan can fetch: services.market.timeframes.SUPPORTED_TIMEFRAMES (a test keeps them
# equal; importing it here would load the market package at settings time).
SCAN_TIMEFRAMES = ("5m", "15m", "1h", "4h", "1d", "1w")


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _pairs(value: object, example: str) -> object:
    """`key=value, …` (keys lowercased) as a dict of strings for pydantic to type; else `example`."""
    if not isinstance(value, str):
        return value
    pairs: dict[str, str] = {}
    for item in _csv(value):
        key, sep, number = item.partition("=")
        if not sep or not key.strip() or not number.strip():
            raise ValueError(example)
        pairs[key.strip().lower()] = number.strip()
    return pairs


# Lists


def split_csv(value: object) -> object:
    return _csv(value) if isinstance(value, str) else value


def lower_csv(value: object) -> object:
    return [part.lower() for part in _csv(value)] if isinstance(value, str) else value


def known_exchanges(names: list[str]) -> list[str]:
    unknown = [name for name in names if not is_ccxt_exchange(name)]  # ccxt itself is not imported
    if unknown:
        raise ValueError(f"unknown exchange id {', '.join(unknown)} (ccxt ids such as bybit, binance, okx)")
    return names


def exchange_ids(value: list[str]) -> list[str]:
    if not value:
        raise ValueError("at least one ccxt exchange id, e.g. bybit,binance,okx")
    return known_exchanges(value)


def scan_timeframes(value: list[str]) -> list[str]:
    known = SCAN_TIMEFRAMES  # the market service's timeframes (services/market/timeframes.py)
    unknown = [name for name in value if name not in known]
    if unknown:
        raise ValueError(f"unknown timeframe {', '.join(unknown)} (any of {', '.join(known)})")
    return value


def position_steps(value: object) -> object:
    steps = split_csv(value)
    if isinstance(steps, list) and any(not 0 < int(step) < 100 for step in steps):
        raise ValueError("percentages between 1 and 99, e.g. 50,80")
    return steps


# Pairs


def rate_pairs(value: object) -> object:
    return _pairs(value, "expected key=rate pairs, e.g. *=0.01,bybit:btc=0.005")


def margin_rates(value: dict[object, float]) -> dict[object, float]:
    if any(not 0 <= rate < 1 for rate in value.values()):
        raise ValueError("maintenance margin rates are fractions from 0 to 1, e.g. 0.005 for 0.5 %")
    return value


def fee_pairs(value: object) -> object:
    return _pairs(value, "expected exchange=percent pairs, e.g. bybit=0.055,binance=0.05,*=0.06")


def fee_percents(value: dict[str, float]) -> dict[str, float]:
    if any(not 0 <= fee < 5 for fee in value.values()):
        raise ValueError("fees are percent per side from 0 to 5, e.g. 0.055 for 0.055 %")
    return value


def llm_prices(value: object) -> object:
    if not isinstance(value, str):
        return value
    return {model: (price.prompt, price.completion) for model, price in parse_llm_prices(value).items()}


def exchange_urls(value: object) -> object:
    if not isinstance(value, str):
        return value
    pairs: dict[str, str] = {}
    for item in _csv(value):
        name, sep, url = item.partition("=")
        if not sep or not name.strip() or not url.strip().startswith(("http://", "https://")):
            raise ValueError("expected id=http(s)://host pairs, e.g. bybit=http://127.0.0.1:8000")
        pairs[name.strip().lower()] = url.strip().rstrip("/")
    known_exchanges(list(pairs))
    return pairs


# Single values


def bot_token(value: SecretStr) -> SecretStr:
    token = value.get_secret_value()
    if token and not BOT_TOKEN_SHAPE.fullmatch(token):
        # Never echo the value: it is a secret, and a wrong one is often a real token mangled.
        raise ValueError("not a bot token; @BotFather gives <bot id>:<35 characters>, e.g. 123456789:AAF…")
    return value


def http_url(value: str) -> str:
    if value and not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value.rstrip("/")


def database_url(value: str) -> str:
    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise ValueError("not a SQLAlchemy URL, e.g. postgresql+asyncpg://user@host/db") from exc
    if url.drivername not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
        raise ValueError("use sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db")
    return value


def redis_url(value: str) -> str:
    if value and not value.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("use redis://host:6379/0 (rediss:// for TLS, unix:// for a socket), or leave it empty")
    return value


def locale(value: str) -> str:
    if value not in SUPPORTED_LOCALES:
        raise ValueError(f"one of {', '.join(SUPPORTED_LOCALES)}")
    return value


def candle_timeframe(value: str) -> str:
    from services.market.errors import UnsupportedTimeframe
    from services.market.timeframes import validate_timeframe

    try:
        return validate_timeframe(value)
    except UnsupportedTimeframe as exc:
        raise ValueError(str(exc)) from None


def strategy_name(value: str) -> str:
    from services.signals.strategy import STRATEGIES

    name = value.strip().lower()
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {value!r} (one of {', '.join(STRATEGIES)})")
    return name


def empty_is_unset(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value
