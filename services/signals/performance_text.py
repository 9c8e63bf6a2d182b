"""The track record as a chat message (/performance and the weekly digest), in the chat's language.

Numbers are formatted here (fixed decimals, no locale grouping) and passed to the Fluent messages
as text. Below the minimum sample the message shows only the counts and says the sample is too small;
there is never a claim beyond the measured figures (locales/*/performance.ftl).
"""

from __future__ import annotations

from collections.abc import Sequence

from services.i18n import Translator
from services.signals.performance import Figure, Performance
from services.signals.record import TrackRecord

FIGURE_KEYS = (
    ("win_rate", "performance-win-rate"),
    ("average_r", "performance-average-r"),
    ("profit_factor", "performance-profit-factor"),
    ("expectancy_pct", "performance-expectancy"),
    ("max_drawdown_r", "performance-max-drawdown"),
    ("sharpe", "performance-sharpe"),
    ("sortino", "performance-sortino"),
    ("kelly", "performance-kelly"),
)


def value_text(name: str, value: float) -> str:
    if name in ("win_rate", "kelly"):
        return f"{value * 100:.1f}%"
    if name in ("average_r", "expectancy_pct"):
        return f"{value:+.2f}"
    return f"{value:.2f}"


def figure_line(t: Translator, name: str, key: str, figure: Figure) -> str:
    value = t("performance-undefined") if figure.value is None else value_text(name, figure.value)
    return t(key, value=value, n=figure.sample)


def record_text(t: Translator, record: TrackRecord) -> str:
    result: Performance = record.performance
    lines = [
        t(
            "performance-strategy",
            strategy=record.strategy,
            version=record.version,
            signals=result.signals,
            wins=result.wins,
            losses=result.losses,
        )
    ]
    if result.unfilled:
        lines.append(t("performance-unfilled", count=result.unfilled))
    if not result.enough:
        lines.append(t("performance-too-few", trades=result.trades, needed=result.min_signals))
        return "\n".join(lines)
    for name, key in FIGURE_KEYS:
        figure = getattr(result, name)
        if figure is not None:
            lines.append(figure_line(t, name, key, figure))
    return "\n".join(lines)


def scope_text(t: Translator, *, symbol: str | None, timeframe: str | None, period: str) -> str:
    parts = [symbol or t("performance-all-coins"), timeframe or t("performance-all-timeframes")]
    parts.append(t(f"performance-period-{period}"))
    return " · ".join(parts)


def performance_text(
    t: Translator, records: Sequence[TrackRecord], *, symbol: str | None, timeframe: str | None, period: str
) -> str:
    """The /performance answer (Telegram HTML, escaped)."""
    head = t("performance-title", scope=scope_text(t, symbol=symbol, timeframe=timeframe, period=period))
    if not records:
        return f"{head}\n\n{t('performance-none')}"
    blocks = [record_text(t, record) for record in records]
    return "\n\n".join([head, *blocks, t("performance-footer")])


def digest_text(t: Translator, records: Sequence[TrackRecord], *, coins: Sequence[str], week_closed: int) -> str:
    """The weekly digest for a signals feed: the week's closed count, then the 90-day record."""
    head = t("digest-title", coins=", ".join(coins))
    week = t("digest-week", count=week_closed)
    if not records:
        return f"{head}\n{week}\n\n{t('performance-none')}"
    blocks = [record_text(t, record) for record in records]
    return "\n\n".join([f"{head}\n{week}\n{t('digest-period')}", *blocks, t("performance-footer")])
