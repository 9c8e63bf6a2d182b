"""Fake exchange servers (Bybit v5, Binance) for the real ccxt client, and seeded candle generators."""

from tests.fakes.exchanges.base import FAULT_KINDS, FakeClock, FakeExchangeServer, Fault, SymbolSpec, default_specs
from tests.fakes.exchanges.binance import FakeBinance
from tests.fakes.exchanges.bybit import FakeBybit
from tests.fakes.exchanges.candles import REGIMES, ending_at, generate_ohlcv, generate_scenario
from tests.fakes.exchanges.harness import DEFAULT_NOW, FAST_CCXT, FAST_RETRY, MarketEnv, market_env

__all__ = [
    "DEFAULT_NOW",
    "FAST_CCXT",
    "FAST_RETRY",
    "FAULT_KINDS",
    "REGIMES",
    "FakeBinance",
    "FakeBybit",
    "FakeClock",
    "FakeExchangeServer",
    "Fault",
    "MarketEnv",
    "SymbolSpec",
    "default_specs",
    "ending_at",
    "generate_ohlcv",
    "generate_scenario",
    "market_env",
]
