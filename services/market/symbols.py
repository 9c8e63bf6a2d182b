"""Symbol parsing and per-exchange market indexes.

Users write `BTC`, `btc`, `$btc`, `BTC/USDT`, `BTCUSDT`, `BTC-USDT-SWAP`, `BTC/USDT:USDT`, `BTCUSDT.P`;
all of them mean the BTC/USDT spot market and, where it exists, the BTC/USDT:USDT linear perpetual.
The quote defaults to USDT.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_QUOTE = "USDT"
# Quote currencies recognised at the end of a compact pair such as BTCUSDT; longest first.
KNOWN_QUOTES: tuple[str, ...] = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USD", "EUR", "BTC", "ETH", "BNB")
_PERP_SUFFIXES: tuple[str, ...] = (".P", "-PERPETUAL", "-SWAP", "_SWAP", "-PERP", "_PERP", "PERP")
_SEPARATORS = re.compile(r"[/\-_]")
_CLEAN = re.compile(r"[^A-Z0-9/:\-_.]")


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    base: str
    quote: str | None  # None: not given, use the default
    perp: bool  # the query named the perpetual explicitly


@dataclass(frozen=True, slots=True)
class Listing:
    """A base/quote pair on one exchange: its spot market and/or its linear perpetual."""

    exchange: str
    base: str
    quote: str
    spot: str | None
    perp: str | None


def _clean(query: str) -> str:
    text = query.strip().upper().lstrip("$#")
    return _CLEAN.sub("", text)


def parse_query(query: str, known_bases: Iterable[str] = ()) -> ParsedQuery:
    """Split a symbol query into base/quote; `known_bases` helps split compact forms (BTCUSDT)."""
    text = _clean(query)
    perp = False
    if ":" in text:  # ccxt unified swap symbol: BTC/USDT:USDT
        text = text.split(":", 1)[0]
        perp = True
    for suffix in _PERP_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            perp = True
            break
    text = text.strip("-_/.")
    parts = [part for part in _SEPARATORS.split(text) if part]
    if len(parts) >= 2:
        return ParsedQuery(base=parts[0], quote=parts[1], perp=perp)
    token = parts[0] if parts else ""
    bases = known_bases if isinstance(known_bases, set | frozenset) else set(known_bases)
    if token in bases:
        return ParsedQuery(base=token, quote=None, perp=perp)
    for quote in KNOWN_QUOTES:
        prefix = token[: -len(quote)]
        if token.endswith(quote) and prefix and prefix in bases:
            return ParsedQuery(base=prefix, quote=quote, perp=perp)
    for quote in KNOWN_QUOTES:  # unknown base: still split so the error can suggest the base
        prefix = token[: -len(quote)]
        if token.endswith(quote) and len(prefix) >= 2:
            return ParsedQuery(base=prefix, quote=quote, perp=perp)
    return ParsedQuery(base=token, quote=None, perp=perp)


class SymbolIndex:
    """Spot markets and USDT(-style) linear perpetuals of one exchange, keyed by (base, quote)."""

    def __init__(self, exchange: str, listings: Mapping[tuple[str, str], Listing]) -> None:
        self.exchange = exchange
        self.listings = dict(listings)
        self.bases: frozenset[str] = frozenset(base for base, _ in self.listings)

    @classmethod
    def from_markets(cls, exchange: str, markets: Mapping[str, Mapping[str, Any]]) -> SymbolIndex:
        spot: dict[tuple[str, str], str] = {}
        perp: dict[tuple[str, str], str] = {}
        for symbol, market in markets.items():
            if market.get("active") is False:
                continue
            base, quote = market.get("base"), market.get("quote")
            if not isinstance(base, str) or not isinstance(quote, str):
                continue
            key = (base.upper(), quote.upper())
            if market.get("spot"):
                spot.setdefault(key, symbol)
            elif market.get("swap") and market.get("linear") and market.get("settle") == quote:
                perp.setdefault(key, symbol)
        listings = {
            key: Listing(exchange=exchange, base=key[0], quote=key[1], spot=spot.get(key), perp=perp.get(key))
            for key in spot.keys() | perp.keys()
        }
        return cls(exchange, listings)

    def lookup(self, base: str, quote: str) -> Listing | None:
        return self.listings.get((base, quote))

    def __len__(self) -> int:
        return len(self.listings)


def candidate_quotes(parsed: ParsedQuery) -> tuple[str, ...]:
    """Quotes to try for a parsed query: the asked one; USD also means USDT (people say BTCUSD)."""
    if parsed.quote is None:
        return (DEFAULT_QUOTE,)
    if parsed.quote == "USD":
        return ("USD", DEFAULT_QUOTE)
    return (parsed.quote,)


def suggest(base: str, bases: Iterable[str], n: int = 3) -> list[str]:
    """Close known base assets for a misspelt one (difflib ratio ≥ 0.6)."""
    if not base:
        return []
    return difflib.get_close_matches(base, sorted(bases), n=n, cutoff=0.6)
