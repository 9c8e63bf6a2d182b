"""The outcome message in both languages, for every kind of close: valid Telegram HTML (nothing the
sanitizer would change), the pair, the exit and the result in R and percent after the costs, the
original named only when the message cannot be a reply to it, no claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from db.repositories.signals import SignalRow
from services.i18n import SUPPORTED_LOCALES, Translations
from services.signals.model import Costs, Outcome
from services.signals.tracker import outcome_text
from services.text.html import sanitize_html, visible_text

T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)
TRANSLATIONS = Translations()
COSTS = Costs(fee_pct=0.055, slippage_pct=0.02)
SIGNAL = SignalRow(
    id=7,
    symbol="ETH",
    exchange="bybit",
    timeframe="4h",
    direction="short",
    entry=3_000.0,
    stop=3_060.0,
    targets=(2_880.0,),
    confidence=60,
    reason=("trend_down",),
    strategy="trend",
    version="1",
    source="auto",
    created_by=None,
    note="",
    commentary=None,
    signal_at=T0,
    valid_until=T0 + timedelta(hours=24),
    created_at=T0,
    status="open",
)


def closed(status: str, exit_price: float | None, hours: int, result_r: float, result_pct: float) -> Outcome:
    return Outcome(
        status=status,  # type: ignore[arg-type]
        exit_price=exit_price,
        exit_at=T0 + timedelta(hours=hours),
        result_r=result_r,
        result_pct=result_pct,
        costs=COSTS,
    )


OUTCOMES = {
    "tp": closed("tp", 2_880.0, 8, 1.925, 3.85),
    "sl": closed("sl", 3_060.0, 4, -1.075, -2.15),
    "expired": closed("expired", 2_990.0, 24, 0.0917, 0.1833),
}
UNFILLED = closed("expired", None, 24, 0.0, 0.0)
CLAIMS = ("guarantee", "accura", "sure win", "保证", "准确率", "稳赚")


@pytest.mark.parametrize("threaded", [True, False])
@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
@pytest.mark.parametrize("status", [*OUTCOMES, "unfilled"])
def test_every_outcome_renders_in_every_language(status: str, locale: str, threaded: bool) -> None:
    t = TRANSLATIONS.get(locale)
    outcome = OUTCOMES.get(status, UNFILLED)
    text = outcome_text(t, SIGNAL, outcome, T0 + timedelta(days=1), threaded=threaded)
    assert sanitize_html(text) == text  # valid Telegram HTML as it stands
    plain = visible_text(text)
    assert "ETH/USDT" in plain and "4h" in plain and "{" not in plain
    assert ("做空" if locale == "zh" else "short") in plain
    if outcome.exit_price is None:
        assert "3,000.0" in plain and "0 R" in plain  # the entry that was never reached; no trade
    else:
        assert f"{outcome.exit_price:,.1f}" in plain
        assert f"{outcome.result_r:+.2f} R" in plain and f"{outcome.result_pct:+.2f}%" in plain
        assert "0.15%" in plain  # 2 × (0.055 + 0.02): the round-trip costs the result is after
    named = ("的信号" if locale == "zh" else "Signal of") in plain
    assert named is not threaded  # a reply is the link to the original; otherwise it is named
    assert not any(claim in plain.lower() for claim in CLAIMS)


def test_each_kind_of_close_reads_differently() -> None:
    t = TRANSLATIONS.get("en")
    first_lines = {
        status: outcome_text(t, SIGNAL, outcome, T0, threaded=True).splitlines()[0]
        for status, outcome in [*OUTCOMES.items(), ("unfilled", UNFILLED)]
    }
    assert len(set(first_lines.values())) == 4
    assert "first target reached" in first_lines["tp"] and "stop reached" in first_lines["sl"]
    assert "validity ended" in first_lines["expired"] and "not reached" in first_lines["unfilled"]
