"""Which coins and timeframe a chat message asks about.

Precision first: a message that names no coin must give no coin (the caller then reuses the
conversation's last symbol or asks), so ordinary words that happen to be tickers (ONE, AI, GAS,
SUN, MOVE, PEOPLE, ME, NOT…) count only when written as tickers in context. See `words.py`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Set
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from services.intent.aliases import COINS, CONTEXT_AFTER, CONTEXT_AFTER_WEAK, QUOTES, STABLECOINS, SUCCESSORS
from services.intent.timeframe import find_timeframe
from services.intent.words import COMMON_WORDS, SECTOR_WORDS, TICKER_WORDS

__all__ = ["MAX_COINS", "Intent", "extract", "resolve_base"]

MAX_COINS = 3

_STABLE_QUOTES = "|".join(q for q in QUOTES if q in STABLECOINS)
_CRYPTO_QUOTES = "|".join(q for q in QUOTES if q not in STABLECOINS)
_SUFFIX = r"(?:[-_:/]?(?:SWAP|PERP|USDT|USDC|USD)|\.P)?"
# BTC/USDT, btc-usdt, ETH-USDT-SWAP, BTC/USDT:USDT, eth/btc, BTC-PERP
_PAIR_SEPARATED = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z0-9]{1,20})\s?[/_:-]\s?"
    rf"({_STABLE_QUOTES}|{_CRYPTO_QUOTES}|PERP){_SUFFIX}(?![A-Za-z0-9])",
    re.IGNORECASE,
)
# BTCUSDT, solusdt, SOLUSDT.P, BTCPERP; crypto-quoted (ETHBTC) only in capitals
_PAIR_JOINED = re.compile(
    rf"(?<![A-Za-z0-9$#])([A-Za-z0-9]{{1,20}}?)(?:(?i:{_STABLE_QUOTES}|PERP)|({_CRYPTO_QUOTES})){_SUFFIX}(?![A-Za-z0-9])"
)
_CASHTAG = re.compile(r"(?<![A-Za-z0-9])[$#]([A-Za-z0-9]{1,20})(?![A-Za-z0-9])")
_TOKEN = re.compile(r"(?<![A-Za-z0-9$#])[A-Za-z0-9]{1,20}(?![A-Za-z0-9])")
_MULTIPLIER = re.compile(r"^(1000000|100000|10000|1000|100)([A-Z][A-Z0-9]*)$")
_LIST_GAP = re.compile(r"^\s*(?:,|、|/|&|\+|and|vs\.?|versus|和|与|跟|及|以及|对比)?\s*$", re.IGNORECASE)
_MAX_LIST_GAP = 12
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_CONTEXT = re.compile(r"^\s?(" + "|".join(map(re.escape, CONTEXT_AFTER)) + r")(?![A-Za-z])", re.IGNORECASE)
_CONTEXT_WEAK = re.compile(
    r"^\s?(" + "|".join(map(re.escape, CONTEXT_AFTER + CONTEXT_AFTER_WEAK)) + r")(?![A-Za-z])", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Intent:
    coins: tuple[str, ...] = ()  # base tickers in order of appearance, at most MAX_COINS
    timeframe: str | None = None  # one of 5m 15m 1h 4h 1d 1w; None → conversation's, then DEFAULT_TIMEFRAME
    is_comparison: bool = False  # two or more coins
    language_hint: Literal["zh", "en"] | None = None  # zh when the text has CJK characters


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    base: str


def resolve_base(symbol: str, known: Set[str]) -> str | None:
    """The listed base asset for a ticker-like string (renames and 1000x contracts included)."""
    upper = symbol.upper()
    for candidate in SUCCESSORS.get(upper, (upper,)):
        if candidate in known:
            return candidate
    multiplied = _MULTIPLIER.match(upper)
    if multiplied:
        return resolve_base(multiplied.group(2), known)
    return None


@lru_cache(maxsize=1)
def _name_tables() -> tuple[dict[str, str], re.Pattern[str], dict[str, str], re.Pattern[str], dict[str, str]]:
    """(one-word Latin names, multi-word Latin regex + table, Chinese regex + table)."""
    words: dict[str, str] = {}
    phrases: dict[str, str] = {}
    chinese: dict[str, str] = {}
    for ticker, names in COINS.items():
        for name in names:
            key = " ".join(name.lower().split())
            if not name.isascii():
                chinese.setdefault(key, ticker)
            elif key.isalnum():
                words.setdefault(key, ticker)
            else:
                phrases.setdefault(key, ticker)
    alternatives = [
        r"[\s-]+".join(re.escape(part) for part in name.split(" ")) for name in sorted(phrases, key=len, reverse=True)
    ]
    phrase_re = re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(alternatives) + r")(?![A-Za-z0-9])", re.IGNORECASE)
    chinese_re = re.compile("|".join(re.escape(n) for n in sorted(chinese, key=len, reverse=True)))
    return words, phrase_re, phrases, chinese_re, chinese


class _Taken:
    """Which characters already belong to a match (a pair's quote must not count again)."""

    def __init__(self, size: int) -> None:
        self._mask = bytearray(size)

    def overlaps(self, start: int, end: int) -> bool:
        return self._mask.find(1, start, end) != -1

    def mark(self, start: int, end: int) -> None:
        self._mask[start:end] = b"\x01" * (end - start)


def _is_shouting(text: str, known: Set[str]) -> bool:
    """Mostly capitals outside tickers: then capitals say nothing about tickers."""
    words: list[str] = [w for w in _TOKEN.findall(text) if w.isalpha() and len(w) > 1 and w.upper() not in known]
    if len(words) < 3:
        return False
    return sum(1 for w in words if w.isupper()) >= 0.8 * len(words)


def extract(text: str, *, known_bases: Iterable[str]) -> Intent:
    """Coins (validated against `known_bases`), timeframe and language of a chat message."""
    text = unicodedata.normalize("NFKC", text or "")
    known = {b.upper() for b in known_bases}
    language: Literal["zh", "en"] | None = "zh" if _CJK.search(text) else "en" if _LATIN.search(text) else None
    timeframe = find_timeframe(text)
    hits = _find_coins(text, known)
    coins: list[str] = []
    for hit in sorted(hits, key=lambda h: h.start):
        if hit.base not in coins:
            coins.append(hit.base)
        if len(coins) == MAX_COINS:
            break
    return Intent(
        coins=tuple(coins),
        timeframe=timeframe,
        is_comparison=len(coins) >= 2,
        language_hint=language,
    )


def _find_coins(text: str, known: Set[str]) -> list[_Hit]:
    hits: list[_Hit] = []
    taken = _Taken(len(text))

    def add(start: int, end: int, symbol: str, *, is_name: bool = False) -> bool:
        base = resolve_base(symbol, known)
        if base is None or base in STABLECOINS or (len(base) == 1 and not is_name):
            return False
        hits.append(_Hit(start=start, end=end, base=base))
        taken.mark(start, end)
        return True

    # 1. pairs: the strongest signal, and they must not leak their quote as a coin
    for pattern in (_PAIR_SEPARATED, _PAIR_JOINED):
        for match in pattern.finditer(text):
            if taken.overlaps(match.start(), match.end()):
                continue
            base_ok = add(match.start(1), match.end(1), match.group(1))
            quote = match.group(2) if pattern is _PAIR_JOINED else match.group(2).upper()
            if base_ok:
                taken.mark(match.start(), match.end())
                if quote and quote.upper() not in STABLECOINS and quote.upper() != "PERP":
                    add(match.end(1), match.end(), quote)
    # 2. cashtags and hashtags: $btc #eth $ONE #Bitcoin
    name_words, phrase_re, phrases, chinese_re, chinese = _name_tables()
    for match in _CASHTAG.finditer(text):
        if not taken.overlaps(match.start(), match.end()):
            tag = match.group(1)
            if not add(match.start(), match.end(), tag) and tag.lower() in name_words:
                add(match.start(), match.end(), name_words[tag.lower()], is_name=True)
    # 3. names and nicknames: shiba inu, bitcoin, 比特币, 大饼
    for match in phrase_re.finditer(text):
        if not taken.overlaps(match.start(), match.end()):
            key = " ".join(match.group(0).lower().replace("-", " ").split())
            add(match.start(), match.end(), phrases[key], is_name=True)
    for match in chinese_re.finditer(text):
        if not taken.overlaps(match.start(), match.end()):
            add(match.start(), match.end(), chinese[match.group(0)], is_name=True)
    # 4. bare tickers, with the word rules
    shouting = _is_shouting(text, known)
    deferred: list[re.Match[str]] = []
    listed: dict[str, bool] = {}  # long messages repeat words: resolve each once
    for match in _TOKEN.finditer(text):
        word = match.group(0)
        if word.isdigit() or taken.overlaps(match.start(), match.end()):
            continue
        name = name_words.get(word.lower())
        if name is not None:
            add(match.start(), match.end(), name, is_name=True)
            continue
        if word not in listed:
            listed[word] = resolve_base(word, known) is not None
        if not listed[word]:
            continue
        verdict = _judge(word, text[match.end() : match.end() + 16], shouting)
        if verdict == "yes":
            add(match.start(), match.end(), word)
        elif verdict == "if-listed":
            deferred.append(match)
    # 5. capitalised common words in a list with other coins: "BTC, ETH and ONE". Items next to
    # each other with only a separator between them form a run; a run holding a coin takes all.
    items = sorted([(h.start, h.end, None) for h in hits] + [(m.start(), m.end(), m) for m in deferred])
    run: list[tuple[int, int, re.Match[str] | None]] = []
    for item in [*items, None]:
        if item is not None and run and _linked(text, run[-1][1], item[0]):
            run.append(item)
            continue
        if any(m is None for _, _, m in run):
            for _, _, m in run:
                if m is not None:
                    add(m.start(), m.end(), m.group(0))
        run = [item] if item is not None else []
    return hits


def _judge(word: str, after: str, shouting: bool) -> Literal["yes", "no", "if-listed"]:
    lower = word.lower()
    caps = word.isupper() and not shouting
    if len(word) == 1:
        return "no"
    if lower in COMMON_WORDS:
        if not word.isupper():
            return "no"
        if lower not in SECTOR_WORDS and _CONTEXT.match(after):
            return "yes"
        return "if-listed" if caps else "no"
    if lower in TICKER_WORDS:
        return "yes" if caps or _CONTEXT_WEAK.match(after) else "no"
    if len(word) >= 3 or caps:
        return "yes"
    return "yes" if _CONTEXT.match(after) else "no"


def _linked(text: str, end: int, start: int) -> bool:
    """Only a list separator (",", "and", "vs", "和"…) between two items."""
    return 0 <= start - end <= _MAX_LIST_GAP and _LIST_GAP.match(text[end:start]) is not None
