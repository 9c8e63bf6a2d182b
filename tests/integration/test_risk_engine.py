"""The risk engine against the fake Bybit over HTTP (real ccxt) and a real database, on both backends:
price alerts fire once per arming (last price and candle wicks), position warnings once per step,
market-risk pushes once per cooldown; one ticker request per tick."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Chat, Delivery, Feed, Position
from services.delivery import OutboxMessage
from services.i18n import Translations
from services.risk import LimitReached, RiskEngine
from services.risk.alerts import create_alert, rearm_alert
from services.risk.parse import parse_alert, parse_position
from services.risk.positions import add_position
from standins.exchanges import DEFAULT_NOW, FakeBybit, FakeClock, MarketEnv, market_env
from tests.integration.credits_factories import make_user

TICKERS = "/v5/market/tickers"


@dataclass
class Risk:
    env: MarketEnv
    engine: RiskEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    woken: list[int]

    @property
    def bybit(self) -> FakeBybit:
        return self.env.bybit

    @property
    def now(self) -> datetime:
        return datetime.fromtimestamp(self.env.clock.time(), UTC)

    def advance(self, seconds: float) -> datetime:
        self.env.clock.advance(seconds)
        return self.now

    async def deliveries(self, kind: str) -> list[Delivery]:
        async with self.sessionmaker() as session:
            rows = await session.execute(select(Delivery).where(Delivery.kind == kind).order_by(Delivery.id))
            return list(rows.scalars())


@pytest.fixture
async def risk(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[Risk]:
    async with market_env(exchanges=("bybit",), clock=FakeClock(DEFAULT_NOW)) as env:
        woken: list[int] = []
        engine = RiskEngine(sessionmaker, env.service, Translations(), on_enqueued=lambda: woken.append(1))
        yield Risk(env, engine, sessionmaker, woken)


async def _user(risk: Risk, plan: str = "free") -> tuple[int, int]:
    user_id = await make_user(risk.sessionmaker, plan=plan)
    return user_id, 900_000 + user_id


async def test_an_alert_fires_once_per_arming_with_one_ticker_request_per_tick(risk: Risk) -> None:
    user_id, chat_id = await _user(risk)
    price = risk.bybit.book.last_price("BTC")
    level = round(price * 1.05)
    async with risk.sessionmaker() as session:
        created = await create_alert(
            session,
            risk.env.service,
            user_id=user_id,
            chat_id=chat_id,
            request=parse_alert(f"btc > {level}"),
            now=risk.now,
        )
    alert_id = created.alert.id
    assert created.alert.condition == "above" and created.current == price

    risk.bybit.reset_counts()
    quiet = await risk.engine.tick(risk.advance(60))
    assert (quiet.alerts, quiet.priced, quiet.fired) == (1, 1, 0)
    assert risk.bybit.count(TICKERS) == 1

    risk.advance(60)
    risk.bybit.set_price("BTC", level * 1.01)
    fired = await risk.engine.tick(risk.now)
    assert fired.fired == 1 and risk.woken
    (row,) = await risk.deliveries("alert")
    assert (row.ref_id, row.chat_id) == (f"{alert_id}:1", chat_id)
    text = OutboxMessage.from_json(row.payload).text
    assert "BTC/USDT" in text and "rose above" in text

    # crossing again without re-arming: nothing
    risk.bybit.set_price("BTC", level * 0.98)
    await risk.engine.tick(risk.advance(60))
    risk.bybit.set_price("BTC", level * 1.02)
    again = await risk.engine.tick(risk.advance(60))
    assert again.alerts == 0 and again.fired == 0
    assert len(await risk.deliveries("alert")) == 1

    async with risk.sessionmaker() as session:
        rearmed = await rearm_alert(session, risk.env.service, user_id=user_id, alert_id=alert_id, now=risk.now)
    assert rearmed is not None and rearmed.generation == 2 and rearmed.active
    risk.bybit.reset_counts()
    await risk.engine.tick(risk.advance(60))
    assert [d.ref_id for d in await risk.deliveries("alert")] == [f"{alert_id}:1", f"{alert_id}:2"]
    assert risk.bybit.count(TICKERS) == 1


async def test_a_spike_inside_a_candle_fires_at_the_scan(risk: Risk) -> None:
    user_id, chat_id = await _user(risk)
    price = risk.bybit.book.last_price("ETH")
    level = round(price * 0.95, 2)
    async with risk.sessionmaker() as session:
        created = await create_alert(
            session,
            risk.env.service,
            user_id=user_id,
            chat_id=chat_id,
            request=parse_alert(f"eth < {level}"),
            now=risk.now,
        )
    risk.advance(180)  # 10:05:30: a 5m candle that opened after the alert was armed
    risk.bybit.set_price("ETH", price, low=level * 0.99)  # a wick through the level, last price back up
    tick = await risk.engine.tick(risk.now)
    assert tick.priced == 1 and tick.fired == 0
    scan = await risk.engine.scan(risk.advance(300), "5m")  # 10:10:30, after that candle closed
    assert scan.fired == 1 and scan.snapshots == 1
    (row,) = await risk.deliveries("alert")
    assert row.ref_id == f"{created.alert.id}:1"
    assert "fell below" in OutboxMessage.from_json(row.payload).text
    assert (await risk.engine.scan(risk.advance(300), "5m")).fired == 0


async def test_position_warnings_once_per_step(risk: Risk) -> None:
    user_id, chat_id = await _user(risk)
    entry = risk.bybit.book.last_price("BTC")
    request = parse_position(f"add btc long 10x entry {entry} sl {entry * 0.93:.2f}")
    async with risk.sessionmaker() as session:
        view = await add_position(
            session,
            risk.env.service,
            risk.engine.config,
            user_id=user_id,
            chat_id=chat_id,
            request=request,
            now=risk.now,
        )
    liquidation = view.liquidation_price
    assert liquidation is not None and liquidation == pytest.approx(entry * 0.905)  # BTC on Bybit: maintenance 0.5 %

    def at(share: float) -> float:
        return entry - share * (entry - liquidation)

    steps: list[str] = []
    for share in (0.3, 0.55, 0.6, 0.85, 0.9):
        risk.advance(60)
        risk.bybit.set_price("BTC", at(share))
        await risk.engine.tick(risk.now)
        steps = [d.ref_id.split(":")[1] for d in await risk.deliveries("position")]
    assert steps == ["50", "80", "sl"]  # 85 % is past the stop (93 % of entry = 70 % of the way)
    async with risk.sessionmaker() as session:
        stored = await session.get(Position, view.id)
        assert stored is not None and stored.warned == "50,80,sl"


async def test_plan_limits(risk: Risk) -> None:
    user_id, chat_id = await _user(risk)
    async with risk.sessionmaker() as session:
        for level in (1, 2, 3):  # free: 3 active alerts
            await create_alert(
                session,
                risk.env.service,
                user_id=user_id,
                chat_id=chat_id,
                request=parse_alert(f"btc > {level}m"),
                now=risk.now,
            )
        with pytest.raises(LimitReached) as caught:
            await create_alert(
                session,
                risk.env.service,
                user_id=user_id,
                chat_id=chat_id,
                request=parse_alert("btc > 4m"),
                now=risk.now,
            )
        assert (caught.value.limit, caught.value.plan) == (3, "Free")
        for _ in range(2):  # free: 2 positions
            await add_position(
                session,
                risk.env.service,
                risk.engine.config,
                user_id=user_id,
                chat_id=chat_id,
                request=parse_position("add sol long 5x entry 150"),
                now=risk.now,
            )
        with pytest.raises(LimitReached):
            await add_position(
                session,
                risk.env.service,
                risk.engine.config,
                user_id=user_id,
                chat_id=chat_id,
                request=parse_position("add sol long 5x entry 150"),
                now=risk.now,
            )


async def test_market_risk_goes_to_risk_feeds_once_per_cooldown(risk: Risk) -> None:
    risk.bybit.book.specs["BTC"].funding_rate = 0.003  # extreme: 0.3 % per 8 h
    async with risk.sessionmaker() as session:
        session.add_all(
            [
                Chat(id=-100500, type="supergroup", title="Desk", locale="zh", is_forum=True),
                Chat(id=-100600, type="group", title="Off", locale="en"),
            ]
        )
        await session.flush()
        session.add_all(
            [
                Feed(chat_id=-100500, kind="risk", symbols="BTC,ETH", timeframes="1h", level="silent", thread_id=7),
                Feed(chat_id=-100600, kind="risk", symbols="BTC", timeframes="1h", level="off"),
                Feed(chat_id=-100500, kind="signals", symbols="SOL", timeframes="1h"),
            ]
        )
        await session.commit()

    async def funding() -> list[Delivery]:
        return [d for d in await risk.deliveries("risk") if ":funding:" in d.ref_id]

    first = await risk.engine.scan(risk.now, "1h")
    assert first.snapshots == 3  # BTC, ETH (risk) and SOL (signals) on 1h
    (row,) = await funding()
    message = OutboxMessage.from_json(row.payload)
    assert row.chat_id == -100500 and row.ref_id.startswith("BTC:funding:1h:")
    assert message.disable_notification and message.message_thread_id == 7
    assert "资金费率极端" in message.text and "+0.3000%" in message.text
    await risk.engine.scan(risk.advance(1800), "1h")
    assert len(await funding()) == 1  # within the hour's cooldown
    await risk.engine.scan(risk.advance(1800), "1h")
    assert len(await funding()) == 2
