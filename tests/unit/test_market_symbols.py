"""Symbol parsing and resolution against the fake exchanges' markets (real ccxt over HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.market import ExchangeUnavailable, MarketService, UnknownSymbol, UnsupportedTimeframe
from services.market.exchanges import create_ccxt_exchange, rewrite_urls
from services.market.symbols import parse_query
from services.market.timeframes import (
    SUPPORTED_TIMEFRAMES,
    candle_open,
    next_candle_close,
    validate_timeframe,
)
from standins.exchanges import (
    DEFAULT_NOW,
    FAST_CCXT,
    FAST_RETRY,
    FakeClock,
    MarketEnv,
    SymbolSpec,
    default_specs,
    market_env,
)


@pytest.fixture
async def env() -> AsyncIterator[MarketEnv]:
    specs = [*default_specs(), SymbolSpec("PERPONLY", price=2.0, spot=False), SymbolSpec("SPOTONLY", perp=False)]
    async with market_env(bybit_specs=specs) as env:
        yield env


@pytest.mark.parametrize(
    ("query", "base", "quote", "perp"),
    [
        ("BTC", "BTC", None, False),
        ("btc", "BTC", None, False),
        ("$btc", "BTC", None, False),
        (" #Eth ", "ETH", None, False),
        ("BTC/USDT", "BTC", "USDT", False),
        ("btc/usdt", "BTC", "USDT", False),
        ("BTCUSDT", "BTC", "USDT", False),
        ("BTC-USDT", "BTC", "USDT", False),
        ("BTC_USDT", "BTC", "USDT", False),
        ("BTC-USDT-SWAP", "BTC", "USDT", True),
        ("BTC/USDT:USDT", "BTC", "USDT", True),
        ("BTCUSDT.P", "BTC", "USDT", True),
        ("BTCPERP", "BTC", None, True),
        ("ETHBTC", "ETH", "BTC", False),
        ("SOLUSDC", "SOL", "USDC", False),
        ("NEWCOINUSDT", "NEWCOIN", "USDT", False),  # unknown base still split for suggestions
        ("PERP", "PERP", None, False),
    ],
)
def test_parse_query(query: str, base: str, quote: str | None, perp: bool) -> None:
    parsed = parse_query(query, {"BTC", "ETH", "SOL", "PERP"})
    assert (parsed.base, parsed.quote, parsed.perp) == (base, quote, perp)


FORMS = ["BTC", "btc", "$btc", "BTC/USDT", "BTCUSDT", "BTC-USDT-SWAP", "BTC/USDT:USDT", "btcusdt.p", "BTCUSD"]


async def test_resolution_forms(env: MarketEnv) -> None:
    for query in FORMS:
        resolved = await env.service.resolve(query)
        assert resolved.base == "BTC" and resolved.quote == "USDT", query
        assert resolved.spot == "BTC/USDT"
        assert resolved.perp == "BTC/USDT:USDT"
        assert resolved.exchange == "bybit"
        assert resolved.exchanges == ("bybit", "binance")
        assert resolved.pair == "BTC/USDT"
        perp = query in ("BTC-USDT-SWAP", "BTC/USDT:USDT", "btcusdt.p")
        assert resolved.market == ("BTC/USDT:USDT" if perp else "BTC/USDT"), query


async def test_did_you_mean(env: MarketEnv) -> None:
    with pytest.raises(UnknownSymbol) as info:
        await env.service.resolve("ETHH")
    assert info.value.query == "ETHH"
    assert "ETH" in info.value.suggestions
    assert "did you mean" in str(info.value)
    with pytest.raises(UnknownSymbol) as info:
        await env.service.resolve("SOLLUSDT")
    assert "SOL" in info.value.suggestions
    with pytest.raises(UnknownSymbol) as info:
        await env.service.resolve("QQQQQQQ")
    assert info.value.suggestions == ()


async def test_missing_on_the_first_exchange_is_found_on_the_next(env: MarketEnv) -> None:
    resolved = await env.service.resolve("wif")
    assert resolved.exchange == "binance"
    assert resolved.exchanges == ("binance",)
    candles = await env.service.candles(resolved, "1h", limit=100)
    assert candles.exchange == "binance"
    assert len(candles) == 100
    assert env.bybit.count("/v5/market/kline") == 0
    assert env.binance.count("/api/v3/klines", symbol="WIFUSDT") == 1
    ticker = await env.service.ticker("WIFUSDT")
    assert ticker.exchange == "binance" and ticker.price > 0


async def test_perp_only_and_spot_only_pairs(env: MarketEnv) -> None:
    perp_only = await env.service.resolve("perponly")
    assert perp_only.spot is None and perp_only.perp == "PERPONLY/USDT:USDT"
    assert perp_only.market == "PERPONLY/USDT:USDT"
    candles = await env.service.candles(perp_only, "15m", limit=80)
    assert candles.symbol == "PERPONLY/USDT:USDT"
    assert env.bybit.count("/v5/market/kline", category="linear", symbol="PERPONLYUSDT") == 1
    spot_only = await env.service.resolve("SPOTONLY")
    assert spot_only.perp is None
    assert await env.service.derivatives(spot_only) is None


async def test_known_bases(env: MarketEnv) -> None:
    bases = env.service.known_bases()
    assert {"BTC", "ETH", "SOL", "WIF", "PEPE", "PERPONLY", "SPOTONLY"} <= bases
    assert all(base == base.upper() for base in bases)


async def test_markets_load_only_spot_and_linear(env: MarketEnv) -> None:
    categories = sorted(
        (r.query.get("category", ""), r.query.get("status", "")) for r in env.bybit.requests_to("instruments-info")
    )
    assert categories == [("linear", ""), ("linear", "PreLaunch"), ("spot", "")]
    assert sorted(r.path for r in env.binance.requests) == ["/api/v3/exchangeInfo", "/fapi/v1/exchangeInfo"]


async def test_refresh_markets_picks_up_new_listings() -> None:
    clock = FakeClock(DEFAULT_NOW)
    async with market_env(clock=clock, markets_ttl=3600) as env:
        with pytest.raises(UnknownSymbol):
            await env.service.resolve("NEWC")
        env.bybit.book.specs["NEWC"] = SymbolSpec("NEWC", price=1.0)
        assert await env.service.refresh_markets() == {"bybit": None, "binance": None}
        assert (await env.service.resolve("NEWC")).exchange == "bybit"
        # lazy reload when the markets are older than markets_ttl
        env.binance.book.specs["LAZY"] = SymbolSpec("LAZY", price=1.0)
        before = env.binance.count("exchangeInfo")
        clock.advance(3601)
        assert (await env.service.resolve("LAZY")).exchange == "binance"
        assert env.binance.count("exchangeInfo") == before + 2


async def test_start_survives_an_exchange_that_is_down_and_loads_it_later() -> None:
    clock = FakeClock(DEFAULT_NOW)
    async with market_env(clock=clock, start=False) as env:
        env.bybit.inject("http503", path="instruments-info")
        await env.service.start()  # does not raise
        status = {s.exchange: s for s in env.service.status()}
        assert status["bybit"].markets_loaded is False and status["bybit"].breaker == "open"
        assert status["binance"].markets_loaded is True
        resolved = await env.service.resolve("BTC")
        assert resolved.exchanges == ("binance",)  # bybit is cooling down: not even asked
        env.bybit.clear_faults()
        clock.advance(61)
        resolved = await env.service.resolve("BTC")
        assert resolved.exchanges == ("bybit", "binance")


async def test_no_exchange_reachable() -> None:
    service = MarketService(
        ["bybit"],
        api_urls={"bybit": "http://127.0.0.1:9"},
        timeout_ms=500,
        retry=FAST_RETRY,
        close_grace_ms=0,
        ccxt_config=FAST_CCXT,
    )
    try:
        await service.start()
        with pytest.raises(ExchangeUnavailable):
            await service.resolve("BTC")
        assert service.known_bases() == set()
    finally:
        await service.close()


def test_unknown_exchange_id() -> None:
    with pytest.raises(ValueError, match="unknown ccxt exchange"):
        MarketService(["nosuchexchange"])
    with pytest.raises(ValueError):
        MarketService([])


@pytest.mark.parametrize("exchange_id", ["bybit", "binance", "okx", "bitget", "kraken"])
async def test_url_rewriting_covers_every_rest_url(exchange_id: str) -> None:
    base = "http://127.0.0.1:8123"
    exchange = create_ccxt_exchange(exchange_id, api_url=base, timeout_ms=1000)
    exchange.timeout_on_exit = 0
    try:
        urls: list[str] = []

        def walk(node: object) -> None:
            if isinstance(node, str):
                urls.append(node)
            elif isinstance(node, dict):
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(exchange.urls["api"])
        assert urls
        assert all(url.startswith(base) for url in urls), [u for u in urls if not u.startswith(base)]
        original = exchange.describe()["urls"]["api"]
        assert rewrite_urls(original, base) == exchange.urls["api"]
    finally:
        await exchange.close()


def test_rewrite_keeps_paths_and_adds_a_proxy_prefix() -> None:
    api = {"public": "https://api.binance.com/api/v3", "nested": {"x": ["https://fapi.binance.com/fapi/v1"]}}
    assert rewrite_urls(api, "http://proxy:81/binance") == {
        "public": "http://proxy:81/binance/api/v3",
        "nested": {"x": ["http://proxy:81/binance/fapi/v1"]},
    }
    assert rewrite_urls("https://api.{hostname}", "http://127.0.0.1:5") == "http://127.0.0.1:5"
    assert rewrite_urls("not a url", "http://x") == "not a url"


@pytest.mark.parametrize(("text", "canonical"), [("4H", "4h"), ("h1", "1h"), ("daily", "1d"), ("W", "1w"), ("5", "5m")])
def test_timeframe_aliases(text: str, canonical: str) -> None:
    assert validate_timeframe(text) == canonical


async def test_unsupported_timeframe_lists_the_supported_ones(env: MarketEnv) -> None:
    with pytest.raises(UnsupportedTimeframe) as info:
        await env.service.candles("BTC", "3m")
    assert info.value.supported == SUPPORTED_TIMEFRAMES
    assert "5m, 15m, 1h, 4h, 1d, 1w" in str(info.value)
    with pytest.raises(UnsupportedTimeframe):
        await env.service.snapshot("BTC", "2h")


def test_candle_boundaries() -> None:
    now = int(DEFAULT_NOW * 1000)  # Monday 10:02:30 UTC
    assert candle_open(now, "1h") == now - 150_000
    assert next_candle_close(now, "5m") == now + 150_000
    monday = now - (10 * 3600 + 150) * 1000
    assert candle_open(now, "1w") == monday  # weeks open on Monday 00:00 UTC
    assert candle_open(now, "1d") == monday
