"""The fakes themselves: wire format, windowing semantics, faults, generators (raw ccxt + aiohttp)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import ccxt.async_support as ccxt
import numpy as np
import pytest

from services.market.exchanges import create_ccxt_exchange
from services.market.timeframes import TIMEFRAME_MS, candle_open
from standins.exchanges import (
    DEFAULT_NOW,
    REGIMES,
    FakeBinance,
    FakeBybit,
    FakeClock,
    SymbolSpec,
    default_specs,
    ending_at,
    generate_ohlcv,
    generate_scenario,
)

HOUR = TIMEFRAME_MS["1h"]


@pytest.fixture
async def bybit() -> AsyncIterator[FakeBybit]:
    fake = FakeBybit([*default_specs(["BTC", "ETH"]), SymbolSpec("SHORT", history=5)], clock=FakeClock(DEFAULT_NOW))
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def binance() -> AsyncIterator[FakeBinance]:
    fake = FakeBinance(default_specs(["BTC", "ETH"]), clock=FakeClock(DEFAULT_NOW))
    await fake.start()
    yield fake
    await fake.close()


async def raw(fake: FakeBybit | FakeBinance) -> Any:
    exchange = create_ccxt_exchange(fake.name, api_url=fake.url, timeout_ms=3000, extra_config={"rateLimit": 1})
    exchange.timeout_on_exit = 0
    return exchange


async def get_json(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        if response.status >= 500:
            return response.status, await response.text()
        return response.status, await response.json(content_type=None)


async def test_bybit_wire_format(bybit: FakeBybit) -> None:
    status, body = await get_json(f"{bybit.url}/v5/market/kline?category=linear&symbol=BTCUSDT&interval=60&limit=3")
    assert status == 200
    assert list(body) == ["retCode", "retMsg", "result", "retExtInfo", "time"]
    assert (body["retCode"], body["retMsg"], body["retExtInfo"]) == (0, "OK", {})
    assert body["time"] == int(DEFAULT_NOW * 1000)
    rows = body["result"]["list"]
    assert len(rows) == 3 and all(len(r) == 7 and all(isinstance(v, str) for v in r) for r in rows)
    starts = [int(r[0]) for r in rows]
    assert starts == sorted(starts, reverse=True)  # newest first
    assert starts[0] == candle_open(int(DEFAULT_NOW * 1000), "1h")
    _, body = await get_json(f"{bybit.url}/v5/market/instruments-info?category=linear&limit=1000&status=PreLaunch")
    assert body["result"] == {"category": "linear", "list": [], "nextPageCursor": ""}
    _, body = await get_json(f"{bybit.url}/v5/market/kline?category=spot&symbol=NOPEUSDT&interval=60")
    assert body["retCode"] == 10001
    _, body = await get_json(f"{bybit.url}/v5/market/kline?category=spot&symbol=BTCUSDT&interval=7")
    assert body["retCode"] == 10001


async def test_bybit_through_ccxt(bybit: FakeBybit) -> None:
    exchange = await raw(bybit)
    try:
        markets = await exchange.load_markets()
        assert {"BTC/USDT", "BTC/USDT:USDT", "SHORT/USDT", "SHORT/USDT:USDT"} <= set(markets)
        assert await exchange.fetch_time() == int(DEFAULT_NOW * 1000)
        now_open = candle_open(int(DEFAULT_NOW * 1000), "1h")
        since = now_open - 10 * HOUR
        rows = await exchange.fetch_ohlcv("BTC/USDT", "1h", since=since, limit=4)
        assert [r[0] for r in rows] == [since + i * HOUR for i in range(4)]  # the oldest 4 from `start`
        rows = await exchange.fetch_ohlcv("BTC/USDT", "1h", since=since, limit=4, params={"until": since + 2 * HOUR})
        assert [r[0] for r in rows] == [since, since + HOUR, since + 2 * HOUR]
        latest = await exchange.fetch_ohlcv("ETH/USDT:USDT", "4h", limit=5)
        assert latest[-1][0] == candle_open(int(DEFAULT_NOW * 1000), "4h")
        assert len(await exchange.fetch_ohlcv("SHORT/USDT", "1d", limit=200)) == 5  # a short history
        weekly = await exchange.fetch_ohlcv("BTC/USDT", "1w", limit=3)
        assert [candle_open(r[0], "1w") for r in weekly] == [r[0] for r in weekly]
        history = await exchange.fetch_funding_rate_history("BTC/USDT:USDT", limit=3)
        assert len(history) == 3 and history[-1]["fundingRate"] == pytest.approx(0.0001)
        tickers = await exchange.fetch_tickers(["BTC/USDT:USDT", "ETH/USDT:USDT"])
        assert set(tickers) == {"BTC/USDT:USDT", "ETH/USDT:USDT"}
        assert bybit.count("/v5/market/tickers", category="linear") == 1
        interest = await exchange.fetch_open_interest("BTC/USDT:USDT")
        assert interest["openInterestAmount"] == pytest.approx(50_000)
    finally:
        await exchange.close()


async def test_binance_through_ccxt(binance: FakeBinance) -> None:
    exchange = await raw(binance)
    try:
        markets = await exchange.load_markets()
        assert markets["BTC/USDT:USDT"]["swap"] and markets["BTC/USDT:USDT"]["linear"]
        assert markets["BTC/USDT"]["spot"]
        now_open = candle_open(int(DEFAULT_NOW * 1000), "15m")
        rows = await exchange.fetch_ohlcv("BTC/USDT:USDT", "15m", since=now_open - 15 * 60_000 * 3, limit=10)
        assert len(rows) == 4 and rows[-1][0] == now_open
        ticker = await exchange.fetch_ticker("ETH/USDT")
        assert ticker["last"] == pytest.approx(3000.0)
        assert ticker["quoteVolume"] > 0
        funding = await exchange.fetch_funding_rate("BTC/USDT:USDT")
        assert funding["fundingRate"] == pytest.approx(0.0001) and funding["markPrice"] == pytest.approx(60_000)
        interest = await exchange.fetch_open_interest("BTC/USDT:USDT")
        assert interest["openInterestAmount"] == pytest.approx(50_000)
        binance.inject("unknown_symbol", path="/api/v3/klines", times=1)
        with pytest.raises(ccxt.BadSymbol):
            await exchange.fetch_ohlcv("BTC/USDT", "1h", limit=5)
        binance.inject("ban", times=1)
        with pytest.raises(ccxt.DDoSProtection):
            await exchange.fetch_ticker("BTC/USDT")
    finally:
        await exchange.close()


async def test_faults_counting_and_matching(bybit: FakeBybit) -> None:
    fault = bybit.inject("http500", path="/v5/market/kline", symbol="ETHUSDT", times=1)
    status, _ = await get_json(f"{bybit.url}/v5/market/kline?category=spot&symbol=BTCUSDT&interval=60")
    assert status == 200
    status, _ = await get_json(f"{bybit.url}/v5/market/kline?category=spot&symbol=ETHUSDT&interval=60")
    assert status == 500 and fault.times == 0
    status, _ = await get_json(f"{bybit.url}/v5/market/kline?category=spot&symbol=ETHUSDT&interval=60")
    assert status == 200
    assert bybit.count("/v5/market/kline") == 3
    assert bybit.count("/v5/market/kline", symbol="ETHUSDT") == 2
    bybit.inject("ratelimit")
    status, body = await get_json(f"{bybit.url}/v5/market/time")
    assert status == 200 and body["retCode"] == 10006
    bybit.clear_faults()
    bybit.reset_counts()
    assert bybit.count() == 0
    with pytest.raises(ValueError):
        bybit.inject("nonsense")


def test_generators_are_seeded_and_consistent() -> None:
    a = generate_ohlcv(300, seed=5, regime="up")
    b = generate_ohlcv(300, seed=5, regime="up")
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, generate_ohlcv(300, seed=6, regime="up"))
    for regime in REGIMES:
        rows = generate_ohlcv(200, seed=1, regime=regime, timeframe="4h")
        o, h, low, c, v = rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 4], rows[:, 5]
        assert (h >= np.maximum(o, c)).all() and (low <= np.minimum(o, c)).all() and (low > 0).all()
        assert (v > 0).all()
        assert (np.diff(rows[:, 0]) == TIMEFRAME_MS["4h"]).all()
    assert generate_ohlcv(300, seed=1, regime="up")[-1, 4] > 100 * 1.5
    assert generate_ohlcv(300, seed=1, regime="down")[-1, 4] < 100 / 1.5
    crash = generate_scenario([("range", 100), ("crash", 10)], seed=1)
    assert crash[-1, 4] < crash[99, 4] * 0.85
    moved = ending_at(crash, int(DEFAULT_NOW * 1000), "1h")
    assert moved[-1, 0] == candle_open(int(DEFAULT_NOW * 1000), "1h")
    np.testing.assert_array_equal(moved[:, 1:], crash[:, 1:])


def test_fake_clock() -> None:
    clock = FakeClock(1000.0)
    assert clock() == 1000.0 and clock.ms() == 1_000_000
    clock.advance(5)
    assert clock.time() == 1005.0
    clock.set(2000.0)
    assert clock.time() == 2000.0
    ticking = FakeClock(frozen=False)
    assert ticking.time() > 1.7e9
