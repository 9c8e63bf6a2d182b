"""`ExchangePool`: which exchange answers a market request.

The configured exchanges in priority order, each with its ccxt client, its circuit breaker and its
market list: loaded at start, reloaded by the scheduler every few hours and lazily when stale (an
exchange that is down at start is retried on demand). A query resolves against those lists, and
every request runs on the first exchange that lists the pair and answers, skipping exchanges whose
breaker is open. `MarketService` holds one and decides what to fetch and cache; the breaker
bookkeeping and the fallback order live only here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from services.market.cache import SingleFlight
from services.market.errors import (
    BadResponse,
    ExchangeUnavailable,
    MarketError,
    RateLimited,
    UnknownSymbol,
)
from services.market.exchanges import ExchangeClient
from services.market.models import ResolvedSymbol, Ticker
from services.market.results import ExchangeStatus
from services.market.retry import BreakerPolicy, CircuitBreaker, RetryPolicy
from services.market.symbols import Listing, candidate_quotes, parse_query, suggest

log = logging.getLogger(__name__)

T = TypeVar("T")
_EXCHANGE_FAILURES = (ExchangeUnavailable, RateLimited, BadResponse)


class ExchangePool:
    """The exchanges of one `MarketService` (its constructor documents the settings).

    `flights` is the service's `SingleFlight`: a market reload shares it with the data requests, so
    concurrent callers wait for one load and `MarketService.close()` cancels it with the rest.
    """

    def __init__(
        self,
        exchanges: Sequence[str],
        *,
        flights: SingleFlight,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        markets_ttl: float,
        api_urls: Mapping[str, str] | None = None,
        timeout_ms: int = 10_000,
        retry: RetryPolicy | None = None,
        breaker: BreakerPolicy | None = None,
        close_grace_ms: int | None = None,
        ccxt_config: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        ids = list(dict.fromkeys(e.strip().lower() for e in exchanges if e.strip()))
        if not ids:
            raise ValueError("at least one exchange is required")
        urls = {k.lower(): v for k, v in (api_urls or {}).items()}
        extra = {k.lower(): v for k, v in (ccxt_config or {}).items()}
        self._clock = clock
        self.clients: dict[str, ExchangeClient] = {
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
        self._flights = flights
        self.markets_ttl = markets_ttl

    # ----------------------------------------------------------------------- markets
    async def start(self) -> None:
        """Load markets everywhere; an exchange that is down now is retried lazily later."""
        await self.refresh_markets()
        if not any(c.index for c in self.clients.values()):
            log.error("no exchange markets could be loaded; market data will retry on demand")

    async def refresh_markets(self) -> dict[str, str | None]:
        """Reload the markets of every exchange (the scheduler calls this every few hours).

        Returns exchange id → None on success or the error message; never raises `MarketError`.
        """
        ids = list(self.clients)
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
        client = self.clients[exchange]

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

    async def ensure_markets(self) -> None:
        """Load missing or stale market lists (skipping exchanges in cool-down)."""
        now = self._clock()
        due = [
            ex
            for ex, client in self.clients.items()
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
        for client in self.clients.values():
            if client.index is not None:
                bases |= client.index.bases
        return bases

    def lists_perp(self, resolved: ResolvedSymbol) -> bool:
        """Whether any exchange lists a linear perpetual of the pair."""
        return any(
            (listing := c.index.lookup(resolved.base, resolved.quote)) is not None and listing.perp
            for c in self.clients.values()
            if c.index
        )

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
            for ex, c in self.clients.items()
        ]

    async def close(self) -> None:
        """Close every ccxt client (the caller closes the shared flights first)."""
        await asyncio.gather(*(client.close() for client in self.clients.values()))

    # ----------------------------------------------------------------------- resolution
    async def resolve(self, query: str) -> ResolvedSymbol:
        """A symbol query → the pair's markets on the first exchange listing it, and every one that does."""
        await self.ensure_markets()
        indexes = [c.index for c in self.clients.values() if c.index is not None]
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
    async def run(
        self,
        resolved: ResolvedSymbol,
        operation: Callable[[ExchangeClient, Listing], Awaitable[T]],
        *,
        perp_only: bool = False,
    ) -> T:
        """Run `operation` on the first exchange (priority order) that lists the pair and answers."""
        await self.ensure_markets()
        errors: list[MarketError] = []
        for ex, client in self.clients.items():
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

    async def tickers(self, bases: Iterable[str], quote: str) -> dict[str, Ticker]:
        """`MarketService.tickers`: one `fetch_tickers` per exchange and market type, coins that an
        exchange fails, cools down or does not list handed on to the next."""
        await self.ensure_markets()
        pending = list(dict.fromkeys(base.upper() for base in bases))
        found: dict[str, Ticker] = {}
        for ex, client in self.clients.items():
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
