"""Fake exchange servers (Bybit v5, Binance) for the real ccxt client, and seeded candle generators."""

from standins.exchanges.base import FAULT_KINDS, FakeClock, FakeExchangeServer, Fault, SymbolSpec, default_specs
from standins.exchanges.binance import FakeBinance
from standins.exchanges.bybit import FakeBybit
from standins.exchanges.candles import REGIMES, ending_at, generate_ohlcv, generate_scenario
from standins.exchanges.harness import DEFAULT_NOW, FAST_CCXT, FAST_RETRY, MarketEnv, market_env

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
