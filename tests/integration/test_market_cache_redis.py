"""The candle cache through a real Redis: two service replicas share entries (TEST_REDIS_URL)."""

from __future__ import annotations

import numpy as np
import pytest

from services.kv import RedisStore
from standins.exchanges import market_env
from tests.backends import flush_prefix, need, redis_prefix

pytestmark = pytest.mark.redis
KLINE = "/v5/market/kline"


async def test_replicas_share_candles_and_tickers_through_redis() -> None:
    redis_url = need("TEST_REDIS_URL")  # skipped without it, failed under REQUIRE_SERVICES=1
    prefix = redis_prefix()
    first_store = RedisStore.from_url(redis_url, prefix)
    second_store = RedisStore.from_url(redis_url, prefix)
    try:
        async with market_env(store=first_store) as first:
            candles = await first.service.candles("BTC", "1h")
            ticker = await first.service.ticker("BTC")
            async with market_env(store=second_store, clock=first.clock) as second:
                shared = await second.service.candles("BTC", "1h")
                shared_ticker = await second.service.ticker("BTC")
                assert second.bybit.count(KLINE) == 0
                assert second.bybit.count("/v5/market/tickers") == 0
                np.testing.assert_array_equal(shared.to_array(), candles.to_array())
                assert shared_ticker == ticker
                # after the candle closes, one replica refreshes incrementally and the other reuses it
                first.clock.advance(3600)
                await second.service.candles("BTC", "1h")
                assert second.bybit.requests_to(KLINE)[-1].query.get("start") is not None
                before = first.bybit.count(KLINE)
                await first.service.candles("BTC", "1h")
                assert first.bybit.count(KLINE) == before
            raw = await first_store.redis.get(prefix + "market:ohlcv:bybit:BTC/USDT:1h")
            assert raw is not None and raw[:4] == b"CSC1"
    finally:
        await first_store.close()
        await second_store.close()
        await flush_prefix(redis_url, prefix)
