"""`market_snapshots`: one row per (symbol, timeframe, as_of). Never commits.

The table has only a non-unique lookup index on (symbol, timeframe, as_of), so "insert once" is one
`INSERT … SELECT … WHERE NOT EXISTS` statement; on PostgreSQL a transaction-scoped advisory lock on
the key comes first, so that concurrent requests (other replicas included) cannot both insert.
SQLite runs one writer at a time, which gives the same guarantee there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.market import MarketSnapshot

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


def advisory_key(*parts: object) -> int:
    """A stable signed 64-bit key for `pg_advisory_xact_lock` (Python's hash() is salted per process)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


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
        symbol, timeframe, as_of = values["symbol"], values["timeframe"], values["as_of"]
        if self.session.get_bind().dialect.name == "postgresql":
            key = advisory_key("market_snapshots", symbol, timeframe, as_of.isoformat())
            await self.session.execute(select(func.pg_advisory_xact_lock(key)))
        table = MarketSnapshot.__table__
        names = [name for name in SNAPSHOT_FIELDS if name in values]
        row = select(*(literal(values[name], table.c[name].type).label(name) for name in names)).where(
            ~exists().where(
                MarketSnapshot.symbol == symbol,
                MarketSnapshot.timeframe == timeframe,
                MarketSnapshot.as_of == as_of,
            )
        )
        statement = insert(MarketSnapshot).from_select(names, row).returning(MarketSnapshot.id)
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
