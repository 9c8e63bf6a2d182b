"""The outcome tracker against the fake Bybit over HTTP (real ccxt) and a real database, on both
backends: an open signal is closed from the candles once (compare-and-set, also under two trackers at
once), after costs per exchange, and its outcome goes to every chat that got the signal — as a reply
to that chat's message once sent, after it (unthreaded) while it waits, never to a chat it never
reached — in the chat's language, in its forum topic; expiry and an unfilled manual entry; an
exchange outage leaves the signal open for the next run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Chat, Delivery, DeliveryStatus, utcnow
from db.repositories.deliveries import DeliveryRepository
from db.repositories.signals import SignalRepository, SignalRow
from db.repositories.users import TelegramProfile, UserRepository
from services.delivery import OutboxMessage, enqueue_many
from services.i18n import Translations
from services.market.timeframes import candle_open
from services.signals.model import SignalIdea, new_signal
from services.signals.outcomes import CostTable
from services.signals.tracker import OutcomeTracker
from standins.exchanges import DEFAULT_NOW, FakeBybit, FakeClock, Fault, MarketEnv, market_env

HOUR_MS = 3_600_000
COSTS = CostTable(fees={"bybit": 0.05, "*": 0.1}, slippage_pct=0.05)  # 0.2 % round trip on Bybit
# The decision candle opens at 09:00 and closes at 10:00 (signal_at); the path starts at 10:00.
SIGNAL_AT = datetime.fromtimestamp(candle_open(int(DEFAULT_NOW * 1000), "1h") / 1000, UTC)
ENTRY, STOP, TARGET = 60_000.0, 58_800.0, 62_400.0  # 1 R = 1,200; the first target is 2 R
Bar = tuple[float, float, float, float]
FLAT: Bar = (60_000.0, 60_100.0, 59_900.0, 60_000.0)


def rows(path: Sequence[Bar], history: int = 60) -> np.ndarray:
    """1h candles: `history` flat ones closing at SIGNAL_AT at ENTRY, then `path`, then flat again."""
    start = int(SIGNAL_AT.timestamp() * 1000) - history * HOUR_MS
    bars = [FLAT] * history + list(path) + [path[-1] if path else FLAT] * 20
    return np.array([[start + i * HOUR_MS, *bar, 10.0] for i, bar in enumerate(bars)], dtype=np.float64)


def idea(**changes: object) -> SignalIdea:
    base = SignalIdea(
        symbol="BTC",
        exchange="bybit",
        timeframe="1h",
        direction="long",
        entry=ENTRY,
        stop=STOP,
        targets=(TARGET, 63_600.0),
        confidence=60,
        reason=("trend_up",),
        signal_at=SIGNAL_AT,
        valid_until=SIGNAL_AT + timedelta(hours=12),
        strategy="trend",
        version="1",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@dataclass
class Tracking:
    env: MarketEnv
    tracker: OutcomeTracker
    sessionmaker: async_sessionmaker[AsyncSession]
    woken: list[int]

    @property
    def bybit(self) -> FakeBybit:
        return self.env.bybit

    def at(self, hours: float) -> datetime:
        """Move the exchange's clock to SIGNAL_AT + hours (+5 s: just after that close)."""
        moment = SIGNAL_AT + timedelta(hours=hours, seconds=5)
        self.env.clock.set(moment.timestamp())
        return moment

    async def add(self, signal: SignalIdea) -> int:
        async with self.sessionmaker() as session:
            signal_id = await SignalRepository(session).add(new_signal(signal))
            await session.commit()
        assert signal_id is not None
        return signal_id

    async def signal(self, signal_id: int) -> SignalRow:
        async with self.sessionmaker() as session:
            row = await SignalRepository(session).get(signal_id)
        assert row is not None
        return row

    async def rows(self, kind: str) -> list[Delivery]:
        async with self.sessionmaker() as session:
            return list(await session.scalars(select(Delivery).where(Delivery.kind == kind).order_by(Delivery.id)))


@pytest.fixture
async def tracking(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[Tracking]:
    async with market_env(exchanges=("bybit",), clock=FakeClock(DEFAULT_NOW)) as env:
        woken: list[int] = []
        tracker = OutcomeTracker(sessionmaker, env.service, Translations(), COSTS, on_enqueued=lambda: woken.append(1))
        yield Tracking(env, tracker, sessionmaker, woken)


async def _signal_sent_to(tracking: Tracking, signal_id: int) -> dict[str, int]:
    """The signal pushed to four chats: Ann (en, sent as message 501), Li (zh, sent as 502), a zh
    forum group (silent, topic 7, sent as 503), Bob (still waiting: a plan's delay), Cat (dead)."""
    now = utcnow()
    chats = {"ann": 7001, "li": 7002, "group": -100_700, "bob": 7004, "cat": 7005}
    async with tracking.sessionmaker() as session:
        users = UserRepository(session)
        await users.upsert(TelegramProfile(chats["ann"], None, "Ann", "en"), now)
        await users.upsert(TelegramProfile(chats["li"], None, "Li", "zh-hans"), now)
        await users.upsert(TelegramProfile(chats["bob"], None, "Bob", "en"), now)
        session.add(Chat(id=chats["group"], type="supergroup", title="Traders", locale="zh", active=True))
        plain = OutboxMessage.build(text="BTC long")
        topic = OutboxMessage.build(text="BTC 做多", message_thread_id=7, disable_notification=True)
        items = [(str(signal_id), chat, topic if chat == chats["group"] else plain) for chat in chats.values()]
        await enqueue_many(session, kind="signal", items=items, now=now)
        await session.commit()
    async with tracking.sessionmaker() as session:
        repository = DeliveryRepository(session)
        by_chat = {row.chat_id: row.id for row in await repository.for_ref("signal", str(signal_id))}
        for name, message_id in (("ann", 501), ("li", 502), ("group", 503)):
            assert await repository.mark_sent(by_chat[chats[name]], message_id, now)
        await session.execute(
            update(Delivery).where(Delivery.id == by_chat[chats["cat"]]).values(status=DeliveryStatus.DEAD)
        )
        await session.commit()
    return chats


async def test_a_target_closes_the_signal_once_and_each_chat_that_got_it_gets_a_reply(tracking: Tracking) -> None:
    path = [(60_000.0, 60_500.0, 59_500.0, 60_200.0), (60_200.0, 61_000.0, 59_800.0, 60_900.0)]
    path += [(60_900.0, 62_500.0, 60_700.0, 62_300.0)]  # the first target at the third candle
    tracking.bybit.book.set_candles("BTC", "1h", rows(path))
    signal_id = await tracking.add(idea())
    chats = await _signal_sent_to(tracking, signal_id)

    early = await tracking.tracker.run(tracking.at(1))  # one candle closed: still open
    assert (early.open, early.graded, early.closed) == (1, 0, 0)
    forming = await tracking.tracker.run(tracking.at(2.5))  # the target candle is still forming
    assert forming.closed == 0 and (await tracking.signal(signal_id)).status == "open"

    report = await tracking.tracker.run(tracking.at(3))
    assert (report.graded, report.closed, report.messages) == (1, 1, 4) and tracking.woken
    closed = await tracking.signal(signal_id)
    assert (closed.status, closed.exit_price, closed.closed_at) == ("tp", TARGET, SIGNAL_AT + timedelta(hours=3))
    assert (closed.fee_pct, closed.slippage_pct) == (0.05, 0.05)
    assert closed.outcome_pct == pytest.approx(3.8) and closed.result_r == pytest.approx(1.9)

    outcomes = {row.chat_id: row for row in await tracking.rows("outcome")}
    assert set(outcomes) == {chats["ann"], chats["li"], chats["group"], chats["bob"]}  # not Cat: never got it
    assert all(row.ref_id == str(signal_id) for row in outcomes.values())
    sent = {name: OutboxMessage.from_json(outcomes[chat].payload) for name, chat in chats.items() if name != "cat"}
    assert (sent["ann"].reply_to, sent["li"].reply_to, sent["group"].reply_to, sent["bob"].reply_to) == (
        501,
        502,
        503,
        None,
    )
    assert (sent["group"].message_thread_id, sent["group"].disable_notification) == (7, True)
    assert sent["ann"].message_thread_id is None and not sent["ann"].disable_notification
    assert "first target reached" in sent["ann"].text and "+1.90 R" in sent["ann"].text
    assert "+3.80%" in sent["ann"].text and "62,400" in sent["ann"].text and "0.20%" in sent["ann"].text
    assert "已到达第一目标" in sent["li"].text and "已到达第一目标" in sent["group"].text
    assert "Signal of" not in sent["ann"].text  # the reply is the link to the original
    assert "Signal of" in sent["bob"].text and "60,000" in sent["bob"].text  # not sent yet: named instead
    # Bob's outcome row is newer than his waiting signal row: the outbox sends it after the signal
    bob_rows = [row for row in await tracking.rows("signal") if row.chat_id == chats["bob"]]
    assert bob_rows[0].id < outcomes[chats["bob"]].id and bob_rows[0].status == DeliveryStatus.PENDING
    for text in (message.text for message in sent.values()):
        assert "guarantee" not in text.lower() and "accura" not in text.lower()

    again = await tracking.tracker.run(tracking.at(4))
    assert (again.open, again.closed) == (0, 0) and len(await tracking.rows("outcome")) == 4


async def test_two_trackers_at_once_record_the_outcome_and_its_messages_once(tracking: Tracking) -> None:
    tracking.bybit.book.set_candles("BTC", "1h", rows([(60_000.0, 60_200.0, 58_500.0, 58_700.0)]))
    signal_id = await tracking.add(idea())
    chats = await _signal_sent_to(tracking, signal_id)
    twin = OutcomeTracker(tracking.sessionmaker, tracking.env.service, Translations(), COSTS)
    now = tracking.at(1)
    reports = await asyncio.gather(tracking.tracker.run(now), twin.run(now))
    assert sorted(report.closed for report in reports) == [0, 1]
    assert sum(report.messages for report in reports) == 4
    closed = await tracking.signal(signal_id)
    assert (closed.status, closed.exit_price) == ("sl", STOP)
    assert closed.result_r == pytest.approx(-1 - 0.2 / 2)  # −2 % − 0.2 % costs over a 2 % risk
    ann = next(row for row in await tracking.rows("outcome") if row.chat_id == chats["ann"])
    assert "stop reached" in OutboxMessage.from_json(ann.payload).text


async def test_a_gap_through_the_stop_exits_at_the_open(tracking: Tracking) -> None:
    path = [(60_000.0, 60_300.0, 59_600.0, 59_700.0), (58_200.0, 58_400.0, 57_900.0, 58_000.0)]
    tracking.bybit.book.set_candles("BTC", "1h", rows(path))
    signal_id = await tracking.add(idea())
    await tracking.tracker.run(tracking.at(2))
    closed = await tracking.signal(signal_id)
    assert (closed.status, closed.exit_price) == ("sl", 58_200.0)
    assert closed.result_r == pytest.approx(-1.5 - 0.1)  # −1,800 of a 1,200 risk, minus costs


async def test_a_short_expires_at_the_last_close_before_valid_until(tracking: Tracking) -> None:
    path = [(60_000.0, 60_400.0, 59_700.0, 59_900.0)] * 3 + [(59_900.0, 60_100.0, 59_500.0, 59_400.0)]
    tracking.bybit.book.set_candles("BTC", "1h", rows(path))
    short = idea(direction="short", stop=61_200.0, targets=(57_600.0,), valid_until=SIGNAL_AT + timedelta(hours=3.5))
    signal_id = await tracking.add(short)
    assert (await tracking.tracker.run(tracking.at(3))).closed == 0  # valid for another half hour
    report = await tracking.tracker.run(tracking.at(3.5))
    assert report.closed == 1
    closed = await tracking.signal(signal_id)
    # the candle straddling valid_until (03:00-04:00) does not count: the exit is the 03:00 close
    assert (closed.status, closed.exit_price, closed.closed_at) == ("expired", 59_900.0, SIGNAL_AT + timedelta(hours=3))
    assert closed.outcome_pct == pytest.approx(100 / 600 - 0.2)


async def test_a_manual_entry_never_reached_expires_with_no_trade(tracking: Tracking) -> None:
    tracking.bybit.book.set_candles("BTC", "1h", rows([FLAT] * 4))
    manual = idea(
        source="manual",
        created_by=1,
        entry=59_000.0,
        stop=58_000.0,
        targets=(61_000.0,),
        valid_until=SIGNAL_AT + timedelta(hours=4),
    )
    signal_id = await tracking.add(manual)
    chats = await _signal_sent_to(tracking, signal_id)
    report = await tracking.tracker.run(tracking.at(4))
    assert (report.closed, report.messages) == (1, 4)
    closed = await tracking.signal(signal_id)
    assert (closed.status, closed.exit_price, closed.result_r, closed.outcome_pct) == ("expired", None, 0.0, 0.0)
    ann = next(row for row in await tracking.rows("outcome") if row.chat_id == chats["ann"])
    text = OutboxMessage.from_json(ann.payload).text
    assert "entry 59,000.0 was not reached" in text and "0 R" in text


async def test_an_exchange_outage_leaves_the_signal_open_for_the_next_run(tracking: Tracking) -> None:
    tracking.bybit.book.set_candles("BTC", "1h", rows([(60_000.0, 62_500.0, 59_900.0, 62_450.0)]))
    signal_id = await tracking.add(idea(exchange="okx"))  # costs of an exchange without its own fee: "*"
    tracking.bybit.faults.append(Fault("http500", path="kline"))
    down = await tracking.tracker.run(tracking.at(1))
    assert (down.unfetched, down.closed) == (1, 0) and (await tracking.signal(signal_id)).status == "open"
    tracking.bybit.faults.clear()
    up = await tracking.tracker.run(tracking.at(1.1))
    assert (up.unfetched, up.closed) == (0, 1)
    closed = await tracking.signal(signal_id)
    assert (closed.status, closed.fee_pct, closed.slippage_pct) == ("tp", 0.1, 0.05)
    assert closed.outcome_pct == pytest.approx(4.0 - 0.3)
