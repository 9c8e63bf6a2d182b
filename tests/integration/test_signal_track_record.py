"""The track record equals an independent recomputation from the raw `signals` rows (both backends).

Seeded random outcomes are written through the repository; the figures the product shows
(services/signals/record.py) are compared with numpy computed straight from a plain SQL read of the
columns, written here from the formulas in services/signals/performance.py, not through its code.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories.signals import SignalRepository
from services.signals.model import SignalIdea, new_signal
from services.signals.record import track_records

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
COINS = ("BTC", "ETH", "SOL")


async def write_signals(session: AsyncSession, rng: random.Random, count: int) -> None:
    repo = SignalRepository(session)
    for index in range(count):
        at = NOW - timedelta(days=120) + timedelta(hours=index * 20)
        direction = rng.choice(("long", "short"))
        entry = rng.uniform(50, 150)
        risk = entry * rng.uniform(0.005, 0.05)
        sign = 1 if direction == "long" else -1
        idea = SignalIdea(
            symbol=rng.choice(COINS),
            exchange="bybit",
            timeframe=rng.choice(("1h", "4h")),
            direction=direction,  # type: ignore[arg-type]
            entry=entry,
            stop=entry - sign * risk,
            targets=(entry + sign * 2 * risk,),
            confidence=rng.randint(0, 100),
            reason=("trend_up",),
            signal_at=at,
            valid_until=at + timedelta(hours=12),
            strategy="trend",
            version=rng.choice(("1", "1", "2")),
        )
        signal_id = await repo.add(new_signal(idea))
        assert signal_id is not None
        status = rng.choice(("tp", "sl", "sl", "expired"))
        result_r = {"tp": 1.9, "sl": -1.1}.get(status, rng.uniform(-0.9, 0.9))
        unfilled = status == "expired" and rng.random() < 0.2
        await repo.close(
            signal_id,
            status=status,
            exit_price=None if unfilled else entry + sign * risk * result_r,
            closed_at=at + timedelta(hours=rng.randint(1, 12)),
            result_r=0.0 if unfilled else result_r,
            outcome_pct=0.0 if unfilled else result_r * risk / entry * 100,
            fee_pct=0.055,
            slippage_pct=0.02,
        )


def recompute(rows: list[tuple[float, float]]) -> dict[str, float]:
    r = np.array([row[0] for row in rows])
    pct = np.array([row[1] for row in rows])
    curve = np.cumsum(r)
    peaks = np.maximum.accumulate(np.concatenate(([0.0], curve)))[1:]
    wins, losses = r[r > 0], r[r < 0]
    win_rate = len(wins) / len(r)
    return {
        "trades": len(r),
        "win_rate": win_rate,
        "average_r": float(r.mean()),
        "profit_factor": float(wins.sum() / -losses.sum()),
        "expectancy_pct": float(pct.mean()),
        "max_drawdown_r": float((peaks - curve).max()),
        "sharpe": float(r.mean() / r.std(ddof=1)),
        "sortino": float(r.mean() / np.sqrt(np.mean(np.minimum(r, 0) ** 2))),
        "kelly": win_rate - (1 - win_rate) / (wins.mean() / -losses.mean()),
    }


@pytest.mark.parametrize(
    ("symbol", "timeframe", "period"), [(None, None, "all"), ("BTC", None, "90d"), (None, "4h", "30d")]
)
async def test_track_record_equals_a_recomputation_from_raw_rows(
    sessionmaker: async_sessionmaker[AsyncSession], symbol: str | None, timeframe: str | None, period: str
) -> None:
    async with sessionmaker() as session:
        await write_signals(session, random.Random(12), 140)
        await session.commit()
    since = {"all": NOW - timedelta(days=10_000), "90d": NOW - timedelta(days=90), "30d": NOW - timedelta(days=30)}
    async with sessionmaker() as session:
        records = await track_records(
            session, now=NOW, symbol=symbol, timeframe=timeframe, period=period, min_signals=5
        )
        where = "status <> 'open' AND closed_at >= :since"
        where += " AND symbol = :symbol" if symbol else ""
        where += " AND timeframe = :timeframe" if timeframe else ""
        query = "SELECT strategy_version, result_r, outcome_pct, exit_price, status FROM signals WHERE "
        params = {"since": since[period], "symbol": symbol, "timeframe": timeframe}
        raw = (await session.execute(text(query + where + " ORDER BY closed_at, id"), params)).all()
    assert {record.version for record in records} == {row[0] for row in raw}
    for record in records:
        mine = [row for row in raw if row[0] == record.version]
        filled = [(row[1], row[2]) for row in mine if not (row[4] == "expired" and row[3] is None)]
        expected = recompute(filled)
        got = record.performance
        assert got.signals == len(mine) and got.trades == expected["trades"] and got.enough
        for name in (
            "win_rate",
            "average_r",
            "profit_factor",
            "expectancy_pct",
            "max_drawdown_r",
            "sharpe",
            "sortino",
            "kelly",
        ):
            figure = getattr(got, name)
            assert figure is not None and figure.sample == len(filled), name
            assert figure.value == pytest.approx(expected[name], rel=1e-9, abs=1e-12), name


async def test_a_small_sample_shows_counts_but_no_figure(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        await write_signals(session, random.Random(3), 6)
        await session.commit()
    async with sessionmaker() as session:
        records = await track_records(session, now=NOW, min_signals=20)
    assert records and all(not record.performance.enough for record in records)
    assert sum(record.performance.signals for record in records) == 6
    assert all(record.performance.win_rate is None and record.performance.kelly is None for record in records)
