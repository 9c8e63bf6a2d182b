"""`MarketService`: the facade handlers and the scheduler use.

Built once per process with the configured exchanges (priority order); `start()` loads the markets,
`refresh_markets()` is for the scheduler, `close()` for shutdown. Data requests fall back through
the exchanges that list the symbol, skipping exchanges whose circuit breaker is open.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from services.kv import KeyValueStore, MemoryStore
from services.market.analysis import analyze
from services.market.cache import CachedCandles, MarketCache, SingleFlight
from services.market.errors import (
    BadResponse,
    ExchangeUnavailable,
    MarketError,
    RateLimited,
    UnknownSymbol,
)
from services.market.exchanges import MAX_OHLCV_LIMIT, ExchangeClient
from services.market.models import Candles, Derivatives, FloatArray, ResolvedSymbol, Ticker, ms_to_datetime
from services.market.results import Analysis, ExchangeStatus, MarketView
from services.market.retry import BreakerPolicy, CircuitBreaker, RetryPolicy
from services.market.symbols import Listing, candidate_quotes, parse_query, suggest
from services.market.timeframes import candle_open, validate_timeframe

log = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_LIMIT = 300  # enough for EMA200 with a warm-up
_EXCHANGE_FAILURES = (ExchangeUnavailable, RateLimited, BadResponse)


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
        ids = list(dict.fromkeys(e.strip().lower() for e in exchanges if e.strip()))
        if not ids:
            raise ValueError("at least one exchange is required")
        urls = {k.lower(): v for k, v in (api_urls or {}).items()}
        extra = {k.lower(): v for k, v in (ccxt_config or {}).items()}
        self._clock = clock
        self._clients: dict[str, ExchangeClient] = {
            ex: ExchangeClient(
                ex,
                api_url=urls.get(ex),
                timeout_ms=timeout_ms,
                retry=retry,
                clock=clock,
                sleep=sleep,
                close_grace_ms=close_grace_ms,
                extra_config={**extra.get("*", {}), **extra.get(ex, {})},
            )
            for ex in ids
        }
        self._breakers = {ex: CircuitBreaker(breaker or BreakerPolicy(), clock=clock) for ex in ids}
        self._owns_store = store is None
        self._store: KeyValueStore = store if store is not None else MemoryStore()
        self._cache = MarketCache(self._store, cache_prefix)
        self._flights = SingleFlight()
        self.markets_ttl = markets_ttl
        self.ticker_ttl = ticker_ttl
        self.derivatives_ttl = derivatives_ttl
        self.default_limit = default_limit

    # ----------------------------------------------------------------- lifecycle and markets
    @property
    def exchanges(self) -> tuple[str, ...]:
        return tuple(self._clients)

    @property
    def flights(self) -> SingleFlight:
        return self._flights

    async def start(self) -> None:
        """Load markets everywhere; an exchange that is down now is retried lazily later."""
        await self.refresh_markets()
        if not any(c.index for c in self._clients.values()):
            log.error("no exchange markets could be loaded; market data will retry on demand")

    async def refresh_markets(self) -> dict[str, str | None]:
        """Reload the markets of every exchange (the scheduler calls this every few hours).

        Returns exchange id → None on success or the error message; never raises `MarketError`.
        """
        ids = list(self._clients)
        results = await asyncio.gather(*(self._load_markets(ex, reload=True) for ex in ids), return_exceptions=True)
        report: dict[str, str | None] = {}
        for ex, result in zip(ids, results, strict=True):
            if isinstance(result, MarketError):
                report[ex] = str(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                report[ex] = None
        return report

    async def _load_markets(self, exchange: str, *, reload: bool = False) -> None:
        client = self._clients[exchange]

        async def load() -> None:
            try:
                await client.load_markets(reload=reload or client.index is not None)
            except MarketError as exc:
                self._breakers[exchange].record_failure()
                if client.index is not None:  # keep the old markets; try again in a minute
                    client.markets_loaded_at = self._clock() - self.markets_ttl + 60
                log.warning("%s: loading markets failed: %s", exchange, exc)
                raise
            self._breakers[exchange].record_success()

        await self._flights.run(f"markets:{exchange}", load)

    async def _ensure_markets(self) -> None:
        """Load missing or stale market lists (skipping exchanges in cool-down)."""
        now = self._clock()
        due = [
            ex
            for ex, client in self._clients.items()
            if (client.index is None or now - (client.markets_loaded_at or 0) > self.markets_ttl)
            and self._breakers[ex].state != "open"
        ]
        if due:
            results = await asyncio.gather(*(self._load_markets(ex) for ex in due), return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException) and not isinstance(result, MarketError):
                    raise result

    def known_bases(self) -> set[str]:
        """Every base asset with a spot market or a linear perpetual on a configured exchange."""
        bases: set[str] = set()
        for client in self._clients.values():
            if client.index is not None:
                bases |= client.index.bases
        return bases

    def status(self) -> list[ExchangeStatus]:
        return [
            ExchangeStatus(
                exchange=ex,
                markets_loaded=c.index is not None,
                pairs=len(c.index) if c.index else 0,
                breaker=self._breakers[ex].state,
                retry_after=round(self._breakers[ex].retry_after(), 1),
                calls=c.answered + c.failed,
                errors=c.failed,
            )
            for ex, c in self._clients.items()
        ]

    async def close(self) -> None:
        await self._flights.close()
        await asyncio.gather(*(client.close() for client in self._clients.values()))
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
        await self._ensure_markets()
        indexes = [c.index for c in self._clients.values() if c.index is not None]
        if not indexes:
            raise ExchangeUnavailable("no exchange markets are available right now")
        bases = self.known_bases()
        parsed = parse_query(query, bases)
        for quote in candidate_quotes(parsed):
            listings = [hit for index in indexes if (hit := index.lookup(parsed.base, quote)) is not None]
            if listings:
                first = listings[0]
                return ResolvedSymbol(
                    query=query,
                    base=first.base,
                    quote=first.quote,
                    exchange=first.exchange,
                    spot=first.spot,
                    perp=first.perp,
                    exchanges=tuple(hit.exchange for hit in listings),
                    prefer_perp=parsed.perp,
                )
        raise UnknownSymbol(query, suggest(parsed.base, bases))

    # ----------------------------------------------------------------------- fallback
    async def _on_exchanges(
        self,
        resolved: ResolvedSymbol,
        operation: Callable[[ExchangeClient, Listing], Awaitable[T]],
        *,
        perp_only: bool = False,
    ) -> T:
        """Run `operation` on the first exchange (priority order) that lists the pair and answers."""
        await self._ensure_markets()
        errors: list[MarketError] = []
        for ex, client in self._clients.items():
            listing = client.index.lookup(resolved.base, resolved.quote) if client.index else None
            if listing is None or (perp_only and listing.perp is None):
                continue
            breaker = self._breakers[ex]
            if not breaker.allow():
                errors.append(
                    ExchangeUnavailable(f"{ex} is cooling down", exchange=ex, retry_after=breaker.retry_after())
                )
                continue
            settled = False
            answered = client.answered
            try:
                result = await operation(client, listing)
                if client.answered != answered:  # the exchange itself answered (not only the cache)
                    breaker.record_success()
                    settled = True
                return result
            except _EXCHANGE_FAILURES as exc:
                breaker.record_failure()
                settled = True
                log.warning("%s failed for %s, trying the next exchange: %s", ex, resolved.pair, exc)
                errors.append(exc)
            except UnknownSymbol as exc:
                errors.append(exc)
            finally:
                if not settled:
                    breaker.release()
        raise _pick_error(errors, resolved)

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

        return await self._on_exchanges(resolved, operation)

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

        return await self._on_exchanges(resolved, operation)

    async def tickers(self, bases: Iterable[str], quote: str = "USDT") -> dict[str, Ticker]:
        """Last prices of many coins (base → ticker) in one ccxt `fetch_tickers` per exchange and market
        type: each coin on the first exchange (priority order) that lists it against `quote`, its
        perpetual preferred (so one linear batch covers most coins, spot-only ones a second). An
        exchange that fails or cools down hands its coins to the next; coins nobody answered for
        are missing from the result. Not cached: the minute risk tick is its only caller."""
        await self._ensure_markets()
        pending = list(dict.fromkeys(base.upper() for base in bases))
        found: dict[str, Ticker] = {}
        for ex, client in self._clients.items():
            if not pending or client.index is None:
                continue
            groups: dict[bool, dict[str, str]] = {}  # perp? → market symbol → base
            for base in pending:
                listing = client.index.lookup(base, quote)
                if listing is not None and (market := listing.perp or listing.spot) is not None:
                    groups.setdefault(listing.perp is not None, {})[market] = base
            breaker = self._breakers[ex]
            for markets in groups.values():
                if not breaker.allow():
                    break
                try:
                    batch = await client.fetch_tickers(list(markets))
                except _EXCHANGE_FAILURES as exc:
                    breaker.record_failure()
                    log.warning("%s tickers failed, trying the next exchange: %s", ex, exc)
                    continue
                except UnknownSymbol:
                    breaker.release()
                    continue
                breaker.record_success()
                found.update({markets[market]: ticker for market, ticker in batch.items()})
            pending = [base for base in pending if base not in found]
        return found

    async def derivatives(self, symbol: str | ResolvedSymbol) -> Derivatives | None:
        """Funding and open interest of the pair's linear perpetual; None when no exchange lists one."""
        resolved = await self.resolve(symbol)
        if not any(
            (listing := c.index.lookup(resolved.base, resolved.quote)) is not None and listing.perp
            for c in self._clients.values()
            if c.index
        ):
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

        return await self._on_exchanges(resolved, operation, perp_only=True)

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


def _pick_error(errors: list[MarketError], resolved: ResolvedSymbol) -> MarketError:
    """The most useful error after every exchange failed: a real failure beats 'not listed here'."""
    failures = [e for e in errors if not isinstance(e, UnknownSymbol)]
    if not failures:
        return UnknownSymbol(resolved.query)
    cooling = [e for e in failures if isinstance(e, ExchangeUnavailable) and e.retry_after]
    real = [e for e in failures if e not in cooling]
    if real:
        return real[0]
    wait = min(e.retry_after or 0.0 for e in cooling if isinstance(e, ExchangeUnavailable))
    return ExchangeUnavailable(f"every exchange for {resolved.pair} is cooling down", retry_after=wait)
