"""`signals`: stored signals and their graded outcomes. Never commits (the signals services do).

Adding skips a signal when one is already open for the same (coin, timeframe, direction, source)
(the partial unique index `uq_signals_open`), so two replicas or a re-run tick publish it once.
Closing is a compare-and-set on `status = 'open'`: an outcome is recorded once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.market import Signal
from db.repositories.dialect import dialect_insert

OPEN_KEY = ("symbol", "timeframe", "direction", "source")
Direction = Literal["long", "short"]
Status = Literal["open", "tp", "sl", "expired"]
Source = Literal["auto", "manual"]


@dataclass(frozen=True, slots=True, kw_only=True)
class NewSignal:
    symbol: str
    exchange: str
    timeframe: str
    direction: str
    entry: float
    stop: float
    targets: tuple[float, ...]
    confidence: int
    reason: tuple[str, ...]
    strategy: str
    version: str
    source: str
    created_by: int | None
    note: str
    signal_at: datetime
    valid_until: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalRow:
    """A stored signal (services.signals.model.SignalRow), with its outcome once graded."""

    id: int
    symbol: str
    exchange: str
    timeframe: str
    direction: Direction
    entry: float
    stop: float
    targets: tuple[float, ...]
    confidence: int
    reason: tuple[str, ...]
    strategy: str
    version: str
    source: Source
    created_by: int | None
    note: str
    commentary: str | None
    signal_at: datetime | None
    valid_until: datetime
    created_at: datetime
    status: Status
    exit_price: float | None = None
    closed_at: datetime | None = None
    result_r: float | None = None  # after costs
    outcome_pct: float | None = None  # after costs
    fee_pct: float | None = None  # the costs applied (per side, percent)
    slippage_pct: float | None = None

    @property
    def risk(self) -> float:
        return abs(self.entry - self.stop)

    def r_multiples(self) -> tuple[float, ...]:
        return tuple(abs(target - self.entry) / self.risk for target in self.targets)


def _targets(raw: str, first: float) -> tuple[float, ...]:
    values = tuple(float(part) for part in raw.split(",") if part)
    return values or (first,)


def _record(row: Signal) -> SignalRow:
    return SignalRow(
        id=row.id,
        symbol=row.symbol,
        exchange=row.exchange,
        timeframe=row.timeframe,
        direction=cast(Direction, row.direction),
        entry=row.entry,
        stop=row.stop,
        targets=_targets(row.take_profits, row.take_profit),
        confidence=round(row.confidence),
        reason=tuple(code for code in row.reason.split(",") if code),
        strategy=row.strategy,
        version=row.strategy_version,
        source=cast(Source, row.source),
        created_by=row.created_by,
        note=row.note,
        commentary=row.commentary,
        signal_at=row.signal_at,
        valid_until=row.valid_until,
        created_at=row.created_at,
        status=cast(Status, row.status),
        exit_price=row.exit_price,
        closed_at=row.closed_at,
        result_r=row.result_r,
        outcome_pct=row.outcome_pct,
        fee_pct=row.fee_pct,
        slippage_pct=row.slippage_pct,
    )


class SignalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, idea: NewSignal, *, commentary: str | None = None) -> int | None:
        """The new signal's id, or None when one is already open for its (coin, timeframe, direction, source)."""
        values: dict[str, Any] = {
            "symbol": idea.symbol,
            "exchange": idea.exchange,
            "timeframe": idea.timeframe,
            "direction": idea.direction,
            "entry": idea.entry,
            "stop": idea.stop,
            "take_profit": idea.targets[0],
            "take_profits": ",".join(repr(float(target)) for target in idea.targets),
            "confidence": float(idea.confidence),
            "strategy": idea.strategy,
            "strategy_version": idea.version,
            "reason": ",".join(idea.reason),
            "note": idea.note,
            "commentary": commentary,
            "source": idea.source,
            "created_by": idea.created_by,
            "signal_at": idea.signal_at,
            "valid_until": idea.valid_until,
            "status": "open",
        }
        statement = (
            dialect_insert(self.session, Signal)
            .values(values)
            .on_conflict_do_nothing(index_elements=list(OPEN_KEY), index_where=text("status = 'open'"))
            .returning(Signal.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def get(self, signal_id: int) -> SignalRow | None:
        row = await self.session.get(Signal, signal_id)
        return _record(row) if row is not None else None

    async def is_open(self, symbol: str, timeframe: str, direction: str, source: str = "auto") -> bool:
        found = await self.session.scalar(
            select(Signal.id).where(
                Signal.symbol == symbol,
                Signal.timeframe == timeframe,
                Signal.direction == direction,
                Signal.source == source,
                Signal.status == "open",
            )
        )
        return found is not None

    async def open_signals(self) -> list[SignalRow]:
        rows = await self.session.scalars(select(Signal).where(Signal.status == "open").order_by(Signal.id))
        return [_record(row) for row in rows]

    async def open_keys(self, timeframe: str | None = None) -> set[tuple[str, str, str, str]]:
        """(symbol, timeframe, direction, source) of the open signals: what the engine must not repeat."""
        statement = select(Signal.symbol, Signal.timeframe, Signal.direction, Signal.source).where(
            Signal.status == "open"
        )
        if timeframe is not None:
            statement = statement.where(Signal.timeframe == timeframe)
        return {(row[0], row[1], row[2], row[3]) for row in await self.session.execute(statement)}

    async def set_commentary(self, signal_id: int, commentary: str) -> None:
        await self.session.execute(update(Signal).where(Signal.id == signal_id).values(commentary=commentary))

    async def close(
        self,
        signal_id: int,
        *,
        status: str,
        exit_price: float | None,
        closed_at: datetime,
        result_r: float,
        outcome_pct: float,
        fee_pct: float,
        slippage_pct: float,
    ) -> bool:
        """Record the outcome once (True) — False when the signal was no longer open."""
        result = await self.session.execute(
            update(Signal)
            .where(Signal.id == signal_id, Signal.status == "open")
            .values(
                status=status,
                exit_price=exit_price,
                closed_at=closed_at,
                result_r=result_r,
                outcome_pct=outcome_pct,
                fee_pct=fee_pct,
                slippage_pct=slippage_pct,
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def closed(
        self,
        *,
        since: datetime | None = None,
        symbol: str | None = None,
        timeframe: str | None = None,
        strategy: str | None = None,
        version: str | None = None,
    ) -> Sequence[SignalRow]:
        """Closed signals (oldest close first), filtered: the rows a track record is computed from."""
        statement = select(Signal).where(Signal.status != "open")
        if since is not None:
            statement = statement.where(Signal.closed_at >= since)
        if symbol is not None:
            statement = statement.where(Signal.symbol == symbol)
        if timeframe is not None:
            statement = statement.where(Signal.timeframe == timeframe)
        if strategy is not None:
            statement = statement.where(Signal.strategy == strategy)
        if version is not None:
            statement = statement.where(Signal.strategy_version == version)
        rows = await self.session.scalars(statement.order_by(Signal.closed_at, Signal.id))
        return [_record(row) for row in rows]
