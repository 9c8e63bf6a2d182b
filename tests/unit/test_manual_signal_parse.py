"""Reading an operator's /signal (every error a code with its arguments), and the draft store that
hands a previewed draft out once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from services.kv import MemoryStore
from services.signals.manual import DEFAULT_CONFIDENCE, DraftStore, ManualDraft, ManualSignalError, parse_manual

NOW = datetime(2026, 12, 1, 16, 5, tzinfo=UTC)


def test_a_full_command() -> None:
    draft = parse_manual(
        "btc long 4h entry=65000 sl=63500 tp=67000,69000 valid=12h conf=70 note=Breakout = retest, hold"
    )
    assert draft == ManualDraft(
        coin="btc",
        direction="long",
        timeframe="4h",
        entry=65_000.0,
        stop=63_500.0,
        targets=(67_000.0, 69_000.0),
        valid_seconds=12 * 3600,
        confidence=70,
        note="Breakout = retest, hold",
    )
    idea = draft.resolved("BTC", "bybit", 42).idea(NOW)
    assert (idea.symbol, idea.exchange, idea.created_by, idea.source) == ("BTC", "bybit", 42, "manual")
    assert (idea.strategy, idea.version, idea.reason) == ("manual", "1", ("manual",))
    assert (idea.signal_at, idea.valid_until) == (NOW, NOW + timedelta(hours=12))
    assert ManualDraft.from_json(draft.to_json()) == draft


@pytest.mark.parametrize(
    ("args", "direction", "timeframe", "targets"),
    [
        ("ETH 空 1h entry=3000 sl=3080 tp=2900", "short", "1h", (2900.0,)),
        ("做多 SOL 1d entry=150 sl=140 tp=160;170;180", "long", "1d", (160.0, 170.0, 180.0)),
        ("btc SHORT h4 entry=65k sl=66.5k tp=60k/58k", "short", "4h", (60_000.0, 58_000.0)),
        ("pepe 多 15m entry=.00001 sl=.000009 tp=0.000012", "long", "15m", (0.000012,)),
    ],
)
def test_directions_timeframes_and_numbers(
    args: str, direction: str, timeframe: str, targets: tuple[float, ...]
) -> None:
    draft = parse_manual(args)
    assert (draft.direction, draft.timeframe, draft.targets) == (direction, timeframe, targets)
    assert draft.valid_seconds == 24 * 3600 and draft.confidence == DEFAULT_CONFIDENCE and draft.note == ""


@pytest.mark.parametrize(
    ("args", "code", "values"),
    [
        (None, "usage", {}),
        ("", "usage", {}),
        ("btc 4h entry=1 sl=0.9 tp=1.1", "usage", {}),  # no direction
        ("btc long entry=1 sl=0.9 tp=1.1", "usage", {}),  # no timeframe
        ("btc eth long 4h entry=1 sl=0.9 tp=1.1", "usage", {}),  # two coins
        ("btc long 4h sl=0.9 tp=1.1", "missing", {"name": "entry"}),
        ("btc long 4h entry=1 tp=1.1", "missing", {"name": "sl"}),
        ("btc long 4h entry=1 sl=0.9", "missing", {"name": "tp"}),
        ("btc long 4h entry=1 sl=0.9 tp=1.1 size=3", "key", {"name": "size"}),
        ("btc long 4h entry=one sl=0.9 tp=1.1", "number", {"name": "entry", "value": "one"}),
        ("btc long 4h entry=1 sl=-0.9 tp=1.1", "number", {"name": "sl", "value": "-0.9"}),
        ("btc long 4h entry=1 sl=0 tp=1.1", "number", {"name": "sl", "value": "0"}),
        ("btc long 4h entry= sl=0.9 tp=1.1", "number", {"name": "entry", "value": ""}),
        ("btc long 4h entry=1 sl=0.9 tp=1.1,,1.2", "number", {"name": "tp", "value": ""}),
        ("btc long 4h entry=1 sl=0.9 tp=1.1,1.2,1.3,1.4", "targets", {"limit": "3"}),
        ("btc long 4h entry=1 sl=0.9 tp=1.1 valid=10m", "valid", {"value": "10m"}),
        ("btc long 4h entry=1 sl=0.9 tp=1.1 valid=31d", "valid", {"value": "31d"}),
        ("btc long 4h entry=1 sl=0.9 tp=1.1 valid=soon", "valid", {"value": "soon"}),
        ("btc long 4h entry=1 sl=0.9 tp=1.1 conf=101", "conf", {"value": "101"}),
        ("btc long 4h entry=1 sl=0.9 tp=1.1 conf=high", "conf", {"value": "high"}),
        ("btc long 2h entry=1 sl=0.9 tp=1.1", "timeframe", {"value": "2h"}),
        ("btc long 4h entry=1 sl=0.9 tp=1.1 note=" + "x" * 301, "note", {"limit": "300", "length": "301"}),
        ("btc long 4h entry=65000 sl=65000 tp=67000", "stop_wrong_side", {}),
        ("btc short 4h entry=65000 sl=64000 tp=63000", "stop_wrong_side", {}),
        ("btc long 4h entry=65000 sl=64000 tp=64500", "target_wrong_side", {}),
        ("btc long 4h entry=65000 sl=64000 tp=67000,66000", "targets_order", {}),
    ],
)
def test_every_problem_is_a_code(args: str | None, code: str, values: dict[str, str]) -> None:
    with pytest.raises(ManualSignalError) as problem:
        parse_manual(args)
    assert (problem.value.code, problem.value.args_) == (code, values)


async def test_a_draft_is_handed_out_once_and_only_to_its_operator() -> None:
    clock = [0.0]
    store = DraftStore(MemoryStore(clock=lambda: clock[0]), ttl=60)
    draft = parse_manual("btc long 4h entry=65000 sl=63500 tp=67000").resolved("BTC", "bybit", 7)
    token = await store.save(draft, b"png")
    assert await store.take(token, 8) is None  # someone else's
    results = await asyncio.gather(*(store.take(token, 7) for _ in range(5)))
    assert results.count(None) == 4 and (draft, b"png") in results

    other = await store.save(draft, None)
    clock[0] = 61.0
    assert await store.take(other, 7) is None  # expired
    assert await store.take("made-up", 7) is None
