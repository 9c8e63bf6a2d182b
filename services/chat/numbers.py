"""Numbers a trader can trust: every price-like number of an answer is checked against the data.

The model is given the market block (`services.chat.market_block`); every price, level,
percentage, RSI reading and amount (volume, open interest) it writes must be explained by that
data (or be a number the user wrote in the question), or it is not shown as a fact.

A number is explained when it is
* **data**: a number of the block or the exact value behind it, within 0.15 % or the precision
  written (a whole number ending in zeros reads as rounded to them: "67,200" for 67,234.5);
* **derived**: the price or a support/resistance level ± k × ATR, k ∈ {0.5, 1, …, 3} (the stops
  and targets analysts write); a level's or an EMA's distance from the price in %;
* **round**: a price of two significant digits (or three ending in 5: 65,000 · 3,050) within 10 %
  or 3 ATR of the price; a percentage of 1–3 % or a multiple of 5 %; an RSI threshold or period.
Checked: percentages; RSI readings (≤ 100 right after "RSI"); amounts with a unit (K/M/B, 万/亿);
prices — other numbers within ×0.2…×5 of a coin's price. Not checked: numbers glued to letters
(EMA20, 4h), counts ("3 candles", "2根K线"), list markers, dates, times, years ("since 2024"),
indicator periods ("EMA 20"), bare one-digit integers.

Policy (one, everywhere): a number that matches nothing is **marked** where it stands — the
localized label `numbers-unverified` ("(⚠️ unverified)") follows it, and the answer ends with a
note (`numbers-note`) saying marked numbers are not in the live data. Not regenerated (the answer
is already streamed, and a second request doubles cost and wait) and not deleted (a sentence with
a hole reads as if the number were right). The same marking applies to the streamed text
(`StreamVerifier`), so an invented price is never on screen without its mark. `NumberCounts`
counts answers and numbers, for the benchmark (tests/bench/bench_numbers.py) and the stats.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from services.chat.market_block import describe
from services.market import MarketView

__all__ = [
    "Facts",
    "NumberCounts",
    "StreamVerifier",
    "VerifiedAnswer",
    "facts_from_views",
    "verify_answer",
]

REL_TOLERANCE = 0.0015
ATR_STEPS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0)
PRICE_BAND = (0.2, 5.0)  # a number this close to a coin's price (as a factor) is read as a price
ROUND_NEAR_PCT = 10.0
ROUND_NEAR_ATR = 3.0
RSI_THRESHOLDS = (20.0, 30.0, 50.0, 70.0, 80.0)
RSI_PERIODS = (6.0, 7.0, 9.0, 14.0, 21.0, 24.0)
ROUND_PERCENTS = (1.0, 2.0, 3.0)
PCT_TOLERANCE = 0.02  # relative, for percentages
AMOUNT_TOLERANCE = 0.01
ROUND_AMOUNT_NEAR = 0.25
LOOKAHEAD = 14  # characters after a number that decide how it is read (a unit, "candles")
RSI_CONTEXT = 24  # characters before a number in which "RSI" makes it an RSI reading

_MULTIPLIERS = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "万": 1e4, "亿": 1e8, "万亿": 1e12}
_NUMBER = re.compile(
    r"(?P<sign>[+\-−])?(?P<cur>\$\s?)?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?P<suf>\s?[%％]|[kKMB](?![A-Za-z])|万亿|万|亿)?"
)
# Dates and times are not prices: 2026-12-01, 12-01 08:00, 15:30.
_DATE_TIME = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-\d{1,2}(?=\s+\d{1,2}:\d{2})|\d{1,2}:\d{2}(?::\d{2})?")
_LIST_MARKER = re.compile(r"(?:^|\n)[ \t]*\d{1,2}[.)、](?=\s)")
_COUNT_AFTER = re.compile(
    r"\s?-?\s?(?:candles?|bars?|days?|hours?|hrs?|weeks?|months?|years?|minutes?|mins?|periods?|sessions?|times?"
    r"|touches|x\b|×|ema|sma|ma\b|rsi|macd|根|天|日|小时|小時|分钟|周|週|个|個|次|倍|年|月|号|號|点钟)",
    re.IGNORECASE,
)
_RSI = re.compile(r"rsi", re.IGNORECASE)
_YEAR_BEFORE = re.compile(
    r"(?i:\b(?:in|since|from|until|till|by|of|early|late|mid|end of|start of|year|q[1-4]|jan\w*|feb\w*|mar\w*"
    r"|apr\w*|may|jun\w*|jul\w*|aug\w*|sep\w*|oct\w*|nov\w*|dec\w*))\s*$"
)
_PERIOD_BEFORE = re.compile(r"(?i:\b(?:ema|sma|ma|wma|ATR|bollinger|bb))\s?[(（]?\s?$")
_RSI_WORDS = re.compile(r"rsi|overbought|oversold|超买|超卖|超買|超賣", re.IGNORECASE)
_RSI_PERIOD = re.compile(r"^\s?[(（]?\s?(?:6|7|9|14|21|24)\s?[)）]?")


@dataclass(frozen=True, slots=True)
class Facts:
    """What the model was given, as numbers to compare with."""

    prices: tuple[float, ...] = ()  # each coin's current price: the centre of the price band
    atrs: tuple[float, ...] = ()  # each coin's ATR, in the same order
    anchors: tuple[tuple[float, float], ...] = ()  # (price level, its coin's ATR): bases of ± k × ATR
    values: tuple[float, ...] = ()  # every number of the block and the exact values behind them
    percents: tuple[float, ...] = ()  # absolute percentages: changes, ATR %, funding, distances
    rsi: tuple[float, ...] = ()
    amounts: tuple[float, ...] = ()  # volume, open interest


@dataclass(frozen=True, slots=True)
class VerifiedAnswer:
    text: str  # the answer with every unverified number marked
    checked: int  # numbers that were checked
    unverified: tuple[str, ...]  # the unverified numbers as written

    @property
    def has_unverified(self) -> bool:
        return bool(self.unverified)


@dataclass
class NumberCounts:
    """Answers and numbers checked by this process (for the benchmark and the stats)."""

    answers: int = 0
    answers_unverified: int = 0  # answers with at least one unverified number
    numbers: int = 0
    numbers_unverified: int = 0

    def add(self, result: VerifiedAnswer) -> None:
        self.answers += 1
        self.answers_unverified += int(result.has_unverified)
        self.numbers += result.checked
        self.numbers_unverified += len(result.unverified)

    @property
    def unverified_share(self) -> float:
        return self.answers_unverified / self.answers if self.answers else 0.0


def _finite(values: Sequence[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def facts_from_views(views: Sequence[MarketView], block: str = "") -> Facts:
    """The facts of the market data built from `views`: the numbers of each view's block, the exact
    values behind them, and the numbers of `block` — the text the model was actually given (which
    may hold more than the views' blocks, e.g. a comparison)."""
    prices: list[float] = []
    atrs: list[float] = []
    anchors: list[tuple[float, float]] = []
    values: list[float] = []
    percents: list[float] = []
    rsi: list[float] = []
    amounts: list[float] = []
    for view in views:
        a = view.analysis
        ind = a.indicators
        price = view.ticker.price
        prices.append(price)
        atrs.append(ind.atr)
        levels = [level.price for level in (*a.levels.support, *a.levels.resistance)]
        points = _finite([price, ind.ema20, ind.ema50, ind.ema200, ind.bb_lower, ind.bb_middle, ind.bb_upper, *levels])
        anchors.extend((point, ind.atr) for point in _finite([price, *levels]))
        values.extend(points)
        values.extend(_finite([ind.macd, ind.macd_signal, ind.macd_hist, ind.atr, ind.volume_ratio]))
        values.extend(_finite([view.ticker.high_24h, view.ticker.low_24h]))
        rsi.extend([ind.rsi7, ind.rsi14])
        percents.extend(abs(v) for v in _finite([view.ticker.change_24h_pct, ind.atr_pct, ind.bb_width_pct]))
        percents.extend(abs(level.distance_pct) for level in (*a.levels.support, *a.levels.resistance))
        if price:
            percents.extend(abs(point - price) / price * 100 for point in points)
        amounts.extend(_finite([view.ticker.volume_24h]))
        d = a.derivatives
        if d is not None:
            percents.extend(abs(v) for v in _finite([d.funding_annualized_pct]))
            percents.extend(abs(v) * 100 for v in _finite([d.funding_8h, d.funding_rate]))
            amounts.extend(_finite([d.open_interest, d.open_interest_value]))
    for text in [*(describe(view) for view in views), block]:
        masked = _masked(text)
        for match in _NUMBER.finditer(masked):
            if _glued(masked, match):
                continue
            number = _value(match)
            if _suffix(match) == "%":
                percents.append(abs(number))
            else:
                values.append(number)
                amounts.append(number)
    return Facts(
        prices=tuple(prices),
        atrs=tuple(atrs),
        anchors=tuple(anchors),
        values=tuple(values),
        percents=tuple(percents),
        rsi=tuple(rsi),
        amounts=tuple(amounts),
    )


def _suffix(match: re.Match[str]) -> str:
    suffix = (match.group("suf") or "").strip()
    return "%" if suffix == "％" else suffix


def _value(match: re.Match[str]) -> float:
    """The number a match stands for, with its unit (K, M, 万…) applied; unsigned."""
    number = float(match.group("num").replace(",", ""))
    return number * _MULTIPLIERS.get(_suffix(match), 1.0)


def _half_unit(match: re.Match[str]) -> float:
    """Half a unit of the last digit written: "67,234" → 0.5, "67.2K" → 50; a whole number ending
    in zeros is read as rounded to them, keeping two significant digits: "67,200" → 50, "21,000" →
    500, "3,050" → 5, "60,000" → 500."""
    raw = match.group("num").replace(",", "")
    suffix = _suffix(match)
    if "." in raw:
        unit = 10.0 ** -len(raw.split(".")[1])
    else:
        digits = raw.lstrip("0") or "0"
        zeros = len(digits) - len(digits.rstrip("0"))
        unit = 10.0 ** max(0, min(zeros, len(digits) - 2))
    return 0.5 * unit * _MULTIPLIERS.get(suffix, 1.0)


def _significant(value: float) -> str:
    """The significant digits of a value: 65,000 → "65", 3,050 → "305", 0.125 → "125"."""
    text = f"{value:.12f}".replace(".", "").lstrip("0").rstrip("0")
    return text or "0"


def _is_round(value: float) -> bool:
    digits = _significant(value)
    return len(digits) <= 2 or (len(digits) == 3 and digits[-1] == "5")


def _close(x: float, fact: float, half_unit: float, rel: float = REL_TOLERANCE) -> bool:
    return abs(x - fact) <= max(rel * abs(fact), half_unit)


def _price_ok(x: float, half: float, facts: Facts) -> bool:
    if any(_close(x, v, half) for v in facts.values):
        return True
    for anchor, atr in facts.anchors:
        tolerance = max(REL_TOLERANCE * abs(anchor), half)
        if any(abs(x - (anchor + sign * k * atr)) <= tolerance for k in ATR_STEPS for sign in (1, -1)):
            return True
    if _is_round(x):
        for price, atr in zip(facts.prices, facts.atrs, strict=True):
            if abs(x - price) <= max(ROUND_NEAR_PCT / 100 * price, ROUND_NEAR_ATR * atr):
                return True
    return False


def _percent_ok(x: float, half: float, facts: Facts) -> bool:
    if x in ROUND_PERCENTS or (x % 5 == 0 and x > 0):
        return True
    return any(_close(x, p, half, PCT_TOLERANCE) for p in facts.percents)


def _rsi_ok(x: float, half: float, facts: Facts) -> bool:
    if x in RSI_THRESHOLDS or x in RSI_PERIODS:
        return True
    return any(abs(x - r) <= max(0.6, half) for r in facts.rsi)


def _amount_ok(x: float, half: float, facts: Facts) -> bool:
    if any(_close(x, v, half, AMOUNT_TOLERANCE) for v in facts.amounts):
        return True
    return _is_round(x) and any(abs(x - v) <= ROUND_AMOUNT_NEAR * v for v in facts.amounts)


def _in_band(x: float, facts: Facts) -> bool:
    low, high = PRICE_BAND
    return any(low * price <= x <= high * price for price in facts.prices)


def _masked(text: str) -> str:
    """`text` with dates, times and list markers blanked out (same length)."""
    for pattern in (_DATE_TIME, _LIST_MARKER):
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    return text


def _glued(text: str, match: re.Match[str]) -> bool:
    """A number that is part of a word: EMA20, RSI14, H4, v2 (a sign or "$" in front separates)."""
    at = match.start("num")
    before = text[at - 1] if at else " "
    return (before.isascii() and before.isalnum()) or before in "._#/"


def _after_rsi(context: str) -> bool:
    """The text before a number ends with "RSI" and at most its period: "RSI14 at", "RSI (14) is"."""
    found = list(_RSI.finditer(context))
    if not found:
        return False
    rest = _RSI_PERIOD.sub("", context[found[-1].end() :], count=1)
    return not any(ch.isdigit() for ch in rest)


def _judge(text: str, masked: str, match: re.Match[str], facts: Facts) -> bool | None:
    """True: explained; False: unverified; None: not a number we check."""
    start = match.start()
    if _glued(masked, match):
        return None
    after = masked[match.end() : match.end() + 1]
    suffix = _suffix(match)
    if not suffix and after and ((after.isascii() and after.isalpha()) or after in "_/"):
        return None  # glued to letters: 4h, 1d, 20-EMA handled below
    x = _value(match)
    half = _half_unit(match)
    if suffix == "%":
        return _percent_ok(x, half, facts)
    if _COUNT_AFTER.match(masked, match.end()):
        return None
    context = masked[max(0, start - RSI_CONTEXT) : start]
    plain = not suffix and not match.group("cur") and not match.group("sign") and "," not in match.group("num")
    if plain and "." not in match.group("num"):
        if 1990 <= x <= 2100 and (_YEAR_BEFORE.search(context) or masked.startswith("年", match.end())):
            return None  # a year: "since 2024", "2025年"
        if x <= 400 and _PERIOD_BEFORE.search(context):
            return None  # an indicator's period: "EMA 20", "MA(50)"
    if x <= 100 and not match.group("cur"):
        if _after_rsi(context):
            return _rsi_ok(x, half, facts)
        if x in RSI_THRESHOLDS and _RSI_WORDS.search(context + masked[match.end() : match.end() + LOOKAHEAD]):
            return True  # "RSI14 45, above 70 is overbought" / "高于70为超买"
    if suffix in _MULTIPLIERS and not _in_band(x, facts):
        return _amount_ok(x, half, facts)
    if not _in_band(x, facts):
        return None
    if "." not in match.group("num") and x < 10 and not match.group("cur"):
        return None  # "2 scenarios", "3 levels"
    return _price_ok(x, half, facts)


@dataclass
class _Scan:
    text: str
    checked: int = 0
    unverified: list[str] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)  # where marks go


def _scan(text: str, facts: Facts, start: int, end: int) -> _Scan:
    """Judge the numbers of `text` that start at or after `start` and end by `end`."""
    masked = _masked(text)
    scan = _Scan(text)
    for match in _NUMBER.finditer(masked, start, end):
        verdict = _judge(text, masked, match, facts)
        if verdict is None:
            continue
        scan.checked += 1
        if not verdict:
            scan.unverified.append(text[match.start() : match.end()].strip())
            scan.ends.append(match.end())
    return scan


def _mark(text: str, ends: Sequence[int], label: str) -> str:
    pieces: list[str] = []
    previous = 0
    for end in ends:
        pieces.append(text[previous:end])
        pieces.append(f" {label}")
        previous = end
    pieces.append(text[previous:])
    return "".join(pieces)


def verify_answer(text: str, facts: Facts, *, label: str = "(⚠️ unverified)") -> VerifiedAnswer:
    """Check every price-like number of `text` against `facts`; mark the unverified ones with `label`."""
    scan = _scan(text, facts, 0, len(text))
    return VerifiedAnswer(text=_mark(text, scan.ends, label), checked=scan.checked, unverified=tuple(scan.unverified))


class StreamVerifier:
    """`verify_answer` for a text arriving in pieces: `feed` returns the marked text that is safe to
    show so far (a number near the end is held back until what follows it is known), `finish` the
    rest. The pieces joined equal `verify_answer(whole).text`."""

    def __init__(self, facts: Facts, *, label: str = "(⚠️ unverified)") -> None:
        self.facts = facts
        self.label = label
        self._raw = ""
        self._done = 0  # characters of `_raw` already returned

    def feed(self, piece: str) -> str:
        self._raw += piece
        cut = len(self._raw)
        masked = _masked(self._raw)
        for match in _NUMBER.finditer(masked, self._done):
            if len(self._raw) - match.end() < LOOKAHEAD:
                cut = match.start()  # this number and what follows it may still change
                break
        while cut > self._done and self._raw[cut - 1] in "+-−$":
            cut -= 1  # a sign or a currency mark belongs to the number after it
        return self._emit(cut)

    def finish(self) -> str:
        return self._emit(len(self._raw))

    def _emit(self, cut: int) -> str:
        if cut <= self._done:
            return ""
        scan = _scan(self._raw, self.facts, self._done, cut)
        segment = _mark(self._raw[self._done : cut], [end - self._done for end in scan.ends], self.label)
        self._done = cut
        return segment
