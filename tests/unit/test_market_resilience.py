"""Retries, error mapping, exchange fallback and the circuit breaker (real ccxt over HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import ccxt.async_support as ccxt
import pytest

from services.market import (
    BadResponse,
    BreakerPolicy,
    ExchangeTimeout,
    ExchangeUnavailable,
    MarketError,
    NotEnoughData,
    RateLimited,
    RetryPolicy,
    UnknownSymbol,
)
from services.market.errors import map_ccxt_error
from services.market.retry import CircuitBreaker, retry_async
from standins.exchanges import DEFAULT_NOW, FakeClock, MarketEnv, SymbolSpec, default_specs, market_env

KLINE = "/v5/market/kline"


@pytest.fixture
async def env() -> AsyncIterator[MarketEnv]:
    async with market_env() as env:
        yield env


@pytest.fixture
async def bybit_only() -> AsyncIterator[MarketEnv]:
    async with market_env(exchanges=("bybit",), timeout_ms=400) as env:
        yield env


@pytest.mark.parametrize(
    "fault", ["http429", "ratelimit", "ban", "http500", "http502", "http503", "malformed", "empty"]
)
async def test_transient_faults_are_retried(bybit_only: MarketEnv, fault: str) -> None:
    bybit_only.bybit.inject(fault, path=KLINE, times=2)
    candles = await bybit_only.service.candles("BTC", "1h", limit=120)
    assert len(candles) == 120 and candles.exchange == "bybit"
    assert bybit_only.bybit.count(KLINE) == 3


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("ratelimit", RateLimited),  # HTTP 200 with retCode 10006
        ("http429", RateLimited),
        ("ban", RateLimited),  # HTTP 403 "access too frequent"
        ("http500", ExchangeUnavailable),
        ("http503", ExchangeUnavailable),
        ("malformed", BadResponse),
        ("empty", BadResponse),
    ],
)
async def test_persistent_faults_map_to_domain_errors(
    bybit_only: MarketEnv, fault: str, error: type[MarketError]
) -> None:
    bybit_only.bybit.inject(fault, path=KLINE)
    with pytest.raises(error) as info:
        await bybit_only.service.candles("ETH", "4h")
    assert isinstance(info.value, MarketError) and info.value.exchange == "bybit"
    assert isinstance(info.value.__cause__, ccxt.BaseError)
    assert bybit_only.bybit.count(KLINE) == 3  # bounded: RetryPolicy.attempts


async def test_timeout_is_retried_then_reported() -> None:
    async with market_env(exchanges=("bybit",), timeout_ms=150) as env:
        env.bybit.inject("timeout", path=KLINE, times=1, delay=5)
        candles = await env.service.candles("SOL", "1h", limit=60)
        assert len(candles) == 60
        assert env.bybit.count(KLINE) == 2
        env.bybit.inject("timeout", path="/v5/market/tickers", delay=5)
        with pytest.raises(ExchangeTimeout):
            await env.service.ticker("SOL")
        assert env.bybit.count("/v5/market/tickers") == 3


async def test_latency_below_the_timeout_is_fine(bybit_only: MarketEnv) -> None:
    bybit_only.bybit.inject("latency", path=KLINE, delay=0.1)
    assert len(await bybit_only.service.candles("BTC", "5m", limit=50)) == 50
    assert bybit_only.bybit.count(KLINE) == 1


async def test_unknown_symbol_error_from_the_exchange(env: MarketEnv) -> None:
    env.bybit.inject("unknown_symbol", path=KLINE)  # listed, but the exchange refuses it (delisting)
    assert (await env.service.candles("BTC", "1h")).exchange == "binance"
    assert env.bybit.count(KLINE) == 1  # not retried
    env.binance.inject("unknown_symbol", path="/klines")
    with pytest.raises(UnknownSymbol):
        await env.service.candles("ETH", "1h")
    assert {s.exchange: s.breaker for s in env.service.status()} == {"bybit": "closed", "binance": "closed"}


async def test_fallback_to_the_next_exchange_and_cool_down(env: MarketEnv) -> None:
    env.bybit.inject("http503")  # the whole exchange is down
    candles = await env.service.candles("BTC", "1h", limit=100)
    assert candles.exchange == "binance"
    assert env.bybit.count(KLINE) == 3
    status = {s.exchange: s for s in env.service.status()}
    assert status["bybit"].breaker == "open" and status["bybit"].retry_after > 0
    # while it cools down, bybit is not asked at all
    before = len(env.bybit.requests)
    ticker = await env.service.ticker("ETH")
    view = await env.service.snapshot("SOL", "4h")
    assert ticker.exchange == "binance"
    assert view.exchange == "binance" and view.ticker.exchange == "binance"
    assert view.derivatives is not None and view.derivatives.exchange == "binance"
    assert len(env.bybit.requests) == before
    # after the cool-down one trial request goes to bybit again; it is back, so it answers
    env.bybit.clear_faults()
    env.clock.advance(61)
    candles = await env.service.candles("XRP", "1h", limit=100)
    assert candles.exchange == "bybit"
    assert {s.exchange: s.breaker for s in env.service.status()}["bybit"] == "closed"


async def test_half_open_trial_failure_reopens(env: MarketEnv) -> None:
    env.bybit.inject("http500", path=KLINE)
    assert (await env.service.candles("BTC", "1h")).exchange == "binance"
    env.clock.advance(61)
    assert (await env.service.candles("ETH", "1h")).exchange == "binance"  # trial failed
    assert {s.exchange: s.breaker for s in env.service.status()}["bybit"] == "open"
    assert env.bybit.count(KLINE) == 6


async def test_a_cache_hit_does_not_close_a_half_open_breaker(env: MarketEnv) -> None:
    assert (await env.service.candles("BTC", "1h")).exchange == "bybit"  # cached until 11:00
    env.bybit.inject("http500", path=KLINE)
    assert (await env.service.candles("ETH", "1h")).exchange == "binance"
    env.clock.advance(61)
    assert (await env.service.candles("BTC", "1h")).exchange == "bybit"  # served from the cache
    assert {s.exchange: s.breaker for s in env.service.status()}["bybit"] == "half-open"
    assert (await env.service.candles("SOL", "1h")).exchange == "binance"  # the real trial fails
    assert {s.exchange: s.breaker for s in env.service.status()}["bybit"] == "open"


async def test_every_exchange_down() -> None:
    async with market_env() as env:
        env.bybit.inject("http502", path=KLINE)
        env.binance.inject("http500", path="/klines")
        with pytest.raises(ExchangeUnavailable) as info:
            await env.service.candles("BTC", "1h")
        assert info.value.exchange == "bybit"  # the preferred exchange's error is reported
        # both are cooling down now: fail fast, with a retry hint, without any request
        seen = len(env.bybit.requests) + len(env.binance.requests)
        with pytest.raises(ExchangeUnavailable) as info:
            await env.service.candles("ETH", "1h")
        assert info.value.retry_after is not None and 0 < info.value.retry_after <= 60
        assert len(env.bybit.requests) + len(env.binance.requests) == seen


async def test_rate_limited_then_fallback_on_binance_429() -> None:
    async with market_env(exchanges=("binance", "bybit")) as env:
        env.binance.inject("ratelimit", path="/api/v3/klines")
        candles = await env.service.candles("BTC", "1h", limit=80)
        assert candles.exchange == "bybit"
        assert env.binance.count("/api/v3/klines") == 3


async def test_short_history_is_not_enough_data() -> None:
    specs = [*default_specs(["BTC", "ETH"]), SymbolSpec("NEWC", price=0.5, history=40)]
    async with market_env(bybit_specs=specs) as env:
        candles = await env.service.candles("NEWC", "1h")
        assert len(candles) == 40
        with pytest.raises(NotEnoughData) as info:
            await env.service.snapshot("NEWC", "1h")
        assert (info.value.needed, info.value.got) == (60, 40)


def test_ccxt_error_mapping() -> None:
    cases = [
        (ccxt.RateLimitExceeded("x"), RateLimited, True),
        (ccxt.DDoSProtection("x"), RateLimited, True),
        (ccxt.RequestTimeout("x"), ExchangeTimeout, True),
        (ccxt.ExchangeNotAvailable("x"), ExchangeUnavailable, True),
        (ccxt.OnMaintenance("x"), ExchangeUnavailable, True),
        (ccxt.NetworkError("x"), ExchangeUnavailable, True),
        (ccxt.BadResponse("x"), BadResponse, True),
        (ccxt.NullResponse("x"), BadResponse, True),
        (ccxt.BadSymbol("x"), UnknownSymbol, False),
        (ccxt.ExchangeError("x"), ExchangeUnavailable, False),
        (ccxt.AuthenticationError("x"), ExchangeUnavailable, False),
    ]
    for exc, expected, retryable in cases:
        mapped = map_ccxt_error(exc, "bybit", symbol="BTC/USDT")
        assert type(mapped) is expected, exc
        assert mapped.retryable is retryable, exc
        assert mapped.exchange == "bybit"
    assert isinstance(map_ccxt_error(ccxt.BaseError("x"), "bybit"), MarketError)


async def test_retrier_bounds_and_backoff() -> None:
    sleeps: list[float] = []
    calls = 0

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise RateLimited("slow down")
        return "ok"

    policy = RetryPolicy(attempts=4, base_delay=0.5, max_delay=1.5, rate_limit_factor=2.0, jitter=0.0)
    assert await retry_async(flaky, policy, sleep=sleep) == "ok"
    assert sleeps == [1.0, 1.5]  # 0.5·2 then capped at max_delay

    async def broken() -> str:
        raise NotEnoughData(60, 1)

    with pytest.raises(NotEnoughData):
        await retry_async(broken, policy, sleep=sleep)
    assert len(sleeps) == 2  # permanent errors are not retried


async def test_retrier_backoff_without_rate_limits_and_with_jitter() -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def down() -> str:
        raise ExchangeUnavailable("502", exchange="bybit")

    plain = RetryPolicy(attempts=5, base_delay=0.5, max_delay=3.0, rate_limit_factor=2.0, jitter=0.0)
    with pytest.raises(ExchangeUnavailable):
        await retry_async(down, plain, sleep=sleep)
    assert sleeps == [0.5, 1.0, 2.0, 3.0]  # 4 waits for 5 tries; no rate-limit weight; capped

    sleeps.clear()
    jittered = RetryPolicy(attempts=40, base_delay=1.0, max_delay=1.0, jitter=0.2)
    with pytest.raises(ExchangeUnavailable):
        await retry_async(down, jittered, sleep=sleep)
    assert len(sleeps) == 39
    assert all(0.8 <= delay <= 1.2 for delay in sleeps) and len(set(sleeps)) > 1


def test_circuit_breaker_states() -> None:
    clock = FakeClock(DEFAULT_NOW)
    breaker = CircuitBreaker(BreakerPolicy(failure_threshold=2, cooldown=30), clock=clock)
    assert breaker.allow() and breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open" and not breaker.allow()
    clock.advance(31)
    assert breaker.state == "half-open"
    assert breaker.allow() is True
    assert breaker.allow() is False  # one trial at a time
    breaker.record_success()
    assert breaker.state == "closed" and breaker.failures == 0
