"""Texts of alerts, positions and market-risk pushes (Telegram HTML through the locales).

Pure functions of a `Translator` and plain data: handlers use them for replies, the engine for the
messages it puts in the outbox. Numbers go through `services.format`.
"""

from __future__ import annotations

from datetime import datetime

from services.format import format_change, format_funding, format_number, format_pct, format_price, format_utc_time
from services.i18n import Translator
from services.risk.parse import ABOVE, MOVE
from services.risk.rules import LIQUIDATION_STEP, STOP_STEP, TAKE_PROFIT_STEP, MarketEvent

QUOTE = "USDT"


def pair(symbol: str) -> str:
    return f"{symbol}/{QUOTE}"


def _num(value: float | None) -> str:
    """A percentage or leverage as typed: 5 → "5", 2.5 → "2.5"."""
    if value is None:
        return "—"
    return f"{value:g}"


# ---------------------------------------------------------------------------------- alerts
def alert_condition(t: Translator, condition: str, price: float, pct: float | None, window: str | None) -> str:
    if condition == MOVE:
        return t("alert-cond-move", pct=_num(pct), window=window or "1h")
    key = "alert-cond-above" if condition == ABOVE else "alert-cond-below"
    return t(key, price=format_price(price))


def alert_created(
    t: Translator, symbol: str, condition: str, price: float, pct: float | None, window: str | None, current: float
) -> str:
    return t(
        "alert-created",
        pair=pair(symbol),
        condition=alert_condition(t, condition, price, pct, window),
        current=format_price(current),
    )


def alert_fired(
    t: Translator, symbol: str, condition: str, level: float, pct: float | None, window: str | None, price: float
) -> str:
    if condition == MOVE:
        change = (price / level - 1.0) * 100.0 if level else None
        head = t(
            "alert-fired-move",
            pair=pair(symbol),
            change=format_change(change),
            window=window or "1h",
            pct=_num(pct),
            reference=format_price(level),
            price=format_price(price),
        )
    else:
        key = "alert-fired-above" if condition == ABOVE else "alert-fired-below"
        head = t(key, pair=pair(symbol), level=format_price(level), price=format_price(price))
    return f"{head}\n{t('alert-fired-footer')}"


def alert_line(
    t: Translator,
    n: int,
    symbol: str,
    condition: str,
    price: float,
    pct: float | None,
    window: str | None,
    active: bool,
    triggered_at: datetime | None,
    now: datetime,
) -> str:
    state = t("alert-state-armed") if active else t("alert-state-fired", time=format_utc_time(triggered_at or now, now))
    return t(
        "alerts-line",
        n=str(n),
        pair=pair(symbol),
        condition=alert_condition(t, condition, price, pct, window),
        state=state,
    )


# ---------------------------------------------------------------------------------- positions
def side_name(t: Translator, side: str) -> str:
    return t("side-long") if side == "long" else t("side-short")


def position_summary(
    t: Translator,
    symbol: str,
    side: str,
    leverage: float,
    entry: float,
    size: float,
    liquidation: float | None,
    stop: float | None,
    take_profit: float | None,
) -> str:
    lines = [
        t(
            "position-head",
            pair=pair(symbol),
            side=side_name(t, side),
            leverage=_num(leverage),
            entry=format_price(entry),
        ),
        t("position-liq", liq=format_price(liquidation)),
    ]
    if size:
        lines.append(t("position-size", size=_num(size), notional=format_price(size * entry)))
    if stop is not None or take_profit is not None:
        lines.append(t("position-sl-tp", stop=format_price(stop), tp=format_price(take_profit)))
    return "\n".join(lines)


def position_created(t: Translator, summary: str, mmr: float) -> str:
    return f"{t('position-created')}\n{summary}\n{t('position-mmr', mmr=format_pct(mmr * 100, 2).lstrip('+'))}"


def position_warning(
    t: Translator,
    step: str,
    symbol: str,
    side: str,
    leverage: float,
    price: float,
    liquidation: float | None,
    stop: float | None,
    take_profit: float | None,
) -> str:
    args = {
        "pair": pair(symbol),
        "side": side_name(t, side),
        "leverage": _num(leverage),
        "price": format_price(price),
        "liq": format_price(liquidation),
    }
    if step == STOP_STEP:
        return t("position-warn-sl", stop=format_price(stop), **args)
    if step == TAKE_PROFIT_STEP:
        return t("position-warn-tp", tp=format_price(take_profit), **args)
    if step == LIQUIDATION_STEP:
        return t("position-warn-liq", **args)
    return t("position-warn-step", step=step, **args)


# ---------------------------------------------------------------------------------- market risk
def market_risk(t: Translator, event: MarketEvent, symbol: str, timeframe: str, price: float, candles: int) -> str:
    coin = pair(symbol)
    if event.kind == "move":
        text = t(
            "risk-move",
            coin=coin,
            timeframe=timeframe,
            change=format_change(event.value),
            candles=candles,
            atr=format_number(event.extra, 1),
            price=format_price(price),
        )
    elif event.kind == "volatility":
        text = t(
            "risk-volatility",
            coin=coin,
            timeframe=timeframe,
            percentile=format_number(event.value, 0),
            atr=format_number(event.extra, 2),
        )
    elif event.kind == "funding":
        text = t("risk-funding", coin=coin, rate=format_funding(event.value))
    else:
        text = t("risk-oi", coin=coin, timeframe=timeframe, change=format_change(event.value), candles=candles)
    return f"{text}\n{t('risk-footer')}"
