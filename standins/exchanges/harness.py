"""Start the fake exchanges and a `MarketService` pointed at them, for tests and benchmarks.

Example::

    async with market_env() as env:          # fake Bybit + fake Binance + service (started)
        env.bybit.inject("http500", path="/v5/market/kline", times=1)
        view = await env.service.snapshot("btc", "1h")
        assert env.bybit.count("/v5/market/kline") == 2
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from services.kv import KeyValueStore
from services.market import BreakerPolicy, MarketService, RetryPolicy
from standins.exchanges.base import FakeClock, SymbolSpec, default_specs
from standins.exchanges.binance import FakeBinance
from standins.exchanges.bybit import FakeBybit

DEFAULT_NOW = 1_767_607_350.0  # Monday 2026-01-05 10:02:30 UTC
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05, jitter=0.0)
# ccxt's rate limiter stays on; its spacing is shortened so tests don't wait 100 ms per request.
FAST_CCXT = {"*": {"rateLimit": 2}}


@dataclass
class MarketEnv:
    service: MarketService
    bybit: FakeBybit
    binance: FakeBinance
    clock: FakeClock

    def fake(self, exchange: str) -> FakeBybit | FakeBinance:
        return self.bybit if exchange == "bybit" else self.binance


@asynccontextmanager
async def market_env(
    *,
    bybit_specs: Sequence[SymbolSpec] | None = None,
    binance_specs: Sequence[SymbolSpec] | None = None,
    exchanges: Sequence[str] = ("bybit", "binance"),
    clock: FakeClock | None = None,
    store: KeyValueStore | None = None,
    retry: RetryPolicy = FAST_RETRY,
    breaker: BreakerPolicy | None = None,
    timeout_ms: int = 3_000,
    start: bool = True,
    ccxt_config: dict[str, dict[str, Any]] | None = None,
    **service_options: Any,
) -> AsyncIterator[MarketEnv]:
    clock = clock or FakeClock(DEFAULT_NOW)
    bybit = FakeBybit(bybit_specs or default_specs(), clock=clock)
    binance = FakeBinance(binance_specs or default_specs([*default_specs_names(), "WIF", "PEPE"]), clock=clock)
    await bybit.start()
    await binance.start()
    service = MarketService(
        exchanges,
        api_urls={"bybit": bybit.url, "binance": binance.url},
        timeout_ms=timeout_ms,
        store=store,
        retry=retry,
        breaker=breaker or BreakerPolicy(failure_threshold=1, cooldown=60.0),
        clock=clock,
        close_grace_ms=0,
        ccxt_config=FAST_CCXT if ccxt_config is None else ccxt_config,
        **service_options,
    )
    try:
        if start:
            await service.start()
        yield MarketEnv(service, bybit, binance, clock)
    finally:
        await service.close()
        await bybit.close()
        await binance.close()


def default_specs_names() -> list[str]:
    return [spec.base for spec in default_specs()]
