"""The `signals` table on both backends: one open signal per (coin, timeframe, direction, source),
levels on the wrong side refused by the database itself, an outcome recorded once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models.market import Signal
from db.repositories.signals import SignalRepository
from services.signals.model import InvalidSignal, SignalIdea, new_signal

T0 = datetime(2026, 11, 30, 12, tzinfo=UTC)


def idea(**changes: object) -> SignalIdea:
    base = SignalIdea(
        symbol="BTC",
        exchange="bybit",
        timeframe="4h",
        direction="long",
        entry=100.0,
        stop=95.0,
        targets=(105.0, 110.0),
        confidence=60,
        reason=("trend_up", "macd_cross_up"),
        signal_at=T0,
        valid_until=T0 + timedelta(hours=24),
        strategy="trend",
        version="1",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def test_one_open_signal_per_key_and_an_outcome_recorded_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        repo = SignalRepository(session)
        first = await repo.add(new_signal(idea()))
        again = await repo.add(new_signal(idea(entry=101.0)))
        short = await repo.add(new_signal(idea(direction="short", stop=105.0, targets=(95.0,))))
        manual = await repo.add(new_signal(idea(source="manual", created_by=7)))
        await session.commit()
    assert first is not None and short is not None and manual is not None
    assert again is None  # the long BTC 4h auto signal is still open

    async with sessionmaker() as session:
        repo = SignalRepository(session)
        record = await repo.get(first)
        assert record is not None
        assert record.targets == (105.0, 110.0) and record.reason == ("trend_up", "macd_cross_up")
        assert record.r_multiples() == (1.0, 2.0)
        closing: dict[str, Any] = {
            "status": "tp",
            "exit_price": 105.0,
            "closed_at": T0 + timedelta(hours=8),
            "result_r": 0.9,
            "outcome_pct": 4.5,
            "fee_pct": 0.055,
            "slippage_pct": 0.02,
        }
        assert await repo.close(first, **closing) is True
        assert await repo.close(first, **closing) is False
        assert (await repo.add(new_signal(idea(entry=102.0)))) is not None  # a new one once closed
        await session.commit()
        closed = await repo.closed(symbol="BTC")
    assert [row.id for row in closed] == [first]
    assert closed[0].result_r == 0.9 and closed[0].fee_pct == 0.055


@pytest.mark.parametrize(
    ("direction", "stop", "target"),
    [("long", 101.0, 110.0), ("long", 95.0, 99.0), ("short", 95.0, 90.0), ("short", 105.0, 101.0)],
)
async def test_the_database_refuses_levels_on_the_wrong_side(
    sessionmaker: async_sessionmaker[AsyncSession], direction: str, stop: float, target: float
) -> None:
    row = {
        "symbol": "ETH",
        "timeframe": "1h",
        "direction": direction,
        "entry": 100.0,
        "stop": stop,
        "take_profit": target,
        "confidence": 50.0,
        "strategy": "trend",
        "valid_until": T0,
    }
    async with sessionmaker() as session:
        with pytest.raises(IntegrityError):
            await session.execute(insert(Signal).values(row))


def test_an_idea_with_a_stop_on_the_wrong_side_is_refused_before_the_database() -> None:
    with pytest.raises(InvalidSignal, match="stop_wrong_side"):
        idea(stop=101.0)
    with pytest.raises(InvalidSignal, match="target_wrong_side"):
        idea(direction="short", stop=105.0, targets=(101.0, 120.0))
    with pytest.raises(InvalidSignal, match="targets_order"):
        idea(targets=(110.0, 105.0))
