"""Track records read from the `signals` table: one per strategy and version (a change of rules starts
a new record instead of blending into the old one), for a coin, a timeframe and a period."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories.signals import SignalRepository
from services.market.errors import UnsupportedTimeframe
from services.market.timeframes import validate_timeframe
from services.signals.model import SignalRecord
from services.signals.performance import DEFAULT_MIN_SIGNALS, Performance, performance, trades_of_records

PERIODS: dict[str, int | None] = {"30d": 30, "90d": 90, "all": None}  # days back from now (closes)
COIN = re.compile(r"[A-Z0-9]{1,20}")
MAX_RECORDS = 3  # strategies/versions shown, the most recently active first


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackRecord:
    strategy: str
    version: str
    performance: Performance


def since_of(period: str, now: datetime) -> datetime | None:
    days = PERIODS[period]
    return None if days is None else now - timedelta(days=days)


def group_records(rows: Sequence[SignalRecord], *, min_signals: int) -> list[TrackRecord]:
    """One track record per (strategy, version), the one with the latest close first."""
    groups: dict[tuple[str, str], list[SignalRecord]] = {}
    last: dict[tuple[str, str], int] = {}
    for index, row in enumerate(rows):  # oldest close first
        groups.setdefault((row.strategy, row.version), []).append(row)
        last[(row.strategy, row.version)] = index
    keys = sorted(groups, key=last.__getitem__, reverse=True)[:MAX_RECORDS]
    return [
        TrackRecord(
            strategy=key[0],
            version=key[1],
            performance=performance(trades_of_records(groups[key]), min_signals=min_signals),
        )
        for key in keys
    ]


async def track_records(
    session: AsyncSession,
    *,
    now: datetime,
    symbol: str | None = None,
    timeframe: str | None = None,
    period: str = "all",
    min_signals: int = DEFAULT_MIN_SIGNALS,
) -> list[TrackRecord]:
    """The track records of a scope; ends its read transaction (no connection held while the caller replies)."""
    rows = await SignalRepository(session).closed(since=since_of(period, now), symbol=symbol, timeframe=timeframe)
    await session.rollback()
    return group_records(rows, min_signals=min_signals)


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    symbol: str | None = None
    timeframe: str | None = None
    period: str = "all"


def parse_scope(text: str) -> Scope | None:
    """`[coin] [timeframe] [30d|90d|all]` in any order; None when a word fits none or repeats."""
    found: dict[str, str] = {}
    for word in text.split():
        key, value = "period", word.lower()
        if value not in PERIODS:
            try:
                key, value = "timeframe", validate_timeframe(word)
            except UnsupportedTimeframe:
                key, value = "symbol", word.lstrip("$").upper()
                if not COIN.fullmatch(value):
                    return None
        if key in found:
            return None
        found[key] = value
    return Scope(**found)
