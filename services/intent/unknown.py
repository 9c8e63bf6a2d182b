"""Coin-like words that name no listed coin ("how is FOOBARCOIN doing?"), and the listed coins nearest to them.

`extract` only returns coins the exchanges list, so a message about an unknown coin gives no coin —
the same as a follow-up that names none ("and the daily?"), which reuses the conversation's last
symbol. A word that looks like a ticker but is none must not be taken for a follow-up: the user is
told the coin is unknown, with the nearest listed coins to pick from. What looks like a ticker:

* written as one: `$XYZ`, `#XYZ`, a pair (`XYZUSDT`, `XYZ/USDT`);
* a word ending in "coin" or "token" (`foobarcoin`, `MoonToken`);
* a word in capitals, two letters or more, with at least one letter ("FOOBAR", "SOLL", "X2Y2"),
  unless the whole message is shouted, it is an everyday word or trading term (`COMMON_WORDS`,
  `NOT_COINS`: "RSI", "SEC", "CPI") or a timeframe ("H4", "4H").

Lower-case everyday words never count: "how is it going" must still ask which coin is meant.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Set

from services.intent.aliases import COINS, STABLECOINS
from services.intent.compare import asks_comparison
from services.intent.extract import extract, resolve_base
from services.intent.timeframe import find_timeframe
from services.intent.words import COMMON_WORDS, SECTOR_WORDS

__all__ = ["NEAR_MATCHES", "asked_unknown_coins", "near_matches", "unknown_coins"]

NEAR_MATCHES = 4  # suggestions offered as buttons
_CUTOFF, _CUTOFF_SHORT = 0.7, 0.66  # difflib ratio; queries of up to 4 letters allow one wrong letter

_PAIR = re.compile(r"(?<![A-Za-z0-9])\$?([A-Za-z][A-Za-z0-9]{1,14}?)[-/]?(?:USDT|USDC|PERP)(?![A-Za-z0-9])", re.I)
_TAGGED = re.compile(r"(?<![A-Za-z0-9])[$#]([A-Za-z][A-Za-z0-9]{1,19})(?![A-Za-z0-9])")
_WORD = re.compile(r"(?<![A-Za-z0-9$#])[A-Za-z][A-Za-z0-9]{1,19}(?![A-Za-z0-9])")
_COIN_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9]{1,15}(?:coin|token)$", re.I)
_SUFFIX = re.compile(r"(?:COIN|TOKEN)$")
# Indicator settings and calendar words with digits: EMA200, RSI14, MA50, BB20, Q3, FY25.
_TERM_WITH_DIGITS = re.compile(
    r"^(?:EMA|SMA|WMA|HMA|MA|RSI|ATR|BB|ADX|CCI|MFI|KDJ|VWAP|OBV|MACD|STOCH|Q|FY|W)\d+$", re.I
)


# Capitalised words people write about markets that are not coins (everyday words and trading
# jargon are in `COMMON_WORDS` already).
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


NOT_COINS = _words(
    """
    sec cftc nfp pce fomc fed ecb boj pboc imf gdp cpi ppi ism pmi usa us uk eu un nyse nasdaq spx spy
    qqq dxy vix es nq ndx dow sp500 utc gmt est edt pst pdt cet am pm bst jst hkt sgt ath atl dca
    ltv tvl mcap fdv oi tps rsi macd ema sma vwap obv atr bb kdj boll adx cci mfi sar fib fibo ob fvg
    bos choch smc ict liq liqs lev ipo ico ido ieo kyc aml otc p2p api ui ux faq bot bots gpt ai
    usdt usdc usd busd dai cny rmb hkd jpy krw eur gbp
    altcoin stablecoin memecoin shitcoin bitcoin coin token
    gm gn lfg ngmi wagmi btfd rekt dyor nfa iirc tbh afaik idk ngl smh lmao rofl lmk pls plz thx ty
    btcd total2 total3 others usdtd cvd delta poc vah val vpvr vrvp hvn lvn mn mn1 ltf htf mtf rr
    """
)


_NOT_TICKERS = COMMON_WORDS | NOT_COINS


def _is_shouting(words: list[str]) -> bool:
    letters = [w for w in words if w.isalpha() and len(w) > 1]
    return len(letters) >= 3 and sum(1 for w in letters if w.isupper()) >= 0.8 * len(letters)


def _known(word: str, known: Set[str], names: dict[str, str]) -> bool:
    """A listed ticker, or the name of a listed coin."""
    name = names.get(word.lower())
    return resolve_base(word, known) is not None or (name is not None and resolve_base(name, known) is not None)


def unknown_coins(text: str, known_bases: Iterable[str]) -> tuple[str, ...]:
    """Ticker-like words of `text` (upper-cased, in order) that are not listed coins or coin names."""
    text = unicodedata.normalize("NFKC", text or "")
    known = {b.upper() for b in known_bases}
    names = _names()
    found: dict[str, int] = {}

    def add(start: int, word: str) -> None:
        upper = word.upper()
        if upper in STABLECOINS or _known(word, known, names):
            return
        found.setdefault(upper, start)

    taken: list[tuple[int, int]] = []
    for pattern in (_PAIR, _TAGGED):
        for match in pattern.finditer(text):
            if match.group(1).lower() not in _NOT_TICKERS:
                add(match.start(1), match.group(1))
            taken.append(match.span())
    words = [m for m in _WORD.finditer(text) if not any(a <= m.start() < b for a, b in taken)]
    shouting = _is_shouting([m.group(0) for m in words])
    for match in words:
        word = match.group(0)
        lower = word.lower()
        if lower in NOT_COINS:
            continue
        if _looks_like_ticker(word, shouting):
            add(match.start(), word)
    return tuple(sorted(found, key=found.__getitem__))


def asked_unknown_coins(text: str, known_bases: Iterable[str], *, names_a_coin: bool) -> tuple[str, ...]:
    """The unknown coin-like words the question is about, to be answered as unknown: all of them when
    it names no listed coin ("how is FOOBARCOIN doing?" — never the conversation's last coin); else
    those it compares with a listed coin ("BTC vs FOOBAR", "is SOL stronger than FOOBAR") or lists
    beside one ("BTC and FOOBAR 4h", "比特币和FOOBAR"). "BTC after the NFP" asks about BTC alone."""
    unknown = unknown_coins(text, known_bases)
    if not unknown or not names_a_coin or asks_comparison(text):
        return unknown
    known = {b.upper() for b in known_bases}
    return tuple(word for word in unknown if _listed_with_a_coin(text, word, known))


_GAP = r"\s*(?:,|、|/|&|\+|and|or|vs\.?|versus|和|与|跟|及|以及|或|还是)\s*"
_NEIGHBOUR = r"([$#]?[A-Za-z0-9\u3400-\u9fff]+)"
_BEFORE = re.compile(_NEIGHBOUR + _GAP + r"$", re.IGNORECASE)
_AFTER = re.compile(r"^" + _GAP + _NEIGHBOUR, re.IGNORECASE)


def _listed_with_a_coin(text: str, word: str, known: Set[str]) -> bool:
    """`word` (as typed, a cashtag or a pair) with only a list separator between it and a listed coin."""
    pattern = re.compile(rf"(?<![A-Za-z0-9])[$#]?{re.escape(word)}(?:[-/]?(?:USDT|USDC|PERP))?(?![A-Za-z0-9])", re.I)
    for match in pattern.finditer(unicodedata.normalize("NFKC", text)):
        before = _BEFORE.search(match.string[: match.start()])
        after = _AFTER.search(match.string[match.end() :])
        for neighbour in (before, after):
            if neighbour is not None and extract(neighbour.group(1), known_bases=known).coins:
                return True
    return False


def _looks_like_ticker(word: str, shouting: bool) -> bool:
    lower = word.lower()
    if lower in COMMON_WORDS:
        return False
    if _COIN_WORD.match(word):
        return True
    return (
        word.isupper()
        and not shouting
        and lower not in SECTOR_WORDS
        and _TERM_WITH_DIGITS.match(word) is None
        and find_timeframe(word) is None
    )


def near_matches(query: str, known_bases: Iterable[str], n: int = NEAR_MATCHES) -> tuple[str, ...]:
    """Listed coins whose ticker or name is close to `query` (difflib ratio), closest first.

    "SOLL" → SOL, "ETHEREUMM" → ETH (by name), "DOGECOINN" → DOGE. A query ending in "coin"/"token" is
    compared by its stem ("PEPECOIN" → PEPE), so the ending alone matches nothing ("FOOBARCOIN" is
    not "worldcoin"). Short queries allow one wrong letter ("BTX" → BTC). Stablecoins are never offered.
    """
    known = sorted({b.upper() for b in known_bases} - STABLECOINS)
    upper = query.upper().lstrip("$#")
    if not upper or not known:
        return ()
    stem = _SUFFIX.sub("", upper)
    by_stem = stem != upper and len(stem) >= 2
    target = stem if by_stem else upper
    cutoff = _CUTOFF_SHORT if len(target) <= 4 else _CUTOFF
    known_set = set(known)
    scores: dict[str, float] = {}

    def score(candidate: str, against: str, ticker: str) -> None:
        ratio = difflib.SequenceMatcher(None, candidate, against).ratio()
        if ratio >= cutoff and ratio > scores.get(ticker, 0.0):
            scores[ticker] = ratio

    for ticker in known:
        score(target, ticker, ticker)
    lowered = target.lower()
    for name, ticker in _names().items():
        if ticker in known_set:
            score(lowered, _SUFFIX.sub("", name.upper()).lower() if by_stem else name, ticker)
    return tuple(sorted(scores, key=lambda ticker: (-scores[ticker], ticker))[:n])


_NAMES: dict[str, str] = {}


def _names() -> dict[str, str]:
    """Latin coin names → ticker ("bitcoin" → BTC), spaces removed ("shibainu")."""
    if not _NAMES:
        for ticker, aliases in COINS.items():
            for alias in aliases:
                if alias.isascii():
                    _NAMES.setdefault(alias.lower().replace(" ", "").replace("-", ""), ticker)
    return _NAMES
