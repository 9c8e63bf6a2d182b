"""Numbers benchmark: the share of analyst answers with an unverified number (issue 13, 3).

Run: `python -m tests.bench.bench_numbers` (exit status 1 when a target is missed).

200 answers over 200 generated markets (seeded random walks: trends, ranges, crashes, pumps,
squeezes; prices from 0.05 to 90,000), written by a seeded generator of plausible analyst answers in
English and Chinese: the data's numbers as the model quotes them (exact, rounded, "67.2K"), levels
± k × ATR for stops and targets, round levels near the price, RSI thresholds, percentages. About
one answer in five also carries an invented number (a level, a percentage, an RSI reading, an open
interest that the data does not have), as a model does when it "remembers" a price. Every answer
goes through `verify_answer` against the facts of its market, as the chat pipeline does.

Printed: the share of answers with an unverified number (what the bot would show marked), split by
whether the generator invented one, the numbers checked per answer, and the time per answer.
Targets: every answer with an invented number flagged (recall ≥ 95 %), at most 2 % of honest
answers flagged, p95 ≤ 2 ms per answer (best of 3 runs each).
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass

from services.chat.numbers import NumberCounts, facts_from_views, verify_answer
from services.format import format_number, format_pct, format_price
from services.market import MarketView
from tests.generated_views import generated_view

ANSWERS = 200
SEED = 13
INVENT_SHARE = 0.2
TARGET_RECALL = 0.95
TARGET_FALSE_SHARE = 0.02
TARGET_P95_MS = 2.0
RUNS = 3
REGIMES = ("up", "down", "range", "crash", "pump", "squeeze", "random")
PRICES = (0.05, 0.6, 1.8, 7.0, 22.0, 150.0, 550.0, 3_000.0, 60_000.0, 90_000.0)


@dataclass(frozen=True)
class Generated:
    text: str
    invented: bool
    locale: str


def market(rng: random.Random, index: int) -> MarketView:
    segments = [(rng.choice(REGIMES), rng.randint(40, 160)) for _ in range(rng.randint(1, 3))]
    segments.insert(0, ("random", 120))
    return generated_view(
        SEED * 1000 + index,
        segments,
        start_price=rng.choice(PRICES) * rng.uniform(0.8, 1.25),
        timeframe=rng.choice(("15m", "1h", "4h", "1d")),
        sigma=rng.uniform(0.004, 0.02),
        funding=rng.choice((None, 0.0001, -0.00003, 0.0007)),
        base=rng.choice(("BTC", "ETH", "SOL", "DOGE", "LINK")),
    )


def quoted(rng: random.Random, value: float) -> str:
    """A price as a model writes it: as given, to fewer digits, or in thousands."""
    style = rng.random()
    if style < 0.6 or value < 100:
        return format_price(value)
    if style < 0.85:
        return f"{value:,.0f}"
    return f"{value / 1000:.1f}K" if value >= 10_000 else format_price(value)


def invention(rng: random.Random, view: MarketView) -> tuple[str, str]:
    """(English, Chinese) sentence with a number the data does not have."""
    price = view.ticker.price
    kind = rng.choice(("level", "level", "percent", "rsi", "oi"))
    if kind == "level":
        # beyond what ± 3 ATR reaches from the price, as a "remembered" price is
        away = max(0.12 * price, 4 * view.analysis.indicators.atr) * rng.uniform(1.0, 2.5)
        value = format_price(max(price * 0.3, price + rng.choice((1, -1)) * away) + price * 1e-4 * 7.3)
        return f"Sellers defended **{value}** last month.", f"上个月卖方在 **{value}** 一带防守。"
    if kind == "percent":
        pct = format_pct(rng.uniform(6.1, 19.7) * rng.choice((1, -1)) + 0.03)
        return f"It moved {pct} this week.", f"本周涨跌幅 {pct}。"
    if kind == "rsi":
        rsi = view.analysis.indicators.rsi14
        wrong = rsi + (1 if rsi < 50 else -1) * rng.uniform(6.2, 18.9)  # always 0–100
        return f"RSI14 reads {wrong:.1f} now.", f"RSI14 目前为 {wrong:.1f}。"
    oi = rng.uniform(1.13, 9.87)
    return f"Open interest has grown to {oi:.2f}B.", f"持仓量增至 {oi:.2f}B。"


def answer(rng: random.Random, view: MarketView, invent: bool) -> Generated:
    a = view.analysis
    ind = a.indicators
    price = view.ticker.price
    atr = ind.atr
    support = a.levels.support[0].price if a.levels.support else price - atr
    resistance = a.levels.resistance[0].price if a.levels.resistance else price + atr
    k = rng.choice((1.0, 1.5, 2.0))
    stop = support - rng.choice((0.5, 1.0)) * atr
    target = resistance + k * atr
    magnitude = 10 ** (len(f"{price:.0f}") - 2) if price >= 100 else None
    round_level = f"{round(resistance / magnitude) * magnitude:,.0f}" if magnitude else format_price(resistance)
    rsi = format_number(ind.rsi14, rng.choice((0, 1)))
    change = format_pct(view.ticker.change_24h_pct)
    locale = rng.choice(("en", "zh"))
    if locale == "en":
        sentences = [
            f"**Verdict:** {view.resolved.base} at {quoted(rng, price)} ({change} 24h).",
            f"EMA20 {quoted(rng, ind.ema20)} vs EMA50 {quoted(rng, ind.ema50)}; "
            f"RSI14 {rsi}, RSI above 70 is stretched.",
            f"Support **{quoted(rng, support)}**, resistance **{quoted(rng, resistance)}** (round {round_level}).",
            f"Bullish: a close above {quoted(rng, resistance)} targets {format_price(target)}; "
            f"stop {format_price(stop)}.",
            f"ATR is {format_pct(ind.atr_pct).lstrip('+')} of price; MACD crossed 3 candles ago on the 4h.",
            "_Not financial advice; risk 1-2% per trade._",
        ]
    else:
        sentences = [
            f"**结论：**{view.resolved.base} 现价 {quoted(rng, price)}（24小时 {change}）。",
            f"EMA20 {quoted(rng, ind.ema20)}，EMA50 {quoted(rng, ind.ema50)}；RSI14 {rsi}，高于70为超买。",
            f"支撑 **{quoted(rng, support)}**，阻力 **{quoted(rng, resistance)}**（整数关口 {round_level}）。",
            f"看涨：收盘站上 {quoted(rng, resistance)}，目标 {format_price(target)}；止损 {format_price(stop)}。",
            "MACD 在3根K线前金叉。",
            "_不构成投资建议，单笔风险控制在1-2%。_",
        ]
    if invent:
        english, chinese = invention(rng, view)
        sentences.insert(rng.randint(1, len(sentences) - 1), english if locale == "en" else chinese)
    return Generated(text="\n\n".join(sentences), invented=invent, locale=locale)


def run() -> tuple[dict[bool, NumberCounts], list[float]]:
    rng = random.Random(SEED)
    counts = {False: NumberCounts(), True: NumberCounts()}
    timings: list[float] = []
    for index in range(ANSWERS):
        view = market(rng, index)
        generated = answer(rng, view, rng.random() < INVENT_SHARE)
        facts = facts_from_views([view])
        best = float("inf")
        for _ in range(RUNS):  # best of a few: the machine is shared
            started = time.perf_counter()
            result = verify_answer(generated.text, facts)
            best = min(best, time.perf_counter() - started)
        timings.append(best * 1000)
        counts[generated.invented].add(result)
    return counts, timings


def main() -> int:
    counts, timings = run()
    total = NumberCounts()
    for part in counts.values():
        for name in ("answers", "answers_unverified", "numbers", "numbers_unverified"):
            setattr(total, name, getattr(total, name) + getattr(part, name))
    p95 = statistics.quantiles(timings, n=20)[-1]
    print(f"{'answers':<28} {'count':>6} {'unverified':>11} {'share':>7} {'numbers/answer':>15}")
    for name, part in (("honest", counts[False]), ("with an invented number", counts[True]), ("all", total)):
        per_answer = part.numbers / part.answers if part.answers else 0.0
        print(
            f"{name:<28} {part.answers:>6} {part.answers_unverified:>11} "
            f"{part.unverified_share:>7.1%} {per_answer:>15.1f}"
        )
    print(f"\nshare of answers with an unverified number: {total.unverified_share:.1%} of {total.answers}")
    recall, false_share = counts[True].unverified_share, counts[False].unverified_share
    status = 0
    for label, value, target, ok in (
        ("invented numbers caught", recall, TARGET_RECALL, recall >= TARGET_RECALL),
        ("honest answers flagged", false_share, TARGET_FALSE_SHARE, false_share <= TARGET_FALSE_SHARE),
    ):
        status |= int(not ok)
        sign = "≥" if target > 0.5 else "≤"
        print(f"{label:<28} {value:>7.1%}  target {sign} {target:.0%}{'' if ok else '  MISSED'}")
    ok = p95 <= TARGET_P95_MS
    status |= int(not ok)
    print(
        f"{'check time p50 / p95':<28} {statistics.median(timings):.2f} / {p95:.2f} ms"
        f"  target p95 ≤ {TARGET_P95_MS:.0f} ms{'' if ok else '  MISSED'}"
    )
    return status


if __name__ == "__main__":
    raise SystemExit(main())
