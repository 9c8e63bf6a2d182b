"""The `MarketService` facade end to end: snapshot, ticker, derivatives, lifecycle."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime

import pytest

from services.market import MarketService, MarketView, render_chart_async
from standins.exchanges import DEFAULT_NOW, MarketEnv, SymbolSpec, default_specs, market_env


@pytest.fixture
async def env() -> AsyncIterator[MarketEnv]:
    specs = [*default_specs(), SymbolSpec("HOT", price=2.0, funding_rate=0.0012, open_interest=9_000_000)]
    async with market_env(bybit_specs=specs) as env:
        yield env


async def test_snapshot_has_everything_for_a_chat_answer(env: MarketEnv) -> None:
    view = await env.service.snapshot("$sol", "4h")
    assert isinstance(view, MarketView)
    assert view.resolved.pair == "SOL/USDT"
    assert view.timeframe == "4h"
    assert view.exchange == "bybit" == view.candles.exchange == view.ticker.exchange
    assert view.as_of == datetime.fromtimestamp(DEFAULT_NOW, tz=UTC)
    assert len(view.candles) == 300
    assert view.ticker.price > 0 and view.ticker.change_24h_pct is not None
    assert view.ticker.volume_24h is not None and view.ticker.volume_24h > 0
    assert view.candles.close[-1] == view.ticker.price  # the forming candle carries the live price
    assert view.analysis.price == view.ticker.price
    assert view.derivatives is not None
    assert view.derivatives.symbol == "SOL/USDT:USDT"
    assert view.derivatives.funding_rate == pytest.approx(0.0001)
    assert view.derivatives.funding_interval_hours == 8.0
    assert view.derivatives.next_funding_time is not None
    assert view.derivatives.open_interest == pytest.approx(50_000)
    assert view.derivatives.open_interest_value == pytest.approx(50_000 * view.ticker.price, rel=1e-3)
    record = view.snapshot.as_dict()
    assert record["symbol"] == "SOL/USDT" and record["timeframe"] == "4h" and record["exchange"] == "bybit"
    assert record["as_of"] == view.as_of and record["price"] == view.ticker.price
    for key in ("ema20", "ema50", "macd", "rsi7", "rsi14", "atr", "funding_rate", "open_interest"):
        assert isinstance(record[key], float) and math.isfinite(record[key]), key
    data = asdict(view.analysis)
    assert data["derivatives"]["funding_bias"] == "longs_pay"
    png = await render_chart_async(
        view.candles, view.analysis, symbol=view.resolved.pair, timeframe=view.timeframe, exchange=view.exchange
    )
    assert png.startswith(b"\x89PNG")


async def test_extreme_funding_is_flagged(env: MarketEnv) -> None:
    view = await env.service.snapshot("HOT", "1h")
    assert view.analysis.derivatives is not None
    assert view.analysis.derivatives.funding_extreme is True
    assert view.analysis.derivatives.open_interest == pytest.approx(9_000_000)


async def test_snapshot_without_perp_has_no_derivatives() -> None:
    specs = [*default_specs(["BTC"]), SymbolSpec("SPOT", perp=False)]
    async with market_env(bybit_specs=specs, binance_specs=default_specs(["BTC"])) as env:
        view = await env.service.snapshot("SPOT", "1d")
        assert view.derivatives is None and view.analysis.derivatives is None
        assert view.snapshot.funding_rate is None


async def test_snapshot_survives_failing_ticker_and_derivatives(env: MarketEnv) -> None:
    env.bybit.inject("http500", path="/v5/market/tickers")
    env.bybit.inject("http500", path="/v5/market/open-interest")
    env.binance.inject("http500", path="/ticker")
    env.binance.inject("http500", path="/fapi/v1/premiumIndex")
    env.binance.inject("http500", path="/fapi/v1/openInterest")
    view = await env.service.snapshot("ETH", "1h")
    assert view.derivatives is None
    assert view.ticker.price == view.candles.last_close
    assert view.ticker.change_24h_pct is None  # built from the candles


async def test_partial_derivatives(env: MarketEnv) -> None:
    env.binance.inject("http500", path="/fapi/v1/openInterest")
    derivatives = await env.service.derivatives("WIF")
    assert derivatives is not None and derivatives.exchange == "binance"
    assert derivatives.funding_rate == pytest.approx(0.0001)
    assert derivatives.open_interest is None
    assert env.binance.count("/fapi/v1/openInterest") == 3


async def test_analyze_for_the_scanner(env: MarketEnv) -> None:
    analysis = await env.service.analyze("BTCUSDT", "1h")
    assert analysis.exchange == "bybit" and analysis.timeframe == "1h" and analysis.symbol == "BTC/USDT"
    assert analysis.derivatives is not None


async def test_close_releases_the_http_sessions() -> None:
    async with market_env() as env:
        await env.service.candles("BTC", "1h")
        clients = list(env.service._pool.clients.values())
        assert any(client.raw.session is not None for client in clients)
    assert all(client.raw.session is None for client in clients)


async def test_async_context_manager() -> None:
    async with market_env(start=False) as env:
        service = MarketService(
            ["bybit"], api_urls={"bybit": env.bybit.url}, clock=env.clock, close_grace_ms=0, timeout_ms=2000
        )
        async with service:
            assert "BTC" in service.known_bases()
        assert service._pool.clients["bybit"].raw.session is None
