"""Numbers in the analyst's answer are checked against the data the model was given (issue 13, 3)."""

from __future__ import annotations

import random

import pytest

from services.chat.numbers import NumberCounts, StreamVerifier, facts_from_views, verify_answer
from services.chat.rules import rule_based_answer
from services.format import format_number, format_pct, format_price
from services.i18n import Translations
from services.market import MarketView
from tests.generated_views import generated_view

MARK = "(⚠️ unverified)"
SCENARIOS = [
    [("up", 300)],
    [("down", 300)],
    [("range", 300)],
    [("range", 200), ("crash", 12), ("up", 80)],
    [("squeeze", 250)],
    [("pump", 120)],
]


@pytest.fixture(scope="module")
def view() -> MarketView:
    return generated_view(1, [("up", 300)], start_price=3_000.0)


@pytest.fixture(scope="module")
def translations() -> Translations:
    return Translations()


def _checked(text: str, view: MarketView) -> tuple[str, tuple[str, ...]]:
    result = verify_answer(text, facts_from_views([view]), label=MARK)
    return result.text, result.unverified


def test_numbers_from_the_data_pass(view: MarketView) -> None:
    a = view.analysis
    ind = a.indicators
    cases = [
        f"Price {format_price(view.ticker.price)}",
        f"ETH at ${view.ticker.price:,.0f}",  # rounded to the dollar
        f"EMA50 sits at {format_price(ind.ema50)}",
        f"support **{format_price(a.levels.support[0].price)}**",
        f"RSI14 at {format_number(ind.rsi14)}, RSI7 {format_number(ind.rsi7, 0)}",
        f"RSI (14) is {format_number(ind.rsi14)}",
        f"up {format_pct(view.ticker.change_24h_pct)} in 24h",
        f"ATR is {ind.atr_pct:.1f}% of price",
        "funding +0.0100% per 8h, open interest 1.23B",
        f"a stop {format_price(a.levels.support[0].price - 1.5 * ind.atr)} (1.5 ATR under support)",
        f"a target at {format_price(view.ticker.price + 2 * ind.atr)}",
        f"the round {round(view.ticker.price, -2):,.0f} area",
        "RSI above 70 is overbought; a 5% move; risk 1-2% per trade",
    ]
    for text in cases:
        marked, unverified = _checked(text, view)
        assert unverified == () and marked == text, text


def test_invented_numbers_are_marked(view: MarketView) -> None:
    price = view.ticker.price
    cases = [
        (f"resistance at {format_price(price * 1.137 + 0.37)} next", format_price(price * 1.137 + 0.37)),
        (f"support **{format_price(price * 0.613 - 0.41)}**", format_price(price * 0.613 - 0.41)),
        ("up +7.31% today", "+7.31%"),
        ("RSI14 at 41.2", "41.2"),
        ("open interest 8.76B", "8.76B"),
    ]
    for text, number in cases:
        marked, unverified = _checked(text, view)
        assert unverified == (number,), text
        assert f"{number} {MARK}" in marked, marked


def test_other_numbers_are_not_prices(view: MarketView) -> None:
    text = (
        "1. Trend: EMA20 over EMA50 on the 4h; MACD crossed 3 candles ago, 2 scenarios.\n"
        "Data as of 2026-02-19 20:00 UTC (08:00 tomorrow). 3根K线前金叉，持续5天。50-EMA, 200 EMA, 14-period RSI."
    )
    marked, unverified = _checked(text, view)
    assert unverified == () and marked == text


def test_chinese_answers_are_checked(view: MarketView) -> None:
    invented = format_price(view.ticker.price * 1.137 + 0.37)
    text = f"支撑位：{format_price(view.analysis.levels.support[0].price)}，阻力位：**{invented}**。"
    marked, unverified = _checked(text, view)
    assert unverified == (invented,) and f"{invented} {MARK}" in marked


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("locale", ["en", "zh"])
def test_the_rule_based_analyst_quotes_only_the_data(seed: int, locale: str, translations: Translations) -> None:
    start = random.Random(seed).choice([0.08, 1.2, 30.0, 150.0, 3_000.0, 60_000.0])
    view = generated_view(seed, SCENARIOS[seed], start_price=start, base="SOL")
    text = rule_based_answer(translations.get(locale), [view], fallback=False)
    result = verify_answer(text, facts_from_views([view]))
    assert result.unverified == () and result.checked >= 8, text


@pytest.mark.parametrize("size", [1, 2, 3, 7, 50])
def test_the_stream_is_marked_the_same_way_as_the_whole(view: MarketView, size: int) -> None:
    invented = format_price(view.ticker.price * 1.137 + 0.37)
    text = (
        f"Price {format_price(view.ticker.price)}; resistance **{invented}**; 24h +7.31% and "
        f"RSI14 {format_number(view.analysis.indicators.rsi14)} on 2026-02-19 20:00, 3 candles ago -{invented}"
    )
    facts = facts_from_views([view])
    whole = verify_answer(text, facts, label=MARK).text
    verifier = StreamVerifier(facts, label=MARK)
    pieces = [verifier.feed(text[i : i + size]) for i in range(0, len(text), size)]
    pieces.append(verifier.finish())
    assert "".join(pieces) == whole
    shown = ""
    for piece in pieces:  # what the user sees at every moment never has the number without its mark
        shown += piece
        assert invented not in shown or shown.count(invented) == shown.count(f"{invented} {MARK}")


def test_counts(view: MarketView) -> None:
    counts = NumberCounts()
    facts = facts_from_views([view])
    counts.add(verify_answer(f"at {format_price(view.ticker.price)}", facts))
    counts.add(verify_answer("RSI14 at 41.2 and +7.31%", facts))
    assert (counts.answers, counts.answers_unverified, counts.numbers, counts.numbers_unverified) == (2, 1, 3, 2)
    assert counts.unverified_share == 0.5


def test_the_numbers_of_the_whole_block_given_to_the_model_count(view: MarketView) -> None:
    """A block with more than the views' lines (a comparison) backs its numbers too."""
    text = "ETH outperformed BTC by 5.37% this week"
    assert verify_answer(text, facts_from_views([view])).unverified == ("5.37%",)
    block = "ratio_change_7d: +5.37%\ncorrelation_30d: 0.83"
    assert verify_answer(text, facts_from_views([view], block)).unverified == ()


def test_years_periods_and_full_width_percent(view: MarketView) -> None:
    text = "Since 2024 and in March 2025 (2026年), the EMA 20 and MA(50) held; EMA 200 too."
    assert _checked(text, view) == (text, ())
    marked, unverified = _checked("24小时涨幅 7.31％", view)
    assert unverified == ("7.31％",) and f"7.31％ {MARK}" in marked
    change = format_pct(view.ticker.change_24h_pct).lstrip("+")
    assert _checked(f"24小时涨幅 {change.replace('%', '％')}", view)[1] == ()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("locale", ["en", "zh"])
def test_the_demo_models_answers_quote_only_the_data(seed: int, locale: str) -> None:
    """The demo's stand-in model writes from the block: nothing of it is marked in `make demo`."""
    from services.chat.market_block import market_block
    from services.llm import build_messages
    from standins.demo import demo_analysis

    start = (0.08, 3.0, 150.0, 60_000.0)[seed]
    view = generated_view(seed, [("random", 150), ("range", 150)], start_price=start)
    block = market_block([view], None, locale)
    messages = build_messages(locale=locale, market_block=block, history=[], user_text="?", token_budget=6000)
    answer = demo_analysis({"messages": messages})
    result = verify_answer(answer, facts_from_views([view], block))
    assert result.unverified == () and result.checked >= 8, answer
