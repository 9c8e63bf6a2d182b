"""Domain errors of the market service, and the one place where ccxt's errors are translated.

Callers (handlers, the scheduler) catch `MarketError` and its subclasses only; nothing outside this
package needs to know ccxt's exception hierarchy. The mapping follows freqtrade's exchange wrapper:
rate limits and network trouble are *transient* (retried with backoff, then the next exchange is
tried), everything else is permanent for that request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ccxt.base.errors import BaseError


class MarketError(Exception):
    """Base of every market-data error. `exchange` names the exchange involved, if one was."""

    retryable: bool = False

    def __init__(self, message: str, *, exchange: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.exchange = exchange


class ExchangeUnavailable(MarketError):
    """Network failure, timeout, HTTP 5xx, maintenance, or every exchange cooling down."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        exchange: str | None = None,
        retryable: bool = True,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, exchange=exchange)
        self.retryable = retryable
        self.retry_after = retry_after


class ExchangeTimeout(ExchangeUnavailable):
    """The exchange did not answer within the configured timeout."""


class RateLimited(MarketError):
    """The exchange refused the request for being too frequent (HTTP 429/418/403, Bybit 10006)."""

    retryable = True


class BadResponse(MarketError):
    """The exchange answered with something that is not the expected JSON (malformed, truncated)."""

    retryable = True


class UnknownSymbol(MarketError):
    """No configured exchange lists the asked symbol; `suggestions` are close known base assets."""

    def __init__(self, query: str, suggestions: Sequence[str] = (), *, exchange: str | None = None) -> None:
        self.query = query
        self.suggestions: tuple[str, ...] = tuple(suggestions)
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"unknown symbol {query!r}{hint}", exchange=exchange)


class UnsupportedTimeframe(MarketError):
    """A timeframe outside `supported`."""

    def __init__(self, timeframe: str, supported: Sequence[str]) -> None:
        self.timeframe = timeframe
        self.supported: tuple[str, ...] = tuple(supported)
        super().__init__(f"unsupported timeframe {timeframe!r}; use one of {', '.join(self.supported)}")


class NotEnoughData(MarketError):
    """Too few candles for the analysis (a new listing, a short history)."""

    def __init__(self, needed: int, got: int, *, what: str = "candles", exchange: str | None = None) -> None:
        self.needed = needed
        self.got = got
        super().__init__(f"not enough {what}: need {needed}, got {got}", exchange=exchange)


# Errors that ccxt raises while *parsing* a well-formed JSON document of an unexpected shape
# (a `null` result, a list where an object was expected). They mean "bad response", not a bug here.
PARSE_ERRORS: tuple[type[Exception], ...] = (TypeError, KeyError, IndexError, ValueError, AttributeError)


def map_ccxt_error(exc: BaseError, exchange: str, *, symbol: str | None = None) -> MarketError:
    """Translate a ccxt exception into the domain error (order matters: most specific first)."""
    from services.market.ccxt_loader import errors

    ccxt = errors()  # loaded already: `exc` came from it (never on the start path)

    text = f"{exchange}: {type(exc).__name__}: {str(exc)[:300]}"
    if isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
        return RateLimited(text, exchange=exchange)
    if isinstance(exc, ccxt.RequestTimeout):
        return ExchangeTimeout(text, exchange=exchange)
    if isinstance(exc, ccxt.BadResponse):
        return BadResponse(text, exchange=exchange)
    if isinstance(exc, ccxt.OperationFailed):
        # NetworkError, ExchangeNotAvailable, OnMaintenance, InvalidNonce, CancelPending
        return ExchangeUnavailable(text, exchange=exchange)
    if isinstance(exc, ccxt.BadSymbol):
        return UnknownSymbol(symbol or "?", exchange=exchange)
    if isinstance(exc, ccxt.ExchangeError):
        # An error code ccxt does not know (e.g. Bybit 10016 "system error"): the exchange is up but
        # refuses; not worth retrying here, but the next exchange may answer.
        return ExchangeUnavailable(text, exchange=exchange, retryable=False)
    return MarketError(text, exchange=exchange)
