"""Market data (ccxt), technical analysis (TA-Lib) and charts (matplotlib). No aiogram, no bot/.

Typical use (the bot builds one `MarketService` per process and closes it on shutdown)::

    service = MarketService(["bybit", "binance"], api_urls=settings.exchange_api_urls,
                            timeout_ms=settings.exchange_timeout_ms, store=kv_store)
    await service.start()
    view = await service.snapshot("$sol", "4h")      # MarketView: ticker, candles, analysis, …
    png = await render_chart_async(view.candles, view.analysis, symbol=view.resolved.pair,
                                   timeframe=view.timeframe, exchange=view.exchange)
    await service.close()
"""

from services.market.analysis import analyze
from services.market.charts import render_chart, render_chart_async
from services.market.errors import (
    BadResponse,
    ExchangeTimeout,
    ExchangeUnavailable,
    MarketError,
    NotEnoughData,
    RateLimited,
    UnknownSymbol,
    UnsupportedTimeframe,
)
from services.market.models import Candles, Derivatives, ResolvedSymbol, Ticker
from services.market.results import (
    Analysis,
    DerivativesContext,
    ExchangeStatus,
    Indicators,
    Level,
    Levels,
    MarketSnapshot,
    MarketView,
    Momentum,
    Trend,
    Volatility,
    VolumeState,
)
from services.market.retry import BreakerPolicy, RetryPolicy
from services.market.service import MarketService
from services.market.timeframes import SUPPORTED_TIMEFRAMES, validate_timeframe

__all__ = [
    "SUPPORTED_TIMEFRAMES",
    "Analysis",
    "BadResponse",
    "BreakerPolicy",
    "Candles",
    "Derivatives",
    "DerivativesContext",
    "ExchangeStatus",
    "ExchangeTimeout",
    "ExchangeUnavailable",
    "Indicators",
    "Level",
    "Levels",
    "MarketError",
    "MarketService",
    "MarketSnapshot",
    "MarketView",
    "Momentum",
    "NotEnoughData",
    "RateLimited",
    "ResolvedSymbol",
    "RetryPolicy",
    "Ticker",
    "Trend",
    "UnknownSymbol",
    "UnsupportedTimeframe",
    "Volatility",
    "VolumeState",
    "analyze",
    "render_chart",
    "render_chart_async",
    "validate_timeframe",
]
