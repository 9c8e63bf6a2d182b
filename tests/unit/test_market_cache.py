"""Single flight, cache until the candle closes, incremental (`since=`) refresh, serialisation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest

from services.kv import MemoryStore
from services.market.cache import CachedCandles, SingleFlight, decode_candles, encode_candles, merge_rows
from services.market.timeframes import TIMEFRAME_MS, candle_open
from standins.exchanges import MarketEnv, generate_ohlcv, market_env

KLINE = "/v5/market/kline"


@pytest.fixture
async def env() -> AsyncIterator[MarketEnv]:
    async with market_env() as env:
        yield env


async def test_concurrent_requests_share_one_exchange_call(env: MarketEnv) -> None:
    env.bybit.inject("latency", path=KLINE, delay=0.1)  # keep the first call in flight
    results = await asyncio.gather(*(env.service.candles("BTC", "1h") for _ in range(50)))
    assert env.bybit.count(KLINE) == 1
    assert all(len(c) == 300 for c in results)
    assert all(np.array_equal(c.close, results[0].close) for c in results)
    assert env.service.flights.started >= 1 and env.service.flights.joined >= 1
    assert len(env.service.flights) == 0  # nothing left in flight


async def test_single_flight_per_key(env: MarketEnv) -> None:
    env.bybit.inject("latency", path=KLINE, delay=0.05)
    symbols = ["BTC", "ETH", "SOL", "XRP"]
    await asyncio.gather(*(env.service.candles(s, tf) for s in symbols for tf in ("1h", "4h") for _ in range(10)))
    assert env.bybit.count(KLINE) == len(symbols) * 2
    tickers = await asyncio.gather(*(env.service.ticker("BTC") for _ in range(20)))
    assert env.bybit.count("/v5/market/tickers") == 1
    assert len({t.price for t in tickers}) == 1


async def test_a_failed_flight_fails_every_waiter_once_and_is_not_cached() -> None:
    async with market_env(exchanges=("bybit",)) as env:
        env.bybit.inject("http500", path=KLINE, times=3)
        outcomes = await asyncio.gather(*(env.service.candles("ETH", "1h") for _ in range(10)), return_exceptions=True)
        assert all(isinstance(o, Exception) for o in outcomes)
        assert env.bybit.count(KLINE) == 3  # one flight, retried; not 10
        env.clock.advance(61)  # breaker cool-down
        assert len(await env.service.candles("ETH", "1h")) == 300
        assert env.bybit.count(KLINE) == 4


async def test_cached_until_the_candle_closes_then_refreshed_incrementally(env: MarketEnv) -> None:
    first = await env.service.candles("BTC", "1h")
    now = env.clock.ms()
    assert int(first.timestamp[-1]) == candle_open(now, "1h")  # the forming candle is included
    env.clock.advance(50 * 60)  # 10:52:30: same candle
    again = await env.service.candles("BTC", "1h", limit=100)
    assert env.bybit.count(KLINE) == 1
    assert len(again) == 100 and again.timestamp[-1] == first.timestamp[-1]

    env.clock.advance(10 * 60)  # 11:02:30: a new candle has opened
    refreshed = await env.service.candles("BTC", "1h")
    requests = env.bybit.requests_to(KLINE)
    assert len(requests) == 2
    assert requests[1].query["start"] == str(int(first.timestamp[-1]))  # only what is new
    assert requests[1].query["limit"] == "2"
    assert len(refreshed) == 300
    assert int(refreshed.timestamp[-1]) == int(first.timestamp[-1]) + TIMEFRAME_MS["1h"]
    np.testing.assert_array_equal(np.diff(refreshed.timestamp), TIMEFRAME_MS["1h"])
    # the merged result equals what a full fetch returns now
    expected = env.bybit.book.visible("BTC", "1h")[-300:]
    np.testing.assert_allclose(refreshed.to_array(), expected, rtol=1e-6)  # the wire has 4-8 decimals


async def test_five_minute_candles_expire_at_their_close(env: MarketEnv) -> None:
    await env.service.candles("ETH", "5m")  # 10:02:30, the 10:00 candle closes at 10:05
    env.clock.advance(140)
    await env.service.candles("ETH", "5m")
    assert env.bybit.count(KLINE, interval="5") == 1
    env.clock.advance(20)  # 10:05:10
    await env.service.candles("ETH", "5m")
    assert env.bybit.count(KLINE, interval="5") == 2
    assert env.bybit.requests_to(KLINE)[-1].query.get("start") is not None


async def test_a_long_gap_refetches_everything(env: MarketEnv) -> None:
    await env.service.candles("SOL", "1h", limit=100)
    env.clock.advance(400 * 3600)  # more new candles than the cache keeps
    candles = await env.service.candles("SOL", "1h", limit=100)
    last = env.bybit.requests_to(KLINE)[-1]
    assert "start" not in last.query and last.query["limit"] == "300"
    assert int(candles.timestamp[-1]) == candle_open(env.clock.ms(), "1h")


async def test_a_larger_limit_than_cached_fetches_again(env: MarketEnv) -> None:
    await env.service.candles("XRP", "4h", limit=100)
    assert len(await env.service.candles("XRP", "4h", limit=500)) == 500
    assert [r.query["limit"] for r in env.bybit.requests_to(KLINE)] == ["300", "500"]
    assert len(await env.service.candles("XRP", "4h", limit=400)) == 400
    assert env.bybit.count(KLINE) == 2


async def test_ticker_and_derivatives_ttls(env: MarketEnv) -> None:
    await env.service.ticker("BTC")
    await env.service.derivatives("BTC")
    await env.service.ticker("BTC")
    await env.service.derivatives("BTC")
    assert env.bybit.count("/v5/market/tickers", category="spot") == 1
    assert env.bybit.count("/v5/market/tickers", category="linear") == 1  # funding and open interest
    assert env.bybit.count("/v5/market/open-interest") == 0  # Bybit's ticker carries the open interest
    env.clock.advance(11)
    await env.service.ticker("BTC")
    derivatives = await env.service.derivatives("BTC")
    assert env.bybit.count("/v5/market/tickers", category="spot") == 2
    assert env.bybit.count("/v5/market/tickers", category="linear") == 1  # 60 s
    env.clock.advance(60)
    derivatives = await env.service.derivatives("BTC")
    assert env.bybit.count("/v5/market/tickers", category="linear") == 2
    assert derivatives is not None and derivatives.funding_rate == pytest.approx(0.0001)
    assert derivatives.open_interest == pytest.approx(50_000)


async def test_replicas_share_the_store() -> None:
    store = MemoryStore()
    async with market_env(store=store) as first:
        await first.service.candles("BTC", "1h")
        async with market_env(store=store, clock=first.clock) as second:
            # a second process with its own fakes: it finds the candles cached under the same key
            candles = await second.service.candles("BTC", "1h")
            assert second.bybit.count(KLINE) == 0
            assert candles.exchange == "bybit"


def test_serialisation_roundtrip_and_rejects() -> None:
    rows = generate_ohlcv(300, seed=1)
    entry = CachedCandles(rows, 1_767_607_500_000, 300)
    data = encode_candles(entry)
    assert len(data) == 28 + 300 * 48
    decoded = decode_candles(data)
    assert decoded is not None
    np.testing.assert_array_equal(decoded.rows, rows)
    assert (decoded.fresh_until_ms, decoded.depth) == (entry.fresh_until_ms, 300)
    assert decode_candles(data[:-1]) is None
    assert decode_candles(b"XXXX" + data[4:]) is None
    assert decode_candles(b"") is None
    empty = decode_candles(encode_candles(CachedCandles(np.empty((0, 6)), 1, 300)))
    assert empty is not None and empty.rows.shape == (0, 6)


def test_merge_rows() -> None:
    step = 3_600_000
    rows = generate_ohlcv(10, seed=2)
    old, new = rows[:8].copy(), rows[7:].copy()
    new[0, 4] = 123.0  # the formerly forming candle closed at another price
    merged = merge_rows(old, new, step, keep=9)
    assert merged is not None
    assert merged.shape == (9, 6)
    assert merged[-1, 0] == rows[-1, 0] and merged[-3, 4] == 123.0
    np.testing.assert_array_equal(np.diff(merged[:, 0]), step)
    assert merge_rows(old, rows[9:], step, keep=50) is None  # a gap: refetch
    assert merge_rows(old, np.empty((0, 6)), step, keep=50) is old


async def test_single_flight_survives_a_cancelled_caller() -> None:
    flights = SingleFlight()
    release = asyncio.Event()
    calls = 0

    async def work() -> int:
        nonlocal calls
        calls += 1
        await release.wait()
        return 42

    first = asyncio.create_task(flights.run("k", work))
    second = asyncio.create_task(flights.run("k", work))
    await asyncio.sleep(0)
    first.cancel()
    release.set()
    assert await second == 42
    assert calls == 1
    with pytest.raises(asyncio.CancelledError):
        await first
    blocked = asyncio.Event()
    task = asyncio.create_task(flights.run("x", blocked.wait))
    await asyncio.sleep(0)
    await flights.close()  # cancels work still in flight
    with pytest.raises(asyncio.CancelledError):
        await task
