"""`MarketService`: the facade handlers and the scheduler use.

Built once per process with the configured exchanges (priority order); `start()` loads the markets,
`refresh_markets()` is for the scheduler, `close()` for shutdown. Data requests fall back through
the exchanges that list the symbol, skipping exchanges whose circuit breaker is open: that choice,
the market lists and the breakers live in `ExchangePool` (services/market/pool.py); this module is
what each request fetches, how long it is cached, and the composite views built from them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any

from services.kv import KeyValueStore, MemoryStore
from services.market.analysis import analyze
from services.market.cache import CachedCandles, MarketCache, SingleFlight
from services.market.errors import MarketError
from services.market.exchanges import MAX_OHLCV_LIMIT, ExchangeClient
from services.market.models import Candles, Derivatives, FloatArray, ResolvedSymbol, Ticker, ms_to_datetime
from services.market.pool import ExchangePool
from services.market.results import Analysis, ExchangeStatus, MarketView
from services.market.retry import BreakerPolicy, RetryPolicy
from services.market.symbols import Listing
from services.market.timeframes import candle_open, validate_timeframe

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 300  # enough for EMA200 with a warm-up


class MarketService:
    """Market data for the bot: one ccxt client per exchange, shared cache, fallback, analysis.

    * `exchanges`: ccxt ids in priority order (settings.exchanges); `api_urls`: id → base URL that
      replaces scheme and host of every REST URL of that exchange (settings.exchange_api_urls);
      `timeout_ms`: per request (settings.exchange_timeout_ms).
    * `store`: the shared `KeyValueStore` (Redis with replicas); default: an own `MemoryStore`.
    * `retry` / `breaker`: retries of transient errors and the per-exchange cool-down.
    * `clock` / `sleep`: injectable for tests.
    * `close_grace_ms`: ccxt's wait on close (default 250 ms; none over plain HTTP).
    * `ccxt_config`: extra ccxt constructor settings per exchange id, or "*" for all.
    """

    def __init__(
        self,
        exchanges: Sequence[str],
        *,
        api_urls: Mapping[str, str] | None = None,
        timeout_ms: int = 10_000,
        store: KeyValueStore | None = None,
        retry: RetryPolicy | None = None,
        breaker: BreakerPolicy | None = None,
        markets_ttl: float = 6 * 3600,
        ticker_ttl: float = 10.0,
        derivatives_ttl: float = 60.0,
        default_limit: int = DEFAULT_LIMIT,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        close_grace_ms: int | None = None,
        cache_prefix: str = "market:",
        ccxt_config: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self._clock = clock
        self._flights = SingleFlight()
        self._pool = ExchangePool(
            exchanges,
            flights=self._flights,
            clock=clock,
            sleep=sleep,
            markets_ttl=markets_ttl,
            api_urls=api_urls,
            timeout_ms=timeout_ms,
            retry=retry,
            breaker=breaker,
            close_grace_ms=close_grace_ms,
            ccxt_config=ccxt_config,
        )
        self._owns_store = store is None
        self._store: KeyValueStore = store if store is not None else MemoryStore()
        self._cache = MarketCache(self._store, cache_prefix)
        self.ticker_ttl = ticker_ttl
        self.derivatives_ttl = derivatives_ttl
        self.default_limit = default_limit

    # ----------------------------------------------------------------- lifecycle and markets
    @property
    def exchanges(self) -> tuple[str, ...]:
        return tuple(self._pool.clients)

    @property
    def flights(self) -> SingleFlight:
        return self._flights

    @property
    def markets_ttl(self) -> float:
        """Seconds before an exchange's market list is reloaded on demand."""
        return self._pool.markets_ttl

    @markets_ttl.setter
    def markets_ttl(self, value: float) -> None:
        self._pool.markets_ttl = value

    async def start(self) -> None:
        """Load markets everywhere; an exchange that is down now is retried lazily later."""
        await self._pool.start()

    async def refresh_markets(self) -> dict[str, str | None]:
        """Reload the markets of every exchange (the scheduler calls this every few hours).

        Returns exchange id → None on success or the error message; never raises `MarketError`.
        """
        return await self._pool.refresh_markets()

    def known_bases(self) -> set[str]:
        """Every base asset with a spot market or a linear perpetual on a configured exchange."""
        return self._pool.known_bases()

    def status(self) -> list[ExchangeStatus]:
        return self._pool.status()

    async def close(self) -> None:
        await self._flights.close()
        await self._pool.close()
        if self._owns_store:
            await self._store.close()

    async def __aenter__(self) -> MarketService:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ----------------------------------------------------------------------- resolution
    async def resolve(self, query: str | ResolvedSymbol) -> ResolvedSymbol:
        """`BTC`, `$btc`, `BTC/USDT`, `BTCUSDT`, `BTC-USDT-SWAP`, `BTC/USDT:USDT` → the pair's markets."""
        if isinstance(query, ResolvedSymbol):
            return query
        return await self._pool.resolve(query)

    # ----------------------------------------------------------------------- data
    async def candles(self, symbol: str | ResolvedSymbol, timeframe: str = "1h", limit: int | None = None) -> Candles:
        """The last `limit` candles (oldest first; the last one is forming), cached until it closes."""
        tf = validate_timeframe(timeframe)
        limit = limit or self.default_limit
        if not 1 <= limit <= MAX_OHLCV_LIMIT:
            raise ValueError(f"limit must be within 1..{MAX_OHLCV_LIMIT}")
        resolved = await self.resolve(symbol)

        async def operation(client: ExchangeClient, listing: Listing) -> Candles:
            market = _market(listing, resolved.prefer_perp)
            entry = await self._cached_candles(client, market, tf, limit)
            return Candles.from_array(entry.rows[-limit:], exchange=client.id, symbol=market, timeframe=tf)

        return await self._pool.run(resolved, operation)

    async def _cached_candles(self, client: ExchangeClient, market: str, tf: str, limit: int) -> CachedCandles:
        key = f"ohlcv:{client.id}:{market}:{tf}"
        depth = max(limit, self.default_limit)
        entry = await self._cache.get_candles(key)
        if entry is not None and entry.fresh(self._now_ms()) and entry.depth >= limit:
            return entry

        async def fetch(since: int | None, count: int) -> FloatArray:
            return await client.fetch_ohlcv(market, tf, since=since, limit=count)

        def refresh() -> Coroutine[Any, Any, CachedCandles]:
            return self._cache.refresh_candles(key, tf, depth, self._now_ms(), fetch, max_fetch=MAX_OHLCV_LIMIT)

        entry = await self._flights.run(key, refresh)
        if entry.depth < limit:  # joined a flight for fewer candles than this caller needs
            entry = await self._flights.run(key, refresh)
        return entry

    async def ticker(self, symbol: str | ResolvedSymbol) -> Ticker:
        """Last price, 24 h change and quote volume (cached for `ticker_ttl` seconds)."""
        resolved = await self.resolve(symbol)

        async def operation(client: ExchangeClient, listing: Listing) -> Ticker:
            market = _market(listing, resolved.prefer_perp)
            key = f"ticker:{client.id}:{market}"
            cached = await self._cache.get_json(key, self._now_ms())
            if cached is not None:
                return Ticker.from_dict(cached)

            async def fetch() -> Ticker:
                ticker = await client.fetch_ticker(market)
                until = self._now_ms() + int(self.ticker_ttl * 1000)
                await self._cache.put_json(key, ticker.as_dict(), until, ttl=self.ticker_ttl)
                return ticker

            return await self._flights.run(key, fetch)

        return await self._pool.run(resolved, operation)

    async def tickers(self, bases: Iterable[str], quote: str = "USDT") -> dict[str, Ticker]:
        """Last prices of many coins (base → ticker) in one ccxt `fetch_tickers` per exchange and market
        type: each coin on the first exchange (priority order) that lists it against `quote`, its
        perpetual preferred (so one linear batch covers most coins, spot-only ones a second). An
        exchange that fails or cools down hands its coins to the next; coins nobody answered for
        are missing from the result. Not cached: the minute risk tick is its only caller."""
        return await self._pool.tickers(bases, quote)

    async def derivatives(self, symbol: str | ResolvedSymbol) -> Derivatives | None:
        """Funding and open interest of the pair's linear perpetual; None when no exchange lists one."""
        resolved = await self.resolve(symbol)
        if not self._pool.lists_perp(resolved):
            return None

        async def operation(client: ExchangeClient, listing: Listing) -> Derivatives:
            assert listing.perp is not None
            perp = listing.perp
            key = f"derivatives:{client.id}:{perp}"
            cached = await self._cache.get_json(key, self._now_ms())
            if cached is not None:
                return Derivatives.from_dict(cached)

            async def fetch() -> Derivatives:
                result = await client.fetch_derivatives(perp)
                until = self._now_ms() + int(self.derivatives_ttl * 1000)
                await self._cache.put_json(key, result.as_dict(), until, ttl=self.derivatives_ttl)
                return result

            return await self._flights.run(key, fetch)

        return await self._pool.run(resolved, operation, perp_only=True)

    async def analyze(self, symbol: str | ResolvedSymbol, timeframe: str = "1h") -> Analysis:
        """Candles + derivatives context → `Analysis` (the scheduler's scan uses this)."""
        resolved = await self.resolve(symbol)
        candles, derivatives = await asyncio.gather(
            self.candles(resolved, timeframe), self._optional(self.derivatives(resolved))
        )
        return analyze(candles, derivatives)

    async def snapshot(self, query: str | ResolvedSymbol, timeframe: str = "1h") -> MarketView:
        """Everything for a chat answer. Raises UnknownSymbol, ExchangeUnavailable, NotEnoughData…"""
        tf = validate_timeframe(timeframe)
        resolved = await self.resolve(query)
        results = await asyncio.gather(
            self.candles(resolved, tf),
            self.ticker(resolved),
            self._optional(self.derivatives(resolved)),
            return_exceptions=True,
        )
        candles, ticker, derivatives = results
        if isinstance(candles, BaseException):
            raise candles
        if isinstance(derivatives, BaseException):
            raise derivatives
        if isinstance(ticker, MarketError):  # the candles answered: their last close is the price
            log.warning("ticker for %s failed (%s); using the last candle", resolved.pair, ticker)
            ticker = Ticker(
                exchange=candles.exchange,
                symbol=candles.symbol,
                price=candles.last_close,
                change_24h_pct=None,
                volume_24h=None,
                high_24h=None,
                low_24h=None,
                timestamp=candles.last_time,
            )
        elif isinstance(ticker, BaseException):
            raise ticker
        now = self._now_ms()
        if (
            ticker.exchange == candles.exchange
            and ticker.symbol == candles.symbol
            and int(candles.timestamp[-1]) == candle_open(now, tf)
        ):
            candles = candles.with_last_price(ticker.price)  # the forming candle at the live price
        return MarketView(
            resolved=resolved,
            timeframe=tf,
            exchange=candles.exchange,
            as_of=ms_to_datetime(now),
            ticker=ticker,
            candles=candles,
            analysis=analyze(candles, derivatives),
            derivatives=derivatives,
        )

    async def _optional(self, call: Awaitable[Derivatives | None]) -> Derivatives | None:
        try:
            return await call
        except MarketError as exc:
            log.info("derivatives unavailable: %s", exc)
            return None

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)


def _market(listing: Listing, prefer_perp: bool) -> str:
    market = listing.perp if (prefer_perp and listing.perp) or not listing.spot else listing.spot
    assert market is not None
    return market
