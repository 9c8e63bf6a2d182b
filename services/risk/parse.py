"""Reading `/alert` and `/position add` arguments (English and Chinese), no I/O.

    /alert btc > 70000        /alert eth below 3000      /alert btc 高于 7万
    /alert sol ±5% 1h         /alert sol +-5% 4h         /alert sol 5%      /alert sol 涨跌5% 1小时
    /position add btc long 10x entry 65000 size 0.1 sl 62000 tp 70000
    /position add eth 空 20倍 开仓 3000 止损 3100 止盈 2800

A problem is a `ParseError` carrying the locale key of its answer (and arguments for it); the
handler translates it. Numbers accept thousands separators and the suffixes k, m and 万.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from services.intent import read_timeframe
from services.market import UnsupportedTimeframe
from services.risk.liquidation import LONG, SHORT

ABOVE, BELOW, MOVE = "above", "below", "move"
DEFAULT_WINDOW = "1h"
MAX_PCT = Decimal(100)
MAX_LEVERAGE = Decimal(125)
MAX_COIN = 32

_OPERATORS = {
    ">": ABOVE,
    ">=": ABOVE,
    "≥": ABOVE,
    "above": ABOVE,
    "over": ABOVE,
    "高于": ABOVE,
    "大于": ABOVE,
    "突破": ABOVE,
    "涨到": ABOVE,
    "涨破": ABOVE,
    "<": BELOW,
    "<=": BELOW,
    "≤": BELOW,
    "below": BELOW,
    "under": BELOW,
    "低于": BELOW,
    "小于": BELOW,
    "跌破": BELOW,
    "跌到": BELOW,
}
_OP_PATTERN = "|".join(sorted((re.escape(op) for op in _OPERATORS), key=len, reverse=True))
_NUMBER = r"\d[\d,]*(?:\.\d+)?\s*(?:k|m|万|w)?"
_LEVEL = re.compile(rf"^(?P<coin>.+?)\s*(?P<op>{_OP_PATTERN})?\s*(?P<num>{_NUMBER})$", re.IGNORECASE)
_MOVE = re.compile(
    r"^(?P<coin>.+?)\s*(?:±|\+-|\+/-|涨跌|波动|涨跌幅|move)?\s*(?P<pct>\d+(?:\.\d+)?)\s*[%％]\s*(?P<window>\S+)?$",
    re.IGNORECASE,
)
_CJK_DIGIT = re.compile(r"(?<=[\u3400-\u9fff])(?=[\d@])|(?<=\d)(?=[\u3400-\u9fff])(?![万倍])")


class ParseError(ValueError):
    """`key` is the locale message that explains the problem; `args` its arguments."""

    def __init__(self, key: str, **args: str) -> None:
        super().__init__(key)
        self.key = key
        self.args_ = args


@dataclass(frozen=True, slots=True)
class AlertRequest:
    coin: str
    condition: str | None  # above / below / move; None: "above" or "below" from the current price
    price: Decimal | None = None
    pct: Decimal | None = None
    window: str | None = None


@dataclass(frozen=True, slots=True)
class PositionRequest:
    coin: str
    side: str
    entry: Decimal
    leverage: Decimal = Decimal(1)
    size: Decimal = Decimal(0)
    stop: Decimal | None = None
    take_profit: Decimal | None = None


def parse_number(text: str) -> Decimal:
    """ "70000", "70,000", "70k", "1.5m", "7万" → Decimal; `ParseError` otherwise."""
    raw = text.strip().lower().replace(",", "").replace(" ", "")
    multiplier = Decimal(1)
    if raw.endswith(("万", "w")):
        raw, multiplier = raw[:-1], Decimal(10_000)
    elif raw.endswith("k"):
        raw, multiplier = raw[:-1], Decimal(1_000)
    elif raw.endswith("m"):
        raw, multiplier = raw[:-1], Decimal(1_000_000)
    try:
        value = Decimal(raw) * multiplier
    except InvalidOperation:
        raise ParseError("risk-bad-number", value=text.strip()[:MAX_COIN]) from None
    if not value.is_finite() or value <= 0:
        raise ParseError("risk-bad-number", value=text.strip()[:MAX_COIN])
    return value.normalize()


def _coin(text: str) -> str:
    coin = text.strip()
    if not coin or len(coin) > MAX_COIN:
        raise ParseError("alert-usage")
    return coin


def parse_alert(args: str) -> AlertRequest:
    text = " ".join(args.split())
    if not text:
        raise ParseError("alert-usage")
    move = _MOVE.match(text)
    if move is not None:
        pct = Decimal(move["pct"])
        if not Decimal("0.1") <= pct <= MAX_PCT:
            raise ParseError("alert-bad-pct", value=move["pct"])
        window = DEFAULT_WINDOW
        if move["window"]:
            try:
                found = read_timeframe(move["window"])
            except UnsupportedTimeframe:
                found = None
            if found is None:
                raise ParseError("alert-bad-window", value=move["window"][:MAX_COIN])
            window = found
        return AlertRequest(coin=_coin(move["coin"]), condition=MOVE, pct=pct.normalize(), window=window)
    level = _LEVEL.match(text)
    if level is None:
        raise ParseError("alert-usage")
    condition = _OPERATORS[level["op"].lower()] if level["op"] else None
    return AlertRequest(coin=_coin(level["coin"]), condition=condition, price=parse_number(level["num"]))


# ---------------------------------------------------------------------------------- positions
_SIDES = {
    "long": LONG,
    "buy": LONG,
    "多": LONG,
    "做多": LONG,
    "开多": LONG,
    "short": SHORT,
    "sell": SHORT,
    "空": SHORT,
    "做空": SHORT,
    "开空": SHORT,
}
_FIELDS = {
    "entry": "entry",
    "at": "entry",
    "@": "entry",
    "开仓": "entry",
    "入场": "entry",
    "开仓价": "entry",
    "size": "size",
    "qty": "size",
    "amount": "size",
    "数量": "size",
    "仓位": "size",
    "sl": "stop",
    "stop": "stop",
    "止损": "stop",
    "tp": "take_profit",
    "target": "take_profit",
    "止盈": "take_profit",
    "lev": "leverage",
    "leverage": "leverage",
    "杠杆": "leverage",
}
_LEVERAGE = re.compile(r"^(?:x(?P<a>\d+(?:\.\d+)?)|(?P<b>\d+(?:\.\d+)?)(?:x|倍))$", re.IGNORECASE)


def _tokens(args: str) -> list[str]:
    text = _CJK_DIGIT.sub(" ", args.replace("@", " @ "))
    return text.split()


def parse_position(args: str) -> PositionRequest:
    tokens = _tokens(args)
    if tokens and tokens[0].lower() in ("add", "new", "添加", "新增"):
        tokens = tokens[1:]
    if not tokens:
        raise ParseError("position-usage")
    coin: str | None = None
    side: str | None = None
    values: dict[str, Decimal] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        lower = token.lower()
        leverage = _LEVERAGE.match(lower)
        if lower in _SIDES:
            side = _SIDES[lower]
        elif leverage is not None:
            values["leverage"] = Decimal(leverage["a"] or leverage["b"])
        elif lower in _FIELDS:
            if i + 1 >= len(tokens):
                raise ParseError("position-usage")
            name = _FIELDS[lower]
            following = tokens[i + 1].lower().rstrip("x倍") if name == "leverage" else tokens[i + 1]
            values[name] = parse_number(following)
            i += 1
        elif coin is None:
            coin = token
        else:
            raise ParseError("position-unknown-word", word=token[:MAX_COIN])
        i += 1
    if coin is None:
        raise ParseError("position-usage")
    if side is None:
        raise ParseError("position-need-side")
    if "entry" not in values:
        raise ParseError("position-need-entry")
    request = PositionRequest(
        coin=_coin(coin),
        side=side,
        entry=values["entry"],
        leverage=values.get("leverage", Decimal(1)),
        size=values.get("size", Decimal(0)),
        stop=values.get("stop"),
        take_profit=values.get("take_profit"),
    )
    _check_position(request)
    return request


def _check_position(request: PositionRequest) -> None:
    if not Decimal(1) <= request.leverage <= MAX_LEVERAGE:
        raise ParseError("position-bad-leverage", max=str(MAX_LEVERAGE))
    long = request.side == LONG
    if request.stop is not None and (request.stop >= request.entry if long else request.stop <= request.entry):
        raise ParseError("position-bad-stop-long" if long else "position-bad-stop-short")
    tp = request.take_profit
    if tp is not None and (tp <= request.entry if long else tp >= request.entry):
        raise ParseError("position-bad-tp-long" if long else "position-bad-tp-short")
