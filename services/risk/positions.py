"""Declared positions (no exchange keys): add with the computed liquidation price, list, close,
delete. Each function owns its unit of work and commits; none holds a transaction across exchange I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories.risk import PositionRepository, PositionRow
from services.intent import resolve_coin
from services.market import MarketService
from services.risk.config import RiskConfig
from services.risk.limits import LimitReached, risk_limits
from services.risk.liquidation import liquidation_price, mmr_for
from services.risk.parse import PositionRequest

POSITIONS = "positions"


# What the handlers show: the repository's plain row (no ORM object leaves the repository).
PositionView = PositionRow


@dataclass(frozen=True, slots=True)
class PositionList:
    positions: list[PositionView]
    limit: int


async def _room(session: AsyncSession, user_id: int, now: datetime) -> None:
    limits = await risk_limits(session, user_id, now)
    if await PositionRepository(session).count_open(user_id) >= limits.max_positions:
        await session.rollback()
        raise LimitReached(POSITIONS, limits.max_positions, limits.plan)


async def add_position(
    session: AsyncSession,
    market: MarketService,
    config: RiskConfig,
    *,
    user_id: int,
    chat_id: int,
    request: PositionRequest,
    now: datetime,
) -> PositionView:
    """Raises `LimitReached`, `LiquidationError` (leverage too high for the maintenance rate) and the
    market's errors (`UnknownSymbol`…)."""
    await _room(session, user_id, now)
    await session.commit()  # no transaction held while the markets load or the coin resolves
    resolved = await resolve_coin(market, request.coin)
    notional = float(request.entry * request.size)
    mmr = mmr_for(config.mmr_rates, resolved.exchange, resolved.base, notional, config.mmr_tiers)
    liquidation = liquidation_price(request.side, request.entry, request.leverage, mmr)
    await _room(session, user_id, now)
    repository = PositionRepository(session)
    position_id = await repository.add(
        user_id=user_id,
        chat_id=chat_id,
        symbol=resolved.base,
        exchange=resolved.exchange,
        side=request.side,
        entry=float(request.entry),
        leverage=float(request.leverage),
        size=float(request.size),
        stop=float(request.stop) if request.stop is not None else None,
        take_profit=float(request.take_profit) if request.take_profit is not None else None,
        liquidation_price=float(liquidation),
        mmr=float(mmr),
        active=True,
        warned="",
        created_at=now,
    )
    row = await repository.get(position_id)
    await session.commit()
    assert row is not None
    return row


async def list_positions(session: AsyncSession, user_id: int, now: datetime) -> PositionList:
    limits = await risk_limits(session, user_id, now)
    rows = await PositionRepository(session).for_user(user_id)
    await session.commit()
    return PositionList(list(rows), limits.max_positions)


async def close_position(session: AsyncSession, user_id: int, position_id: int, now: datetime) -> bool:
    closed = await PositionRepository(session).close(position_id, user_id, now)
    await session.commit()
    return closed


async def delete_position(session: AsyncSession, user_id: int, position_id: int) -> bool:
    deleted = await PositionRepository(session).delete(position_id, user_id)
    await session.commit()
    return deleted
