"""`market_snapshots`: one row per (symbol, timeframe, as_of), a unique constraint. Never commits.

"Insert once" is `INSERT … ON CONFLICT DO NOTHING` (PostgreSQL and SQLite both have it), so concurrent
requests, other replicas included, cannot both insert and neither sees an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.market import MarketSnapshot
from db.repositories.dialect import insert_ignore

SNAPSHOT_FIELDS: tuple[str, ...] = (
    "symbol",
    "timeframe",
    "exchange",
    "as_of",
    "price",
    "ema20",
    "ema50",
    "macd",
    "rsi7",
    "rsi14",
    "atr",
    "funding_rate",
    "open_interest",
    "volume_ratio",
)


class SnapshotRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_once(self, values: Mapping[str, Any]) -> bool:
        """Insert the row unless one with the same (symbol, timeframe, as_of) exists. True if inserted."""
        missing = [name for name in ("symbol", "timeframe", "as_of", "price") if values.get(name) is None]
        if missing:
            raise ValueError(f"snapshot without {', '.join(missing)}")
        unknown = set(values) - set(SNAPSHOT_FIELDS)
        if unknown:
            raise ValueError(f"unknown snapshot fields: {', '.join(sorted(unknown))}")
        row = {name: values[name] for name in SNAPSHOT_FIELDS if name in values}
        statement = insert_ignore(self.session, MarketSnapshot, row, "symbol", "timeframe", "as_of").returning(
            MarketSnapshot.id
        )
        return (await self.session.execute(statement)).first() is not None

    async def get(self, symbol: str, timeframe: str, as_of: datetime) -> MarketSnapshot | None:
        return await self.session.scalar(
            select(MarketSnapshot)
            .where(
                MarketSnapshot.symbol == symbol, MarketSnapshot.timeframe == timeframe, MarketSnapshot.as_of == as_of
            )
            .order_by(MarketSnapshot.id)
            .limit(1)
        )

    async def recent(
        self, symbol: str, timeframe: str, *, limit: int = 100, since: datetime | None = None
    ) -> Sequence[MarketSnapshot]:
        """The newest rows first (at most `limit`), optionally only those from `since` on."""
        statement = select(MarketSnapshot).where(MarketSnapshot.symbol == symbol, MarketSnapshot.timeframe == timeframe)
        if since is not None:
            statement = statement.where(MarketSnapshot.as_of >= since)
        statement = statement.order_by(MarketSnapshot.as_of.desc(), MarketSnapshot.id.desc()).limit(limit)
        return (await self.session.scalars(statement)).all()
