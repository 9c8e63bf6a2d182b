"""`price_alerts`, `positions` and `risk_cooldowns`. Never commits (the risk services do).

Disarming an alert and recording a position's warning step are compare-and-set updates (on the
alert's generation, on the position's `warned` list), so a tick racing a user's re-arm or another
replica's tick changes a row at most once; the outbox's unique ref id is the second guard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.market import Position, PriceAlert, RiskCooldown
from db.models.users import User
from db.repositories.dialect import dialect_insert


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    user_id: int
    chat_id: int
    symbol: str
    exchange: str
    condition: str
    price: float
    pct: float | None
    window: str | None
    active: bool
    armed_at: datetime | None
    generation: int
    triggered_at: datetime | None
    last_price: float | None
    locale: str | None  # the owner's explicit language
    language_code: str | None  # … and Telegram's


@dataclass(frozen=True, slots=True)
class PositionRow:
    id: int
    user_id: int
    chat_id: int | None
    symbol: str
    exchange: str
    side: str
    entry: float
    leverage: float
    size: float
    stop: float | None
    take_profit: float | None
    liquidation_price: float | None
    mmr: float | None
    warned: str
    active: bool
    created_at: datetime
    closed_at: datetime | None
    locale: str | None
    language_code: str | None


_ALERT_FIELDS = tuple(name for name in AlertRow.__dataclass_fields__ if name not in ("locale", "language_code"))
_POSITION_FIELDS = tuple(name for name in PositionRow.__dataclass_fields__ if name not in ("locale", "language_code"))


def _alert_select() -> Any:
    columns = [PriceAlert.__table__.c[name] for name in _ALERT_FIELDS]
    return select(*columns, User.locale, User.language_code).join(User, User.id == PriceAlert.user_id)


def _position_select() -> Any:
    columns = [Position.__table__.c[name] for name in _POSITION_FIELDS]
    return select(*columns, User.locale, User.language_code).join(User, User.id == Position.user_id)


def _alert(row: Any) -> AlertRow:
    return AlertRow(*row)  # columns in field order: plain tuples, no ORM objects (10,000s per tick)


def _position(row: Any) -> PositionRow:
    return PositionRow(*row)


class AlertRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _select(self) -> Any:
        return _alert_select()

    async def count_active(self, user_id: int) -> int:
        statement = select(func.count()).where(PriceAlert.user_id == user_id, PriceAlert.active.is_(True))
        return int((await self.session.execute(statement)).scalar_one())

    async def add(self, **values: Any) -> int:
        alert = PriceAlert(**values)
        self.session.add(alert)
        await self.session.flush()
        return alert.id

    async def for_user(self, user_id: int, limit: int = 50) -> Sequence[AlertRow]:
        statement = (
            self._select()
            .where(PriceAlert.user_id == user_id)
            .order_by(PriceAlert.active.desc(), PriceAlert.id)
            .limit(limit)
        )
        return [_alert(row) for row in (await self.session.execute(statement)).all()]

    async def get(self, alert_id: int) -> AlertRow | None:
        row = (await self.session.execute(self._select().where(PriceAlert.id == alert_id))).first()
        return _alert(row) if row is not None else None

    async def armed(self) -> Sequence[AlertRow]:
        statement = self._select().where(PriceAlert.active.is_(True)).order_by(PriceAlert.id)
        return [_alert(row) for row in (await self.session.execute(statement)).all()]

    async def armed_symbols(self) -> set[str]:
        statement = select(PriceAlert.symbol).where(PriceAlert.active.is_(True)).distinct()
        return set((await self.session.execute(statement)).scalars().all())

    async def delete(self, alert_id: int, user_id: int) -> bool:
        statement = delete(PriceAlert).where(PriceAlert.id == alert_id, PriceAlert.user_id == user_id)
        return bool((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def rearm(self, alert_id: int, user_id: int, now: datetime, price: float | None) -> bool:
        """A fired alert armed again: a new generation, armed from `now` (a move alert's reference
        becomes `price`)."""
        values: dict[str, Any] = {
            "active": True,
            "armed_at": now,
            "generation": PriceAlert.generation + 1,
            "triggered_at": None,
        }
        if price is not None:
            values["price"] = price
        statement = (
            update(PriceAlert)
            .where(PriceAlert.id == alert_id, PriceAlert.user_id == user_id, PriceAlert.active.is_(False))
            .values(**values)
        )
        return bool((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def disarm(self, alert_id: int, generation: int, now: datetime, price: float) -> bool:
        """Fired: only if this generation is still armed (True when this call disarmed it)."""
        statement = (
            update(PriceAlert)
            .where(PriceAlert.id == alert_id, PriceAlert.generation == generation, PriceAlert.active.is_(True))
            .values(active=False, triggered_at=now, last_price=price)
        )
        return bool((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def disarm_many(self, fired: Sequence[tuple[int, int, float]], now: datetime) -> set[int]:
        """`disarm` for many (id, generation, price) at once, in one statement: the ids it disarmed."""
        if not fired:
            return set()
        keys = [(alert_id, generation) for alert_id, generation, _ in fired]
        prices = {alert_id: price for alert_id, _, price in fired}
        statement = (
            update(PriceAlert)
            .where(tuple_(PriceAlert.id, PriceAlert.generation).in_(keys), PriceAlert.active.is_(True))
            .values(active=False, triggered_at=now, last_price=case(prices, value=PriceAlert.id))
            .returning(PriceAlert.id)
            .execution_options(synchronize_session=False)
        )
        return set((await self.session.execute(statement)).scalars().all())

    async def roll_window(self, alert_id: int, generation: int, now: datetime, price: float) -> bool:
        """A move alert's window passed without the move: the next window starts at `price`, `now`."""
        statement = (
            update(PriceAlert)
            .where(PriceAlert.id == alert_id, PriceAlert.generation == generation, PriceAlert.active.is_(True))
            .values(price=price, armed_at=now, last_price=price)
        )
        return bool((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]


class PositionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _select(self) -> Any:
        return _position_select()

    async def count_open(self, user_id: int) -> int:
        statement = select(func.count()).where(Position.user_id == user_id, Position.active.is_(True))
        return int((await self.session.execute(statement)).scalar_one())

    async def add(self, **values: Any) -> int:
        position = Position(**values)
        self.session.add(position)
        await self.session.flush()
        return position.id

    async def for_user(self, user_id: int, limit: int = 50) -> Sequence[PositionRow]:
        statement = (
            self._select()
            .where(Position.user_id == user_id, Position.active.is_(True))
            .order_by(Position.id)
            .limit(limit)
        )
        return [_position(row) for row in (await self.session.execute(statement)).all()]

    async def get(self, position_id: int) -> PositionRow | None:
        row = (await self.session.execute(self._select().where(Position.id == position_id))).first()
        return _position(row) if row is not None else None

    async def open(self) -> Sequence[PositionRow]:
        statement = self._select().where(Position.active.is_(True)).order_by(Position.id)
        return [_position(row) for row in (await self.session.execute(statement)).all()]

    async def open_symbols(self) -> set[str]:
        statement = select(Position.symbol).where(Position.active.is_(True)).distinct()
        return set((await self.session.execute(statement)).scalars().all())

    async def close(self, position_id: int, user_id: int, now: datetime) -> bool:
        statement = (
            update(Position)
            .where(Position.id == position_id, Position.user_id == user_id, Position.active.is_(True))
            .values(active=False, closed_at=now)
        )
        return bool((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def delete(self, position_id: int, user_id: int) -> bool:
        statement = delete(Position).where(Position.id == position_id, Position.user_id == user_id)
        return bool((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def set_warned(self, position_id: int, before: str, after: str) -> bool:
        """Compare-and-set of the warned steps: False when another tick recorded them first."""
        statement = (
            update(Position)
            .where(Position.id == position_id, Position.warned == before, Position.active.is_(True))
            .values(warned=after)
        )
        return bool((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]


class CooldownRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, chat_id: int, symbol: str, kind: str, now: datetime, cutoff: datetime) -> bool:
        """Record `now` unless an alert of this kind went to this chat for this coin after `cutoff`.
        True when the caller may send (an upsert whose update only applies past the cooldown)."""
        insert = dialect_insert(self.session, RiskCooldown).values(
            chat_id=chat_id, symbol=symbol, kind=kind, fired_at=now
        )
        statement = insert.on_conflict_do_update(
            index_elements=["chat_id", "symbol", "kind"],
            set_={"fired_at": now},
            where=and_(RiskCooldown.fired_at <= cutoff),
        )
        return bool((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]
