"""One ccxt async client per exchange: construction, URL rewriting, markets, typed fetches.

Every ccxt call goes through `ExchangeClient._call`, which maps ccxt's exceptions to the domain
errors of `errors.py` and retries the transient ones (freqtrade's pattern). Parsing of ccxt's
unified structures into our dataclasses happens here and nowhere else.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from services.exchange_ids import is_ccxt_exchange
from services.market.ccxt_loader import errors as ccxt_errors
from services.market.ccxt_loader import exchange_class
from services.market.errors import PARSE_ERRORS, BadResponse, ExchangeUnavailable, MarketError, map_ccxt_error
from services.market.models import Derivatives, FloatArray, Ticker, ms_to_datetime
from services.market.retry import RetryPolicy, retry_async
from services.market.symbols import SymbolIndex

log = logging.getLogger(__name__)

T = TypeVar("T")

# Only spot and linear perpetuals are loaded: fewer requests at start and at every refresh.
MARKET_TYPE_OPTIONS: dict[str, dict[str, Any]] = {
    "bybit": {"fetchMarkets": {"types": ["spot", "linear"]}},
    "binance": {"fetchMarkets": {"types": ["spot", "linear"]}},
    "okx": {"fetchMarkets": {"types": ["spot", "swap"]}},
    "bitget": {"fetchMarkets": {"types": ["spot", "swap"]}},
    "gate": {"fetchMarkets": {"types": ["spot", "swap"]}},
    "mexc": {"fetchMarkets": {"types": {"spot": True, "swap": {"linear": True, "inverse": False}}}},
    "htx": {"fetchMarkets": {"types": {"spot": True, "linear": True, "inverse": False}}},
}
# Most candles asked for in one request: the per-request maximum of bybit and binance spot (ccxt lowers it
# further where an exchange allows fewer, e.g. okx 300).
MAX_OHLCV_LIMIT = 1000
# Exchanges whose funding-rate response (a ticker) already carries the open interest: one request.
OPEN_INTEREST_IN_FUNDING_INFO = frozenset({"bybit"})


def rewrite_urls(node: Any, base_url: str) -> Any:
    """Replace scheme and host of every URL in a nested `urls['api']` structure with `base_url`'s.

    A path in `base_url` (a proxy prefix) is put in front of each URL's own path.
    """
    if isinstance(node, str):
        parts = urlsplit(node)
        if not parts.scheme or not parts.netloc:
            return node
        target = urlsplit(base_url)
        path = target.path.rstrip("/") + parts.path
        return urlunsplit((target.scheme, target.netloc, path, parts.query, parts.fragment))
    if isinstance(node, Mapping):
        return {key: rewrite_urls(value, base_url) for key, value in node.items()}
    if isinstance(node, list | tuple):
        return [rewrite_urls(value, base_url) for value in node]
    return node


ROLLING_WINDOW_MS = 10_000


def create_ccxt_exchange(
    exchange_id: str, *, api_url: str | None, timeout_ms: int, extra_config: Mapping[str, Any] | None = None
) -> Any:
    """A configured `ccxt.async_support` instance (no network I/O happens here).

    `extra_config` is merged into ccxt's constructor config (e.g. ``{"rateLimit": 50}``, proxies);
    its "options" are merged into ours.
    """
    exchange_type = exchange_class(exchange_id)  # this exchange's module only (services/market/ccxt_loader.py)
    config: dict[str, Any] = {
        "enableRateLimit": True,
        # ccxt's default leaky bucket charges each request's cost to the *next* request, so even
        # an idle client waits ~100 ms per call (bybit: cost 5 × 20 ms). A rolling window keeps
        # the same average limit (cost per window) without that added latency on every request.
        "rateLimiterAlgorithm": "rollingWindow",
        "rollingWindowSize": ROLLING_WINDOW_MS,
        "timeout": timeout_ms,
        "options": MARKET_TYPE_OPTIONS.get(exchange_id, {}),
    }
    for key, value in (extra_config or {}).items():
        config[key] = {**config["options"], **value} if key == "options" else value
    exchange = exchange_type(config)
    # Currencies are not needed, and on several exchanges they need API keys or extra requests.
    exchange.has["fetchCurrencies"] = False
    if api_url:
        exchange.urls = {**exchange.urls, "api": rewrite_urls(exchange.urls["api"], api_url)}
    exchange.on_rest_response = _strict_json_body(exchange_id)
    return exchange


def _strict_json_body(exchange_id: str) -> Callable[..., str]:
    """ccxt hook: a 2xx body that is not valid JSON raises `ccxt.BadResponse` (ccxt would hand the
    raw text to its parsers, which then yield empty lists instead of failing)."""

    def on_rest_response(code: int, reason: str, url: str, method: str, headers: Any, body: str, *rest: Any) -> str:
        text = body.strip()
        if 200 <= code < 300:
            try:
                json.loads(text)
            except ValueError as exc:
                raise ccxt_errors().BadResponse(
                    f"{exchange_id} {method} {url} returned malformed JSON: {text[:120]!r}"
                ) from exc
        return text

    return on_rest_response


def _float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def parse_ohlcv_rows(rows: Any, exchange_id: str) -> FloatArray:
    """ccxt OHLCV lists → (n, 6) float64, sorted, deduplicated; missing volume counts as zero."""
    if not isinstance(rows, list):
        raise BadResponse(f"{exchange_id}: OHLCV is not a list", exchange=exchange_id)
    if not rows:
        return np.empty((0, 6), dtype=np.float64)
    try:
        data = np.array([row[:6] for row in rows], dtype=object)
    except (TypeError, IndexError) as exc:
        raise BadResponse(f"{exchange_id}: malformed OHLCV rows", exchange=exchange_id) from exc
    if data.ndim != 2 or data.shape[1] != 6:
        raise BadResponse(f"{exchange_id}: OHLCV rows are not [ts, o, h, l, c, v]", exchange=exchange_id)
    data[:, 5] = [0.0 if v is None else v for v in data[:, 5]]
    try:
        out = data.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise BadResponse(f"{exchange_id}: OHLCV contains non-numbers", exchange=exchange_id) from exc
    if not np.isfinite(out[:, :5]).all():
        raise BadResponse(f"{exchange_id}: OHLCV contains missing prices", exchange=exchange_id)
    out = out[np.argsort(out[:, 0], kind="stable")]
    keep = np.concatenate((out[1:, 0] != out[:-1, 0], [True]))  # last row of a duplicate wins
    return np.ascontiguousarray(out[keep])


class ExchangeClient:
    """A ccxt exchange with its market index, error mapping and retries.

    The ccxt instance is created on the first call (`ccxt` imported in a worker thread then, so the
    event loop keeps serving), not here: building the bot neither imports ccxt nor creates clients.
    """

    def __init__(
        self,
        exchange_id: str,
        *,
        api_url: str | None = None,
        timeout_ms: int = 10_000,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        close_grace_ms: int | None = None,
        extra_config: Mapping[str, Any] | None = None,
    ) -> None:
        if not is_ccxt_exchange(exchange_id):  # checked now, although ccxt loads with the first call
            raise ValueError(f"unknown ccxt exchange id {exchange_id!r}")
        self.id = exchange_id
        self._api_url = api_url
        self._timeout_ms = timeout_ms
        self._extra_config = dict(extra_config or {})
        if close_grace_ms is None and api_url and api_url.startswith("http://"):
            close_grace_ms = 0  # ccxt's wait on close lets TLS connections shut down: plain HTTP has none
        self._close_grace_ms = close_grace_ms
        self._raw: Any = None
        self._closed = False
        self.retry = retry or RetryPolicy()
        self._clock = clock
        self._sleep = sleep
        self.index: SymbolIndex | None = None
        self.markets_loaded_at: float | None = None
        self.answered = 0  # successful exchange calls: tells a breaker trial from a cache hit
        self.failed = 0  # exchange calls (each attempt) that ended in an error

    @property
    def created(self) -> bool:
        """Whether the ccxt instance exists (it is created by the first call)."""
        return self._raw is not None

    @property
    def raw(self) -> Any:
        """The ccxt instance, created now if no call has created it yet."""
        if self._raw is None:
            raw = create_ccxt_exchange(
                self.id, api_url=self._api_url, timeout_ms=self._timeout_ms, extra_config=self._extra_config
            )
            if self._close_grace_ms is not None:
                raw.timeout_on_exit = self._close_grace_ms
            self._raw = raw
        return self._raw

    async def _ensure_created(self) -> None:
        if self._closed:
            raise ExchangeUnavailable(f"{self.id}: client closed", exchange=self.id, retryable=False)
        if self._raw is None:
            # The one slow part (this exchange's ccxt module); the event loop keeps serving meanwhile.
            await asyncio.to_thread(exchange_class, self.id)
            if self._closed:  # closed while ccxt was loading: create nothing left unclosed
                raise ExchangeUnavailable(f"{self.id}: client closed", exchange=self.id, retryable=False)
            _ = self.raw

    async def _call(self, what: str, call: Callable[[], Awaitable[T]], *, symbol: str | None = None) -> T:
        await self._ensure_created()
        base_error = ccxt_errors().BaseError

        async def once() -> T:
            try:
                result = await call()
            except base_error as exc:
                self.failed += 1
                raise map_ccxt_error(exc, self.id, symbol=symbol) from exc
            except PARSE_ERRORS as exc:
                self.failed += 1
                raise BadResponse(f"{self.id}: unexpected {what} response: {exc!r}", exchange=self.id) from exc
            self.answered += 1
            return result

        return await retry_async(once, self.retry, what=f"{self.id} {what}", sleep=self._sleep)

    async def load_markets(self, *, reload: bool = False) -> SymbolIndex:
        markets = await self._call("load_markets", lambda: self.raw.load_markets(reload))
        if not isinstance(markets, Mapping) or not markets:
            raise BadResponse(f"{self.id}: no markets", exchange=self.id)
        self.index = SymbolIndex.from_markets(self.id, markets)
        self.markets_loaded_at = self._clock()
        log.info("%s: %d spot/perp pairs loaded", self.id, len(self.index))
        return self.index

    async def fetch_ohlcv(self, symbol: str, timeframe: str, *, limit: int, since: int | None = None) -> FloatArray:
        limit = max(1, min(limit, MAX_OHLCV_LIMIT))
        rows = await self._call(
            f"fetch_ohlcv {symbol} {timeframe}",
            lambda: self.raw.fetch_ohlcv(symbol, timeframe, since=since, limit=limit),
            symbol=symbol,
        )
        return parse_ohlcv_rows(rows, self.id)

    async def fetch_ticker(self, symbol: str) -> Ticker:
        raw = await self._call(f"fetch_ticker {symbol}", lambda: self.raw.fetch_ticker(symbol), symbol=symbol)
        return self._ticker(raw, symbol)

    async def fetch_tickers(self, symbols: list[str]) -> dict[str, Ticker]:
        """Tickers of several markets of one type in one request (ccxt `fetch_tickers`); markets the
        answer lacks are left out, a market without a price in it is a `BadResponse`."""
        raw = await self._call(f"fetch_tickers ({len(symbols)})", lambda: self.raw.fetch_tickers(symbols))
        if not isinstance(raw, Mapping):
            raise BadResponse(f"{self.id}: tickers are not an object", exchange=self.id)
        return {symbol: self._ticker(raw[symbol], symbol) for symbol in symbols if symbol in raw}

    def _ticker(self, raw: Any, symbol: str) -> Ticker:
        if not isinstance(raw, Mapping):
            raise BadResponse(f"{self.id}: ticker is not an object", exchange=self.id)
        price = _float(raw.get("last")) or _float(raw.get("close"))
        if price is None:
            raise BadResponse(f"{self.id}: ticker for {symbol} has no price", exchange=self.id)
        quote_volume = _float(raw.get("quoteVolume"))
        base_volume = _float(raw.get("baseVolume"))
        if quote_volume is None and base_volume is not None:
            quote_volume = base_volume * (_float(raw.get("vwap")) or price)
        timestamp = _float(raw.get("timestamp")) or self._clock() * 1000
        return Ticker(
            exchange=self.id,
            symbol=symbol,
            price=price,
            change_24h_pct=_float(raw.get("percentage")),
            volume_24h=quote_volume,
            high_24h=_float(raw.get("high")),
            low_24h=_float(raw.get("low")),
            timestamp=ms_to_datetime(timestamp),
        )

    async def fetch_derivatives(self, perp: str) -> Derivatives:
        """Funding and open interest of a perpetual; one of the two may be missing, not both."""
        calls: list[Awaitable[Any]] = []
        has = self.raw.has
        calls.append(
            self._call(f"fetch_funding_rate {perp}", lambda: self.raw.fetch_funding_rate(perp), symbol=perp)
            if has.get("fetchFundingRate")
            else _none()
        )
        separate_oi = has.get("fetchOpenInterest") and self.id not in OPEN_INTEREST_IN_FUNDING_INFO
        calls.append(
            self._call(f"fetch_open_interest {perp}", lambda: self.raw.fetch_open_interest(perp), symbol=perp)
            if separate_oi
            else _none()
        )
        funding, interest = await asyncio.gather(*calls, return_exceptions=True)
        for result in (funding, interest):
            if isinstance(result, BaseException) and not isinstance(result, MarketError):
                raise result
        if isinstance(funding, MarketError) and (isinstance(interest, MarketError) or interest is None):
            raise funding
        if isinstance(interest, MarketError) and funding is None:
            raise interest
        funding = funding if isinstance(funding, Mapping) else {}
        interest = interest if isinstance(interest, Mapping) else {}
        info = funding.get("info")
        if not interest and isinstance(info, Mapping) and info.get("openInterest") not in (None, ""):
            interest = {
                "openInterestAmount": info.get("openInterest"),
                "openInterestValue": info.get("openInterestValue"),
            }
        mark = _float(funding.get("markPrice"))
        amount = _float(interest.get("openInterestAmount"))
        value = _float(interest.get("openInterestValue"))
        if value is None and amount is not None and mark is not None:
            market = self.raw.markets.get(perp, {}) if self.raw.markets else {}
            value = amount * (_float(market.get("contractSize")) or 1.0) * mark
        next_funding = _float(funding.get("fundingTimestamp")) or _float(funding.get("nextFundingTimestamp"))
        timestamp = _float(funding.get("timestamp")) or _float(interest.get("timestamp")) or self._clock() * 1000
        return Derivatives(
            exchange=self.id,
            symbol=perp,
            funding_rate=_float(funding.get("fundingRate")),
            next_funding_time=ms_to_datetime(next_funding) if next_funding else None,
            funding_interval_hours=_interval_hours(funding.get("interval")),
            open_interest=amount,
            open_interest_value=value,
            mark_price=mark,
            timestamp=ms_to_datetime(timestamp),
        )

    async def close(self) -> None:
        self._closed = True
        if self._raw is not None:
            await self._raw.close()


async def _none() -> None:
    return None


def _interval_hours(value: Any) -> float | None:
    """ccxt funding intervals look like '8h' or '60m'."""
    if not isinstance(value, str) or len(value) < 2:
        return None
    number = _float(value[:-1])
    if number is None or number <= 0:
        return None
    return {"h": number, "m": number / 60, "d": number * 24}.get(value[-1])
