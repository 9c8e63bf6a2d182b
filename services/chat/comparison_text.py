"""A comparison in words: the model's data block, the rule-based answer, and the chart's caption.

All three read the one `Comparison` (services.market.comparison) and format every number with
`services.format`, so the table, the verdict, the model's data and the chart caption agree. The
rule-based answer is Markdown (the table becomes a monospace block); the caption is Telegram HTML.
"""

from __future__ import annotations

from services.format import (
    MISSING,
    exchange_name,
    format_funding,
    format_number,
    format_pct,
    format_price,
    format_share,
    format_utc_time,
)
from services.i18n import Raw, Translator
from services.market import MarketView
from services.market.comparison import Comparison, PairStats
from services.market.models import ms_to_datetime

CORRELATION_HIGH, CORRELATION_MODERATE, CORRELATION_NEGATIVE = 0.8, 0.5, -0.3


def _r(text: str) -> Raw:
    # Markdown escaped as a whole by the text service; arguments stay raw here.
    return Raw(text)


def _base(c: Comparison, index: int) -> str:
    return c.views[index].resolved.base


def _ratio_name(c: Comparison, pair: PairStats) -> str:
    return f"{_base(c, pair.first)}/{_base(c, pair.second)}"


def _nearest(view: MarketView, kind: str) -> str:
    levels = view.analysis.levels.key_support if kind == "support" else view.analysis.levels.key_resistance
    return format_pct(levels[0].distance_pct) if levels else MISSING


def _funding(view: MarketView) -> str:
    d = view.analysis.derivatives
    return format_funding(d.funding_8h) if d is not None else MISSING


def _correlation_key(value: float | None) -> str:
    if value is None:
        return "compare-correlation-unknown"
    if value <= CORRELATION_NEGATIVE:
        return "compare-correlation-negative"
    if value >= CORRELATION_HIGH:
        return "compare-correlation-high"
    return "compare-correlation-moderate" if value >= CORRELATION_MODERATE else "compare-correlation-low"


# ------------------------------------------------------------------------------ for the model
def comparison_block(c: Comparison) -> str:
    """English `key: value` lines added after the coins' own data blocks."""
    names = [f"{v.resolved.base}/{v.resolved.quote}" for v in c.views]
    lines = [
        f"comparison: {' vs '.join(names)} on {c.timeframe}, the last {c.window} shared candles"
        f" (from {_utc(c, 0)} to {_utc(c, -1)} UTC)",
        "change_over_window: "
        + ", ".join(f"{_base(c, i)} {format_pct(change)}" for i, change in enumerate(c.changes_pct)),
    ]
    for pair in c.pairs:
        name = _ratio_name(c, pair)
        trend = pair.ratio_trend
        trend_text = f"{trend.direction} ({trend.label})" if trend is not None else "unknown"
        correlation = format_number(pair.correlation, 2) if pair.correlation is not None else MISSING
        stronger = _base(c, pair.stronger) if pair.stronger is not None else "no clear leader"
        lines += [
            f"ratio_{name.replace('/', '_')}: {format_price(pair.ratio_start)} -> {format_price(pair.ratio_end)}"
            f" ({format_pct(pair.ratio_change_pct)} over the window), trend {trend_text}",
            f"correlation_of_returns_{name.replace('/', '_')}: {correlation}",
            f"stronger_of_{name.replace('/', '_')}: {stronger}",
        ]
    lines.append("answer_as: one comparison (a side-by-side table, relative strength, correlation, a verdict)")
    return "\n".join(lines)


def _utc(c: Comparison, index: int) -> str:
    return ms_to_datetime(int(c.timestamps[index])).strftime("%Y-%m-%d %H:%M")


# ------------------------------------------------------------------------------ rule-based answer
def _table(t: Translator, c: Comparison) -> str:
    views = c.views
    rows: list[tuple[str, list[str]]] = [
        (t("compare-row-price"), [format_price(v.ticker.price) for v in views]),
        (t("compare-row-change-24h"), [format_pct(v.ticker.change_24h_pct) for v in views]),
        (t("compare-row-change-window", candles=c.window), [format_pct(change) for change in c.changes_pct]),
        (t("compare-row-trend"), [t(f"compare-trend-{v.analysis.trend.direction}") for v in views]),
        (t("compare-row-rsi"), [format_number(v.analysis.indicators.rsi14) for v in views]),
        (t("compare-row-atr"), [format_share(v.analysis.indicators.atr_pct) for v in views]),
        (t("compare-row-funding"), [_funding(v) for v in views]),
        (t("compare-row-support"), [_nearest(v, "support") for v in views]),
        (t("compare-row-resistance"), [_nearest(v, "resistance") for v in views]),
    ]
    header = "| | " + " | ".join(v.resolved.base for v in views) + " |"
    rule = "|---|" + "---:|" * len(views)
    body = ["| " + label + " | " + " | ".join(cells) + " |" for label, cells in rows]
    return "\n".join([header, rule, *body])


def _relative(t: Translator, c: Comparison, pair: PairStats) -> str:
    trend = pair.ratio_trend
    if trend is None:
        trend_text = t("compare-ratio-unknown")
    elif trend.direction == "range":
        trend_text = t("compare-ratio-range")
    else:
        stronger, weaker = (pair.first, pair.second) if trend.direction == "up" else (pair.second, pair.first)
        trend_text = t(
            f"compare-ratio-{trend.direction}",
            strength=_r(t(f"rules-strength-{trend.label}")),
            stronger=_r(_base(c, stronger)),
            weaker=_r(_base(c, weaker)),
        )
    return t(
        "compare-relative",
        ratio=_r(_ratio_name(c, pair)),
        start=_r(format_price(pair.ratio_start)),
        end=_r(format_price(pair.ratio_end)),
        change=_r(format_pct(pair.ratio_change_pct)),
        candles=c.window,
        trend=_r(trend_text),
    )


def _verdict_many(t: Translator, c: Comparison) -> str:
    """Three coins: the one stronger than both others leads; else no clear leader."""
    wins = [sum(1 for pair in c.pairs if pair.stronger == i) for i in range(len(c.views))]
    losses = [sum(1 for pair in c.pairs if i in (pair.first, pair.second) and pair.stronger not in (i, None))
              for i in range(len(c.views))]  # fmt: skip
    changes = ", ".join(f"{_base(c, i)} {format_pct(change)}" for i, change in enumerate(c.changes_pct))
    leader = next((i for i, w in enumerate(wins) if w == len(c.views) - 1), None)
    if leader is None:
        coins = ", ".join(_base(c, i) for i in range(len(c.views)))
        return t("compare-verdict-none-many", timeframe=_r(c.timeframe), coins=_r(coins), changes=_r(changes))
    weakest = next((i for i, lost in enumerate(losses) if lost == len(c.views) - 1), None)
    return t(
        "compare-verdict-many",
        timeframe=_r(c.timeframe),
        stronger=_r(_base(c, leader)),
        weaker=_r(_base(c, weakest) if weakest is not None else MISSING),
        changes=_r(changes),
        weakest=_r("yes" if weakest is not None else "no"),
    )


def _verdict(t: Translator, c: Comparison) -> str:
    if len(c.views) > 2:
        return _verdict_many(t, c)
    pair = c.main
    if pair.stronger is None:
        return t(
            "compare-verdict-none",
            timeframe=_r(c.timeframe),
            first=_r(_base(c, pair.first)),
            first_change=_r(format_pct(c.changes_pct[pair.first])),
            second=_r(_base(c, pair.second)),
            second_change=_r(format_pct(c.changes_pct[pair.second])),
        )
    weaker = pair.second if pair.stronger == pair.first else pair.first
    confirmed = pair.ratio_trend is not None and pair.ratio_trend.direction != "range"
    return t(
        "compare-verdict-leader" if confirmed else "compare-verdict-earlier",
        timeframe=_r(c.timeframe),
        stronger=_r(_base(c, pair.stronger)),
        weaker=_r(_base(c, weaker)),
        stronger_change=_r(format_pct(c.changes_pct[pair.stronger])),
        weaker_change=_r(format_pct(c.changes_pct[weaker])),
        ratio=_r(_ratio_name(c, pair)),
    )


def comparison_answer(t: Translator, c: Comparison, *, fallback: bool) -> str:
    """The whole rule-based comparison in Markdown: title, table, relative strength, correlation,
    verdict, labelled as automatic and ending with the risk note."""
    label = t("rules-fallback-label" if fallback else "rules-label")
    pairs = " vs ".join(v.resolved.pair for v in c.views)
    parts = [
        label,
        t("compare-title", pairs=_r(pairs), timeframe=_r(c.timeframe), exchange=_r(_exchanges(c))),
        _table(t, c),
    ]
    for pair in c.pairs:
        parts.append(_relative(t, c, pair))
        value = format_number(pair.correlation, 2) if pair.correlation is not None else MISSING
        correlation = t(_correlation_key(pair.correlation), value=_r(value), candles=c.window)
        if len(c.pairs) > 1:
            correlation += f" ({_ratio_name(c, pair)})"
        parts.append(correlation)
    parts.append(_verdict(t, c))
    parts.append(t("rules-risk"))
    return "\n\n".join(parts)


def _exchanges(c: Comparison) -> str:
    return "/".join(dict.fromkeys(exchange_name(v.exchange) for v in c.views))


# ------------------------------------------------------------------------------ chart caption
def comparison_caption(t: Translator, c: Comparison) -> str:
    """The comparison chart's caption (Telegram HTML, well under 1024 characters)."""
    pair = c.main
    value = format_number(pair.correlation, 2) if pair.correlation is not None else MISSING
    changes = " · ".join(f"{_base(c, i)} {format_pct(change)}" for i, change in enumerate(c.changes_pct))
    last = c.views[0]
    return "\n".join(
        [
            t(
                "compare-caption-title",
                pairs=" vs ".join(v.resolved.pair for v in c.views),
                timeframe=c.timeframe,
                exchange=_exchanges(c),
            ),
            t("compare-caption-changes", candles=c.window, changes=changes),
            t(
                "compare-caption-correlation",
                value=value,
                ratio=_ratio_name(c, pair),
                change=format_pct(pair.ratio_change_pct),
            ),
            t("compare-caption-note", time=format_utc_time(last.analysis.as_of, last.as_of)),
        ]
    )
