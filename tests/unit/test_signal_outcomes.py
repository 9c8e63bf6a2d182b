"""The outcome rules (services/signals/outcomes.py) as a table of hand-made candle paths: first
target / stop first, both in one candle → stop, a gap through the stop exits at the open, expiry at
the last close before valid_until, limit entries, forming and pre-signal candles ignored. Every
long case is replayed as a short by mirroring prices around 100, which must give the mirrored exit
and the same result."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from db.repositories.signals import SignalRow
from services.market.errors import UnsupportedTimeframe
from services.market.models import Candles
from services.signals.model import Costs, SignalIdea
from services.signals.outcomes import candle_ms, grade

T0 = datetime(2026, 11, 30, 12, tzinfo=UTC)  # signal_at: close of the decision candle
HOUR = timedelta(hours=1)
NO_COSTS = Costs(fee_pct=0.0, slippage_pct=0.0)
Bar = tuple[float, float, float, float]  # open, high, low, close


def idea(**changes: object) -> SignalIdea:
    base = SignalIdea(
        symbol="BTC",
        exchange="bybit",
        timeframe="1h",
        direction="long",
        entry=100.0,
        stop=95.0,
        targets=(110.0, 120.0),
        confidence=60,
        reason=("trend_up",),
        signal_at=T0,
        valid_until=T0 + 6 * HOUR,
        strategy="trend",
        version="1",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def candles(bars: list[Bar], *, first_open: datetime = T0 - HOUR) -> Candles:
    """1h candles opening at `first_open`, one per bar (the default first bar is the decision candle)."""
    start = int(first_open.timestamp() * 1000)
    rows = [[start + i * 3_600_000, o, h, low, c, 1.0] for i, (o, h, low, c) in enumerate(bars)]
    return Candles.from_array(rows, exchange="bybit", symbol="BTC/USDT", timeframe="1h")


def mirror_bar(bar: Bar) -> Bar:
    o, h, low, c = bar
    return (200 - o, 200 - low, 200 - h, 200 - c)


def mirror(signal: SignalIdea) -> SignalIdea:
    return replace(
        signal,
        direction="short",
        entry=200 - signal.entry,
        stop=200 - signal.stop,
        targets=tuple(200 - target for target in signal.targets),
    )


@dataclass(frozen=True)
class Case:
    name: str
    bars: list[Bar]  # the first one is the decision candle (opens at T0 − 1h)
    status: str | None  # None: still open
    exit_price: float | None = None
    exit_hours: float = 0.0  # exit_at − T0
    result_r: float = 0.0
    now_hours: float = 10.0
    signal: dict[str, object] | None = None


DECISION: Bar = (99.0, 100.5, 98.5, 100.0)
CASES = [
    Case("target first", [DECISION, (100, 104, 99, 103), (103, 111, 102, 109)], "tp", 110.0, 2, 2.0),
    Case("stop first", [DECISION, (100, 104, 99, 103), (103, 104, 94, 96), (96, 112, 95, 111)], "sl", 95.0, 2, -1.0),
    Case("both in one candle: stop", [DECISION, (100, 111, 94, 108)], "sl", 95.0, 1, -1.0),
    Case("gap through the stop: the open", [DECISION, (100, 101, 97, 97), (92, 93, 90, 91)], "sl", 92.0, 2, -1.6),
    Case("touching the stop exactly counts", [DECISION, (100, 101, 95, 96)], "sl", 95.0, 1, -1.0),
    Case(
        "a gap through the target: still the target",
        [DECISION, (100, 104, 99, 104), (115, 116, 113, 114)],
        "tp",
        110.0,
        2,
        2.0,
    ),
    Case(
        "expiry at the last close before valid_until (a straddling candle is ignored)",
        [DECISION, *[(100, 102, 98, 101)] * 5, (101, 103, 99, 102), (102, 111, 101, 110)],
        "expired",
        102.0,
        6,
        0.4,
        signal={"valid_until": T0 + 6.5 * HOUR},
    ),
    Case("nothing hit, still valid", [DECISION, (100, 104, 99, 103)], None, now_hours=1.5),
    Case("the forming candle is ignored", [DECISION, (100, 104, 99, 103), (103, 111, 102, 109)], None, now_hours=1.5),
    Case(
        "candles before the signal are ignored",
        [(99, 111, 90, 100), DECISION, (100, 104, 99, 103)],
        None,
        now_hours=2.0,
        signal={"signal_at": T0 + HOUR, "valid_until": T0 + 5 * HOUR},
    ),
    Case(
        "expired with no candle in the window: at entry",
        [DECISION],
        "expired",
        100.0,
        0.5,
        0.0,
        now_hours=1.0,
        signal={"valid_until": T0 + 0.5 * HOUR},
    ),
    Case(
        "limit entry never filled: expired, no exit price, 0 R",
        [DECISION, (103, 105, 101, 104), (104, 108, 102, 107)],
        "expired",
        None,
        2,
        0.0,
        signal={"source": "manual", "entry": 100.0, "valid_until": T0 + 2 * HOUR},
    ),
    Case(
        "limit entry filled later, then the target",
        [DECISION, (103, 105, 101, 104), (104, 104, 99.5, 101), (101, 110.5, 100, 110)],
        "tp",
        110.0,
        3,
        2.0,
        signal={"source": "manual"},
    ),
    Case(
        "limit fill candle reaching the target but closing below it: not yet",
        [DECISION, (111, 112, 99, 105)],
        None,
        now_hours=1.0,
        signal={"source": "manual"},
    ),
    Case(
        "limit fill candle closing beyond the target: target",
        [DECISION, (103, 111, 99, 111)],
        "tp",
        110.0,
        1,
        2.0,
        signal={"source": "manual"},
    ),
    Case(
        "limit fill candle also at the stop: stop",
        [DECISION, (103, 111, 94, 111)],
        "sl",
        95.0,
        1,
        -1.0,
        signal={"source": "manual"},
    ),
    Case(
        "limit entry filled by a gap across it, then the stop",
        [DECISION, (103, 104, 101, 102), (98, 99, 97, 98), (98, 98, 94, 95)],
        "sl",
        95.0,
        3,
        -1.0,
        signal={"source": "manual"},
    ),
    Case(
        "limit entry: the stop before any fill does not count",
        [(90, 91, 89, 90), (90, 94, 88, 93), (93, 96, 92, 95)],
        "expired",
        None,
        2,
        0.0,
        signal={"source": "manual", "valid_until": T0 + 2 * HOUR},
    ),
]


@pytest.mark.parametrize("direction", ["long", "short"])
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_outcome_rules(case: Case, direction: str) -> None:
    signal = idea(**(case.signal or {}))
    bars = case.bars
    if direction == "short":
        signal, bars = mirror(signal), [mirror_bar(bar) for bar in bars]
    outcome = grade(signal, candles(bars), NO_COSTS, now=T0 + case.now_hours * HOUR)
    if case.status is None:
        assert outcome is None
        return
    assert outcome is not None
    expected_exit = case.exit_price
    if direction == "short" and expected_exit is not None:
        expected_exit = 200 - expected_exit
    assert outcome.status == case.status
    assert outcome.exit_price == (pytest.approx(expected_exit) if expected_exit is not None else None)
    assert outcome.exit_at == T0 + case.exit_hours * HOUR
    assert outcome.result_r == pytest.approx(case.result_r)


def test_costs_are_fee_and_slippage_on_both_sides() -> None:
    costs = Costs(fee_pct=0.055, slippage_pct=0.02)
    bars = [DECISION, (100, 111, 99, 110)]
    outcome = grade(idea(), candles(bars), costs, now=T0 + 2 * HOUR)
    assert outcome is not None and outcome.status == "tp" and outcome.costs == costs
    # +10 % gross − 2 × (0.055 + 0.02) % = 9.85 %; risk 5 % → 1.97 R
    assert outcome.result_pct == pytest.approx(9.85)
    assert outcome.result_r == pytest.approx(1.97)
    short = grade(mirror(idea()), candles([mirror_bar(bar) for bar in bars]), costs, now=T0 + 2 * HOUR)
    assert short is not None and short.status == "tp" and short.result_pct == pytest.approx(9.85)
    short_stop = grade(mirror(idea()), candles([DECISION, (100, 106, 99, 105)]), costs, now=T0 + 2 * HOUR)
    assert short_stop is not None and short_stop.status == "sl"
    assert short_stop.result_pct == pytest.approx(-5.15) and short_stop.result_r == pytest.approx(-1.03)
    # a limit entry that never filled is no trade: no costs
    unfilled = grade(
        idea(source="manual", valid_until=T0 + HOUR), candles([DECISION, (103, 104, 101, 102)]), costs, now=T0 + HOUR
    )
    assert unfilled is not None and (unfilled.result_pct, unfilled.result_r) == (0.0, 0.0)


def test_a_stored_record_without_signal_at_is_graded_from_created_at() -> None:
    record = SignalRow(
        id=1,
        symbol="BTC",
        exchange="bybit",
        timeframe="1h",
        direction="long",
        entry=100.0,
        stop=95.0,
        targets=(110.0,),
        confidence=50,
        reason=(),
        strategy="trend",
        version="1",
        source="auto",
        created_by=None,
        note="",
        commentary=None,
        signal_at=None,
        valid_until=T0 + 5 * HOUR,
        created_at=T0 + HOUR,
        status="open",
    )
    # the candle opening at T0 hits the stop, but it opens before created_at
    bars = [DECISION, (100, 101, 94, 100), (100, 111, 99, 110)]
    outcome = grade(record, candles(bars), NO_COSTS, now=T0 + 3 * HOUR)
    assert outcome is not None and outcome.status == "tp" and outcome.exit_at == T0 + 2 * HOUR


def test_timeframes_outside_the_market_list_still_grade() -> None:
    assert candle_ms("30m") == 1_800_000 and candle_ms("2h") == 7_200_000 and candle_ms("4h") == 14_400_000
    with pytest.raises(UnsupportedTimeframe):
        candle_ms("fortnight")


def random_walk(seed: int, n: int = 60) -> list[Bar]:
    """A seeded 1h path around 100 with wicks and the odd gap (every bar valid: low ≤ open/close ≤ high)."""
    rng = random.Random(seed)
    bars: list[Bar] = [DECISION]
    close = 100.0
    for _ in range(n):
        gap = rng.choice([0.0] * 9 + [rng.uniform(-4, 4)])
        open_ = close + gap
        close = open_ + rng.gauss(0, 1.2)
        high = max(open_, close) + abs(rng.gauss(0, 0.8))
        low = min(open_, close) - abs(rng.gauss(0, 0.8))
        bars.append((open_, high, low, close))
    return bars


def reference(signal: SignalIdea, bars: list[Bar], now: datetime) -> tuple[str, float | None] | None:
    """The module docstring's rules walked candle by candle (a second, plain reading of them)."""
    sign = 1 if signal.direction == "long" else -1
    counted = [
        (T0 + (i - 1) * HOUR, bar)
        for i, bar in enumerate(bars)
        if T0 + (i - 1) * HOUR >= signal.signal_at and T0 + i * HOUR <= min(now, signal.valid_until)
    ]
    filled = signal.source == "auto"
    previous = bars[0][3]
    last: float | None = None
    for _, (open_, high, low, close) in counted:
        fill_candle = False
        if not filled:
            crossed = (previous - signal.entry) * (open_ - signal.entry) < 0
            if low <= signal.entry <= high or crossed:
                filled = fill_candle = True
        previous = close
        if not filled:
            continue
        adverse, favourable = (low, high) if sign > 0 else (high, low)
        if sign * (adverse - signal.stop) <= 0:
            return "sl", open_ if sign * (open_ - signal.stop) <= 0 else signal.stop
        reached = close if fill_candle else favourable
        if sign * (reached - signal.targets[0]) >= 0:
            return "tp", signal.targets[0]
        last = close
    if now < signal.valid_until:
        return None
    if not filled:
        return "expired", None
    return "expired", last if last is not None else signal.entry


@pytest.mark.parametrize("seed", range(40))
def test_random_paths_follow_the_rules_long_and_mirrored_short(seed: int) -> None:
    rng = random.Random(1000 + seed)
    bars = random_walk(seed)
    stop_distance, target_distance = rng.uniform(1, 6), rng.uniform(1, 10)
    manual = seed % 3 == 0
    entry = 100.0 + (rng.uniform(-3, 3) if manual else 0.0)
    signal = idea(
        entry=entry,
        stop=entry - stop_distance,
        targets=(entry + target_distance,),
        source="manual" if manual else "auto",
        valid_until=T0 + rng.randint(3, 50) * HOUR,
    )
    now = T0 + rng.uniform(1, 70) * HOUR
    outcome = grade(signal, candles(bars), NO_COSTS, now=now)
    expected = reference(signal, bars, now)
    got = None if outcome is None else (outcome.status, outcome.exit_price)
    assert got == expected
    short = grade(mirror(signal), candles([mirror_bar(bar) for bar in bars]), NO_COSTS, now=now)
    assert (short is None) == (outcome is None)
    if outcome is not None and short is not None:
        assert (short.status, short.exit_at) == (outcome.status, outcome.exit_at)
        assert short.result_r == pytest.approx(outcome.result_r)
