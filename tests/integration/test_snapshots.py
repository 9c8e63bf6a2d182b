"""`market_snapshots`: one row per (symbol, timeframe, candle), also under concurrent saves, on both backends."""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import MarketSnapshot as SnapshotRow
from db.repositories.snapshots import SnapshotRepository
from services.market import Candles, MarketSnapshot, MarketView, ResolvedSymbol, Ticker, analyze
from services.snapshots import candle_snapshot, recent_snapshots, save_snapshot, save_view
from standins.exchanges import generate_ohlcv

Sessions = async_sessionmaker[AsyncSession]
CANDLE = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
SNAP = MarketSnapshot(
    symbol="ETH/USDT",
    timeframe="1h",
    exchange="bybit",
    as_of=CANDLE,
    price=3_012.5,
    ema20=3_000.1,
    ema50=2_950.0,
    macd=12.5,
    rsi7=61.0,
    rsi14=57.2,
    atr=35.0,
    funding_rate=0.0001,
    open_interest=50_000.0,
    volume_ratio=1.2,
)


async def count(sessionmaker: Sessions) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(SnapshotRow)) or 0)


async def test_one_row_per_symbol_timeframe_and_candle(sessionmaker: Sessions) -> None:
    async with sessionmaker() as session:
        assert await save_snapshot(session, SNAP) is True
        assert await save_snapshot(session, replace(SNAP, price=3_020.0)) is False  # same candle: kept once
        assert await save_snapshot(session, replace(SNAP, timeframe="4h", as_of=CANDLE.replace(hour=4))) is True
        assert await save_snapshot(session, replace(SNAP, symbol="BTC/USDT", price=60_000.0)) is True
        assert await save_snapshot(session, replace(SNAP, as_of=CANDLE + timedelta(hours=1), price=3_030.0)) is True
    assert await count(sessionmaker) == 4
    async with sessionmaker() as session:
        rows = await recent_snapshots(session, "ETH/USDT", "1h")
        stored = await SnapshotRepository(session).get("ETH/USDT", "1h", CANDLE)
        since = await recent_snapshots(session, "ETH/USDT", "1h", since=CANDLE + timedelta(minutes=1))
    assert [(r.as_of, r.price) for r in rows] == [(CANDLE + timedelta(hours=1), 3_030.0), (CANDLE, 3_012.5)]
    assert stored is not None and stored.as_of == CANDLE and stored.as_of.tzinfo is not None
    assert (stored.rsi14, stored.funding_rate, stored.volume_ratio, stored.exchange) == (57.2, 0.0001, 1.2, "bybit")
    assert [r.as_of for r in since] == [CANDLE + timedelta(hours=1)]


async def test_concurrent_saves_of_one_candle_store_one_row(sessionmaker: Sessions) -> None:
    async def save(price: float) -> bool:
        async with sessionmaker() as session:
            return await save_snapshot(session, replace(SNAP, price=price))

    results = await asyncio.gather(*(save(3_000.0 + i) for i in range(8)))
    assert sorted(results) == [False] * 7 + [True]
    assert await count(sessionmaker) == 1


async def test_the_database_itself_refuses_a_second_row_for_a_candle(sessionmaker: Sessions) -> None:
    async with sessionmaker() as session:
        assert await save_snapshot(session, SNAP) is True
        await session.commit()
    async with sessionmaker() as session:
        session.add(SnapshotRow(symbol="ETH/USDT", timeframe="1h", exchange="okx", as_of=CANDLE, price=1.0))
        with pytest.raises(IntegrityError):
            await session.commit()
    assert await count(sessionmaker) == 1


async def test_missing_indicators_are_stored_as_null(sessionmaker: Sessions) -> None:
    warm_up = replace(SNAP, ema50=math.nan, macd=None, funding_rate=None, open_interest=math.inf)
    async with sessionmaker() as session:
        assert await save_snapshot(session, warm_up) is True
        row = await SnapshotRepository(session).get("ETH/USDT", "1h", CANDLE)
    assert row is not None and (row.ema50, row.macd, row.funding_rate, row.open_interest) == (None, None, None, None)
    async with sessionmaker() as session:
        with pytest.raises(ValueError, match="no finite price"):
            await save_snapshot(session, replace(SNAP, price=math.nan))
        with pytest.raises(ValueError, match="unknown snapshot fields"):
            await SnapshotRepository(session).add_once({**SNAP.as_dict(), "colour": "red"})
        with pytest.raises(ValueError, match="without as_of"):
            await SnapshotRepository(session).add_once({**SNAP.as_dict(), "as_of": None})


async def test_a_market_view_is_saved_by_its_last_candle(sessionmaker: Sessions) -> None:
    rows = generate_ohlcv(300, seed=11, regime="up", start_price=3_000, start_ms=1_767_225_600_000, timeframe="1h")
    candles = Candles.from_array(rows, exchange="bybit", symbol="ETH/USDT", timeframe="1h")
    resolved = ResolvedSymbol("ETH", "ETH", "USDT", "bybit", "ETH/USDT", "ETH/USDT:USDT", ("bybit",))
    ticker = Ticker("bybit", "ETH/USDT", candles.last_close, 1.0, 1e9, None, None, candles.last_time)
    first = MarketView(resolved, "1h", "bybit", candles.last_time + timedelta(minutes=5), ticker, candles,
                       analyze(candles), None)  # fmt: skip
    later = replace(first, as_of=candles.last_time + timedelta(minutes=40))  # a repeated request, same candle
    assert candle_snapshot(first).as_of == candle_snapshot(later).as_of == candles.last_time
    async with sessionmaker() as session:
        assert await save_view(session, first) is True
        assert await save_view(session, later) is False
        (row,) = await recent_snapshots(session, "ETH/USDT", "1h")
    assert row.as_of == candles.last_time and row.price == pytest.approx(candles.last_close)
    assert row.rsi14 == pytest.approx(first.analysis.indicators.rsi14)
