"""The built-in rule-based analyst: a localized Markdown answer written from the same analysis.

Used when no LLM is configured, and as the fallback when the LLM fails. Always labelled.
"""

from __future__ import annotations

from services.format import (
    exchange_name,
    format_compact,
    format_funding,
    format_number,
    format_pct,
    format_price,
    format_share,
)
from services.i18n import Raw, Translator
from services.market import MarketView
from services.market.analysis import LEVEL_LOOKBACK, trend_key


def _r(text: str) -> Raw:
    # The answer is Markdown that the text service escapes as a whole; arguments stay raw here.
    return Raw(text)


def _levels(values: list[float]) -> str:
    return ", ".join(f"**{format_price(v)}**" for v in values)


def _levels_line(t: Translator, view: MarketView, support: list[float], resistance: list[float]) -> str:
    """Both sides in words: a side without a level says why (the price is at the lookback's extreme)."""
    candles = min(LEVEL_LOOKBACK, view.analysis.candles_used)
    below = t("rules-support", levels=_r(_levels(support))) if support else t("rules-support-none", candles=candles)
    above = (
        t("rules-resistance", levels=_r(_levels(resistance)))
        if resistance
        else t("rules-resistance-none", candles=candles)
    )
    return t("rules-levels", support=_r(below), resistance=_r(above))


def describe(t: Translator, view: MarketView) -> str:
    a = view.analysis
    ind = a.indicators
    support = [level.price for level in a.levels.support[:2]]
    resistance = [level.price for level in a.levels.resistance[:2]]
    parts = [
        t(
            "rules-title",
            symbol=_r(f"{view.resolved.base}/{view.resolved.quote}"),
            timeframe=_r(view.timeframe),
            price=_r(format_price(view.ticker.price)),
            change=_r(format_pct(view.ticker.change_24h_pct)),
            exchange=_r(exchange_name(view.exchange)),
        ),
        t(f"rules-trend-{trend_key(a.trend)}", strength=_r(t(f"rules-strength-{a.trend.label}"))),
        t(
            "rules-emas",
            ema20=_r(format_price(ind.ema20)),
            ema50=_r(format_price(ind.ema50)),
            position=_r(t("rules-above" if a.price >= ind.ema50 else "rules-below")),
        ),
        t(
            f"rules-rsi-{a.momentum.rsi_state}",
            rsi14=_r(format_number(ind.rsi14)),
            rsi7=_r(format_number(ind.rsi7)),
        ),
    ]
    if a.momentum.macd_cross is not None and a.momentum.macd_cross_bars_ago is not None:
        parts.append(t(f"rules-macd-{a.momentum.macd_cross}", bars=a.momentum.macd_cross_bars_ago))
    if a.momentum.divergence is not None:
        parts.append(t(f"rules-divergence-{a.momentum.divergence}"))
    parts.append(_levels_line(t, view, support, resistance))
    parts.append(t(f"rules-volatility-{a.volatility.regime}", atr=_r(format_share(ind.atr_pct))))
    d = a.derivatives
    if d is not None and d.funding_8h is not None:
        key = "rules-funding-extreme" if d.funding_extreme else "rules-funding"
        value = d.open_interest_value
        oi = t("rules-oi", oi=_r(format_compact(value, t.locale))) if value is not None else t("rules-oi-none")
        parts.append(t(key, rate=_r(format_funding(d.funding_8h)), oi=_r(oi)))
    atr = ind.atr
    up_trigger = resistance[0] if resistance else view.ticker.price + atr
    down_trigger = support[0] if support else view.ticker.price - atr
    parts.append(
        t(
            "rules-scenario-bull" if resistance else "rules-scenario-bull-atr",
            trigger=_r(format_price(up_trigger)),
            target=_r(format_price(resistance[1] if len(resistance) > 1 else up_trigger + 2 * atr)),
            invalid=_r(format_price(down_trigger)),
        )
    )
    parts.append(
        t(
            "rules-scenario-bear" if support else "rules-scenario-bear-atr",
            trigger=_r(format_price(down_trigger)),
            target=_r(format_price(support[1] if len(support) > 1 else down_trigger - 2 * atr)),
            invalid=_r(format_price(up_trigger)),
        )
    )
    return "\n\n".join(parts)


def rule_based_answer(t: Translator, views: list[MarketView], *, fallback: bool) -> str:
    """The whole answer in Markdown, labelled as automatic, ending with the risk note."""
    label = t("rules-fallback-label" if fallback else "rules-label")
    body = "\n\n———\n\n".join(describe(t, view) for view in views)
    return f"{label}\n\n{body}\n\n{t('rules-risk')}"
