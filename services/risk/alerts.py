"""Price alerts as users manage them: create (with the plan limit), list, delete, re-arm.

Every function owns its unit of work and commits; none keeps a transaction open across exchange
I/O (the limit check commits before the coin is resolved and priced, and is repeated in the write).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories.risk import AlertRepository, AlertRow
from services.intent import resolve_coin
from services.market import MarketService
from services.risk.limits import LimitReached, risk_limits
from services.risk.parse import ABOVE, BELOW, MOVE, AlertRequest

ALERTS = "alerts"


# What the handlers show: the repository's plain row (no ORM object leaves the repository).
AlertView = AlertRow


@dataclass(frozen=True, slots=True)
class AlertCreated:
    alert: AlertView
    current: float  # the price when it was set


@dataclass(frozen=True, slots=True)
class AlertList:
    alerts: list[AlertView]
    active: int
    limit: int


async def _room(session: AsyncSession, user_id: int, now: datetime) -> None:
    limits = await risk_limits(session, user_id, now)
    if await AlertRepository(session).count_active(user_id) >= limits.max_alerts:
        await session.rollback()
        raise LimitReached(ALERTS, limits.max_alerts, limits.plan)


async def create_alert(
    session: AsyncSession, market: MarketService, *, user_id: int, chat_id: int, request: AlertRequest, now: datetime
) -> AlertCreated:
    """Raises `LimitReached`, and the market's errors (`UnknownSymbol`, `ExchangeUnavailable`…)."""
    await _room(session, user_id, now)
    await session.commit()  # no transaction held while the exchange answers
    resolved = await resolve_coin(market, request.coin)
    ticker = await market.ticker(resolved)
    if request.condition == MOVE:
        condition, level = MOVE, ticker.price
    else:
        assert request.price is not None
        level = float(request.price)
        condition = request.condition or (ABOVE if level > ticker.price else BELOW)
    await _room(session, user_id, now)
    repository = AlertRepository(session)
    alert_id = await repository.add(
        user_id=user_id,
        chat_id=chat_id,
        symbol=resolved.base,
        exchange=ticker.exchange,
        condition=condition,
        price=level,
        pct=float(request.pct) if request.pct is not None else None,
        window=request.window,
        active=True,
        armed_at=now,
        generation=1,
        last_price=ticker.price,
    )
    row = await repository.get(alert_id)
    await session.commit()
    assert row is not None
    return AlertCreated(row, ticker.price)


async def list_alerts(session: AsyncSession, user_id: int, now: datetime) -> AlertList:
    limits = await risk_limits(session, user_id, now)
    rows = await AlertRepository(session).for_user(user_id)
    await session.commit()
    views = list(rows)
    return AlertList(views, sum(1 for view in views if view.active), limits.max_alerts)


async def delete_alert(session: AsyncSession, user_id: int, alert_id: int) -> bool:
    deleted = await AlertRepository(session).delete(alert_id, user_id)
    await session.commit()
    return deleted


async def rearm_alert(
    session: AsyncSession, market: MarketService, *, user_id: int, alert_id: int, now: datetime
) -> AlertView | None:
    """Arm a fired alert again (a new generation, so it can fire once more); None when it is gone or
    already armed. A move alert measures from the price now. Raises `LimitReached`."""
    repository = AlertRepository(session)
    row = await repository.get(alert_id)
    if row is None or row.user_id != user_id or row.active:
        await session.commit()
        return None
    await _room(session, user_id, now)
    await session.commit()
    reference = (await market.ticker(row.symbol)).price if row.condition == MOVE else None
    await _room(session, user_id, now)
    changed = await repository.rearm(alert_id, user_id, now, reference)
    fresh = await repository.get(alert_id)
    await session.commit()
    return fresh if changed else None
