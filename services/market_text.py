"""The texts of /price and /chart: quick ticker, chart caption, usage hints and market errors.

Pure functions of a `Translator` and the market service's results (no Bot API calls), so they are
unit-tested directly. Every string goes through the locales; arguments are escaped by the Translator;
every number goes through `services.format`. The chart caption is the one caption of every chart the
bot sends (/chart and the chat analyst's answer).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from services.format import (
    MISSING,
    exchange_name,
    format_change,
    format_compact,
    format_duration,
    format_funding,
    format_number,
    format_price,
    format_utc_time,
)
from services.i18n import Translator
from services.intent import DEFAULT_TIMEFRAME
from services.market import (
    SUPPORTED_TIMEFRAMES,
    Derivatives,
    MarketError,
    MarketView,
    NotEnoughData,
    ResolvedSymbol,
    Ticker,
    UnknownSymbol,
    UnsupportedTimeframe,
)
from services.market.analysis import derivatives_context, trend_key
from services.market.errors import ExchangeUnavailable

CAPTION_LIMIT = 1024
MAX_ECHO = 32  # characters of the user's input repeated in an answer

TREND_KEYS = {
    "up": "trend-up",
    "down": "trend-down",
    "range": "trend-range",
    "range-up": "trend-range-up",
    "range-down": "trend-range-down",
}
STRENGTH_KEYS = {"weak": "strength-weak", "moderate": "strength-moderate", "strong": "strength-strong"}
RSI_STATE_KEYS = {"overbought": "rsi-overbought", "oversold": "rsi-oversold"}


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """What to tell the user about a failed market request; `suggestions` become buttons."""

    text: str
    suggestions: tuple[str, ...] = ()


def echo(text: str) -> str:
    """The user's input, shortened for repeating it back."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_ECHO else text[: MAX_ECHO - 1] + "…"


def _join(t: Translator, items: Sequence[str]) -> str:
    return ("、" if t.locale == "zh" else ", ").join(items)


# ---------------------------------------------------------------------------------- usage
def price_usage(t: Translator) -> str:
    return t("market-usage-price")


def chart_usage(t: Translator) -> str:
    return t("market-usage-chart", timeframes=" ".join(SUPPORTED_TIMEFRAMES), default=DEFAULT_TIMEFRAME)


# ---------------------------------------------------------------------------------- /price
def price_text(
    t: Translator,
    resolved: ResolvedSymbol,
    ticker: Ticker,
    derivatives: Derivatives | None,
    *,
    now: datetime | None = None,
) -> str:
    """Price, 24h change and range, quote volume, funding (perpetuals), open interest."""
    now = now or datetime.now(UTC)
    locale = t.locale
    quote = resolved.quote
    lines = [
        t("price-header", pair=resolved.pair, exchange=exchange_name(ticker.exchange)),
        t("price-last", price=format_price(ticker.price), quote=quote),
    ]
    if ticker.change_24h_pct is not None:
        change = format_change(ticker.change_24h_pct)
        if ticker.high_24h is not None and ticker.low_24h is not None:
            lines.append(
                t("price-change", change=change, high=format_price(ticker.high_24h), low=format_price(ticker.low_24h))
            )
        else:
            lines.append(t("price-change-short", change=change))
    if ticker.volume_24h is not None:
        lines.append(t("price-volume", volume=format_compact(ticker.volume_24h, locale), quote=quote))
    lines.extend(_derivatives_lines(t, resolved, derivatives, now))
    lines.append(t("price-updated", time=format_utc_time(ticker.timestamp, now)))
    return "\n".join(lines)


def _derivatives_lines(
    t: Translator, resolved: ResolvedSymbol, derivatives: Derivatives | None, now: datetime
) -> list[str]:
    if derivatives is None:
        return [t("price-spot-only")] if resolved.perp is None else [t("price-funding-unavailable")]
    lines: list[str] = []
    context = derivatives_context(derivatives)
    rate_8h = context.funding_8h if context is not None else None
    following = derivatives.next_funding_time
    if rate_8h is None:
        lines.append(t("price-funding-unavailable"))
    elif following is not None and following > now:
        lines.append(
            t(
                "price-funding",
                rate=format_funding(rate_8h),
                next=format_duration(following - now, t.locale),
                time=format_utc_time(following, now),
            )
        )
    else:
        lines.append(t("price-funding-short", rate=format_funding(rate_8h)))
    if derivatives.open_interest_value is not None:
        value = format_compact(derivatives.open_interest_value, t.locale)
        lines.append(t("price-open-interest", value=value, quote=resolved.quote))
    return lines


# ---------------------------------------------------------------------------------- /chart
def chart_caption(t: Translator, view: MarketView) -> str:
    """Symbol, timeframe, exchange; price and 24h change; trend and RSI; nearest levels; funding."""
    analysis = view.analysis
    indicators = analysis.indicators
    lines = [
        t(
            "chart-caption-header",
            pair=view.resolved.pair,
            timeframe=view.timeframe,
            exchange=exchange_name(view.exchange),
        )
    ]
    price = format_price(view.ticker.price)
    if view.ticker.change_24h_pct is not None:
        lines.append(t("chart-caption-price", price=price, change=format_change(view.ticker.change_24h_pct)))
    else:
        lines.append(t("chart-caption-price-only", price=price))
    rsi = format_number(indicators.rsi14, 1)
    state_key = RSI_STATE_KEYS.get(analysis.momentum.rsi_state)
    if state_key is not None:
        rsi = t("rsi-value-state", value=rsi, state=t(state_key))
    trend = t(TREND_KEYS[trend_key(analysis.trend)])
    if analysis.trend.lean is not None:  # a range leaning one way: its "strength" (flatness) would mislead
        lines.append(t("chart-caption-trend-only", trend=trend, rsi=rsi))
    else:
        strength = t(STRENGTH_KEYS[analysis.trend.label])
        lines.append(t("chart-caption-trend", trend=trend, strength=strength, rsi=rsi))
    support = analysis.levels.support[0].price if analysis.levels.support else None
    resistance = analysis.levels.resistance[0].price if analysis.levels.resistance else None
    if support is not None and resistance is not None:
        lines.append(t("chart-caption-levels", support=format_price(support), resistance=format_price(resistance)))
    elif support is not None:  # the price is at its high: no level above, said in words
        lines.append(t("chart-caption-levels-at-high", support=format_price(support)))
    elif resistance is not None:
        lines.append(t("chart-caption-levels-at-low", resistance=format_price(resistance)))
    context = analysis.derivatives
    if context is not None and context.funding_8h is not None:
        lines.append(t("chart-caption-funding", rate=format_funding(context.funding_8h)))
    lines.append(t("chart-caption-note", time=format_utc_time(analysis.as_of, view.as_of)))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- errors
def error_reply(
    t: Translator,
    exc: MarketError,
    *,
    query: str,
    exchanges: Sequence[str],
    timeframe: str | None = None,
    pair: str | None = None,
) -> ErrorReply:
    """A clear, localized answer for every market failure (never the exception text)."""
    names = _join(t, [exchange_name(e) for e in exchanges]) or MISSING
    if isinstance(exc, UnknownSymbol):
        text = t("market-unknown-coin", coin=echo(query), exchanges=names)
        suggestions = tuple(exc.suggestions)
        if suggestions:
            return ErrorReply(
                text=f"{text}\n{t('market-did-you-mean', suggestions=_join(t, suggestions))}", suggestions=suggestions
            )
        return ErrorReply(text=f"{text}\n{t('market-coin-hint')}")
    if isinstance(exc, UnsupportedTimeframe):
        coin = echo(query).split(" ")[0] if query.strip() else "BTC"
        return ErrorReply(
            text=t(
                "market-bad-timeframe",
                timeframe=echo(exc.timeframe),
                supported=" ".join(exc.supported or SUPPORTED_TIMEFRAMES),
                example=f"/chart {coin} 4h",
            )
        )
    if isinstance(exc, NotEnoughData):
        return ErrorReply(
            text=t("market-not-enough-data", pair=pair or echo(query).upper(), timeframe=timeframe or MISSING)
        )
    wait = exc.retry_after if isinstance(exc, ExchangeUnavailable) else None
    if wait and wait > 0:
        minutes = max(1, math.ceil(wait / 60))
        return ErrorReply(
            text=t("market-exchange-down-wait", exchanges=names, wait=format_duration(minutes * 60, t.locale))
        )
    return ErrorReply(text=t("market-exchange-down", exchanges=names))
