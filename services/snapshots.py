"""Saving analyses as `market_snapshots` rows: one per (symbol, timeframe, candle).

A snapshot is keyed by the open time of the candle the analysis ended on (`Analysis.as_of`), not by
the wall-clock time of the request, so asking for the same chart twice within one candle stores one
row (the first analysis of that candle wins). This module owns the unit of work and commits.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.market import MarketSnapshot as SnapshotRow
from db.repositories.snapshots import SnapshotRepository
from services.market import MarketSnapshot, MarketView

log = logging.getLogger(__name__)


def candle_snapshot(view: MarketView) -> MarketSnapshot:
    """The record of `view`'s analysis, keyed by its last candle (price from the same candles)."""
    return view.analysis.snapshot()


def _clean(value: float | None) -> float | None:
    """NaN/inf (an indicator without enough warm-up) is stored as NULL."""
    return value if value is not None and math.isfinite(value) else None


async def save_snapshot(session: AsyncSession, snapshot: MarketSnapshot) -> bool:
    """Store `snapshot` unless its (symbol, timeframe, as_of) is stored already; commits. True if new."""
    values = snapshot.as_dict()
    for name, value in values.items():
        if isinstance(value, float):
            values[name] = _clean(value)
    if values["price"] is None:
        raise ValueError(f"snapshot of {snapshot.symbol} has no finite price")
    created = await SnapshotRepository(session).add_once(values)
    await session.commit()
    return created


async def save_view(session: AsyncSession, view: MarketView) -> bool:
    """`save_snapshot` of the analysis a /chart answer draws (the command and its timeframe buttons).

    The row is a by-product of the answer: a database error is logged and rolled back here and the
    answer goes on (False), so no caller has to handle the database's exceptions."""
    try:
        return await save_snapshot(session, candle_snapshot(view))
    except SQLAlchemyError:
        log.exception("could not save the market snapshot of %s %s", view.resolved.pair, view.timeframe)
        await session.rollback()
        return False


async def recent_snapshots(
    session: AsyncSession, symbol: str, timeframe: str, *, limit: int = 100, since: datetime | None = None
) -> Sequence[SnapshotRow]:
    """Stored snapshots of one market and timeframe, newest first."""
    return await SnapshotRepository(session).recent(symbol, timeframe, limit=limit, since=since)
