"""The /price and /chart query (services.intent.query): the chat's readers, one default timeframe, coin lookup."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from services.i18n import Translations
from services.intent import (
    DEFAULT_TIMEFRAME,
    extract,
    find_timeframe,
    parse_market_query,
    read_timeframe,
    resolve_coin,
)
from services.market import UnknownSymbol
from services.market_text import price_text
from standins.exchanges import DEFAULT_NOW, MarketEnv, SymbolSpec, default_specs, market_env

BASES = {"BTC", "ETH", "SOL", "BCH"}


@pytest.mark.parametrize(
    "word",
    ["5m", "15m", "1h", "4h", "1d", "1w", "15min", "4H", "H4", "4hours", "daily", "weekly", "4小时", "四小时", "日线"],
)
def test_commands_and_chat_read_a_timeframe_alike(word: str) -> None:
    assert read_timeframe(word) == find_timeframe(word) is not None
    command = parse_market_query(f"BTC {word}")
    assert command.timeframe == extract(f"BTC {word}", known_bases=BASES).timeframe
    assert command.unsupported is None


def test_one_default_timeframe_for_commands_and_chat() -> None:
    from services.chat import pipeline

    assert DEFAULT_TIMEFRAME == "4h"
    assert vars(pipeline)["DEFAULT_TIMEFRAME"] is DEFAULT_TIMEFRAME  # the chat's fallback is this very value
    assert extract("how is BTC?", known_bases=BASES).timeframe is None  # → the default, in the chat
    assert parse_market_query("BTC").timeframe == DEFAULT_TIMEFRAME
    assert parse_market_query("BTC 3m").timeframe == DEFAULT_TIMEFRAME


@pytest.fixture
async def env() -> AsyncIterator[MarketEnv]:
    specs = [*default_specs(["BTC", "ETH", "SOL", "DOGE"]), SymbolSpec("HALF", price=2.0, funding_interval_min=240)]
    async with market_env(bybit_specs=specs, exchanges=("bybit",)) as env:
        yield env


@pytest.mark.parametrize(
    ("query", "pair"),
    [
        ("BTC", "BTC/USDT"),
        ("$eth", "ETH/USDT"),
        ("SOLUSDT", "SOL/USDT"),
        ("bitcoin", "BTC/USDT"),
        ("以太坊", "ETH/USDT"),
    ],
)
async def test_resolve_coin_takes_tickers_pairs_and_names(env: MarketEnv, query: str, pair: str) -> None:
    assert (await resolve_coin(env.service, query)).pair == pair


async def test_resolve_coin_keeps_the_users_query_in_the_error(env: MarketEnv) -> None:
    with pytest.raises(UnknownSymbol) as info:
        await resolve_coin(env.service, "DOGGO")
    assert info.value.query == "DOGGO" and "DOGE" in info.value.suggestions
    # a coin name whose coin the exchanges do not list: the error names what the user typed
    with pytest.raises(UnknownSymbol) as named:
        await resolve_coin(env.service, "dogwifhat")
    assert named.value.query == "dogwifhat"


async def test_a_four_hourly_funding_reads_per_8h_through_ccxt(env: MarketEnv) -> None:
    resolved = await resolve_coin(env.service, "HALF")
    derivatives = await env.service.derivatives(resolved)
    assert derivatives is not None
    assert derivatives.funding_interval_hours == 4.0 and derivatives.funding_rate == pytest.approx(0.0001)
    now = datetime.fromtimestamp(DEFAULT_NOW, tz=UTC)
    text = price_text(Translations().get("en"), resolved, await env.service.ticker(resolved), derivatives, now=now)
    assert "Funding: +0.0200% per 8h · next in " in text
