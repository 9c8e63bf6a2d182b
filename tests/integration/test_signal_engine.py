"""The signals engine at a candle close, against the fake Bybit over HTTP (real ccxt), the fake model
(real openai client) and a real database, on both backends: what feeds follow is scanned, the forming
candle never decides, an open signal is not repeated, the LLM adds prose only and never holds a
signal back."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from openai import AsyncOpenAI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Chat, Delivery, DeliveryMedia, Feed
from db.repositories.signals import SignalRepository, SignalRow
from services.delivery import OutboxMessage
from services.i18n import Translations
from services.llm import LLMService
from services.market.models import Candles
from services.market.timeframes import candle_open
from services.signals.chart import render_signal_chart_async
from services.signals.commentary import CommentaryConfig
from services.signals.engine import SignalEngine, SignalsConfig
from services.signals.strategy import closed_only, evaluate
from standins.exchanges import DEFAULT_NOW, FakeBybit, FakeClock, MarketEnv, ending_at, generate_scenario, market_env
from standins.openai_server import ErrorReply, FakeOpenAI, Hang, Reply

HOUR_MS = 3_600_000
KLINE = "/v5/market/kline"
COMMENT = "Momentum turned up with the trend on the hourly chart."


def signal_rows() -> tuple[np.ndarray, int]:
    """Generated 1h candles and how many of them give a long signal at the last one (not one before)."""
    rows = generate_scenario([("range", 150), ("up", 150)], seed=4, timeframe="1h")

    def decide(k: int) -> str | None:
        candles = Candles.from_array(rows[:k], exchange="bybit", symbol="BTC/USDT", timeframe="1h")
        idea = evaluate(candles, symbol="BTC")
        return idea.direction if idea else None

    k = next(k for k in range(200, 300) if decide(k) == "long" and decide(k - 1) is None)
    return rows, k


@dataclass
class Engine:
    env: MarketEnv
    sessionmaker: async_sessionmaker[AsyncSession]
    woken: list[int]
    entry: float  # the close of the candle that just closed

    @property
    def bybit(self) -> FakeBybit:
        return self.env.bybit

    @property
    def now(self) -> datetime:
        return datetime.fromtimestamp(self.env.clock.time(), UTC)

    def engine(
        self, config: SignalsConfig | None = None, llm: LLMService | None = None, *, chart: bool = False
    ) -> SignalEngine:
        """The engine; drawing charts (~0.3 s each, matplotlib loaded by the first) only when asked."""
        return SignalEngine(
            self.sessionmaker,
            self.env.service,
            Translations(),
            config=config or SignalsConfig(),
            llm=llm,
            render_chart=render_signal_chart_async if chart else None,
            on_enqueued=lambda: self.woken.append(1),
        )

    async def deliveries(self) -> list[Delivery]:
        async with self.sessionmaker() as session:
            rows = await session.execute(select(Delivery).where(Delivery.kind == "signal").order_by(Delivery.chat_id))
            return list(rows.scalars())

    async def signals(self) -> list[SignalRow]:
        async with self.sessionmaker() as session:
            return await SignalRepository(session).open_signals()


@pytest.fixture
async def setup(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[Engine]:
    async with market_env(exchanges=("bybit",), clock=FakeClock(DEFAULT_NOW)) as env:
        now_ms = env.clock.ms()
        rows, k = signal_rows()
        closed = ending_at(rows[:k], candle_open(now_ms, "1h") - HOUR_MS, "1h")
        entry = float(closed[-1, 4])
        # The forming candle collapses: had it been used, there would be no long here.
        forming = np.array([[candle_open(now_ms, "1h"), entry, entry, entry * 0.8, entry * 0.8, 5_000.0]])
        env.bybit.book.set_candles("BTC", "1h", np.vstack((closed, forming)))
        async with sessionmaker() as session:
            session.add_all(
                [
                    Chat(id=-100500, type="supergroup", title="Desk", locale="zh"),
                    Chat(id=700, type="private", title="", locale="en"),
                    Chat(id=-100600, type="channel", title="Four hours", locale="en"),
                ]
            )
            await session.flush()
            session.add_all(
                [
                    Feed(chat_id=-100500, kind="signals", symbols="BTC,ETH", timeframes="1h,4h"),
                    Feed(chat_id=700, kind="signals", symbols="BTC", timeframes="1h", level="silent"),
                    Feed(chat_id=-100600, kind="signals", symbols="BTC", timeframes="4h"),
                    Feed(chat_id=700, kind="risk", symbols="SOL", timeframes="1h"),
                ]
            )
            await session.commit()
        yield Engine(env, sessionmaker, [], entry)


async def test_a_signal_at_the_close_goes_to_the_feeds_that_follow_it_once(setup: Engine) -> None:
    engine = setup.engine(chart=True)
    setup.bybit.reset_counts()
    report = await engine.scan(setup.now, "1h")
    assert (report.symbols, report.fetched, report.stale) == (2, 2, 0)  # BTC and ETH; SOL is a risk feed
    assert (report.ideas, report.published, report.deliveries) == (1, 1, 2)
    assert setup.bybit.count(KLINE, symbol="SOLUSDT") == 0
    assert setup.woken == [1]

    (signal,) = await setup.signals()
    close_time = datetime.fromtimestamp(candle_open(setup.env.clock.ms(), "1h") / 1000, UTC)
    assert (signal.symbol, signal.timeframe, signal.direction, signal.source) == ("BTC", "1h", "long", "auto")
    assert signal.entry == pytest.approx(setup.entry)  # the closed candle, not the collapsing forming one
    assert signal.signal_at == close_time
    assert signal.valid_until == close_time + timedelta(hours=12)
    assert (signal.strategy, signal.version, signal.commentary) == ("trend", "1", None)
    assert signal.reason[0] == "trend_up" and 50 <= signal.confidence <= 100

    rows = await setup.deliveries()
    assert [(row.chat_id, row.ref_id) for row in rows] == [(-100500, str(signal.id)), (700, str(signal.id))]
    messages = [OutboxMessage.from_json(row.payload) for row in rows]
    assert messages[0].photo is not None and messages[0].photo == messages[1].photo  # one chart for all
    assert messages[1].disable_notification
    async with setup.sessionmaker() as session:
        media = list(await session.scalars(select(DeliveryMedia)))
    assert len(media) == 1 and media[0].data.startswith(b"\x89PNG")

    # The same close again (a re-run, another replica): the long is open, nothing new is sent.
    again = await engine.scan(setup.now, "1h")
    assert (again.ideas, again.already_open, again.published, again.deliveries) == (1, 1, 0, 0)
    assert len(await setup.deliveries()) == 2 and setup.woken == [1]


async def test_no_feed_on_the_timeframe_means_no_requests(setup: Engine) -> None:
    setup.bybit.reset_counts()
    report = await setup.engine().scan(setup.now, "15m")
    assert not report and report.symbols == 0
    assert setup.bybit.count(KLINE) == 0


async def test_a_lagging_exchange_is_not_decided_on_an_older_candle(setup: Engine) -> None:
    rows = setup.bybit.book.series("BTC", "1h")
    setup.bybit.book.set_candles("BTC", "1h", rows[:-2])  # neither the forming candle nor the one that just closed
    report = await setup.engine().scan(setup.now, "1h")
    assert (report.stale, report.published) == (1, 0)
    assert await setup.signals() == []


def commentary_config(**changes: object) -> SignalsConfig:
    config = CommentaryConfig(enabled=True, model="test-model", timeout=5.0, max_tokens=80)
    return SignalsConfig(commentary=dataclasses.replace(config, **changes))  # type: ignore[arg-type]


@pytest.fixture
async def model() -> AsyncIterator[tuple[FakeOpenAI, LLMService]]:
    async with FakeOpenAI(api_key="sk-test") as fake:
        client = AsyncOpenAI(api_key="sk-test", base_url=fake.base_url, max_retries=0)
        yield fake, LLMService(client)
        await client.close()


async def test_commentary_is_prose_within_its_token_budget(setup: Engine, model: tuple[FakeOpenAI, LLMService]) -> None:
    fake, llm = model
    fake.script(Reply(f"  {COMMENT}\n", usage=(90, 12)))
    report = await setup.engine(commentary_config(), llm).scan(setup.now, "1h")
    assert (report.published, report.commentaries) == (1, 1)
    (signal,) = await setup.signals()
    assert signal.commentary == COMMENT
    (request,) = fake.requests
    assert request.model == "test-model" and request.body is not None and request.body["max_tokens"] == 80
    prompt = " ".join(str(message["content"]) for message in request.messages)
    assert "trend_up" in prompt and "never" in prompt.lower()
    text = OutboxMessage.from_json((await setup.deliveries())[1].payload).text
    assert COMMENT in text
    # the model's prose changes no level: the same candles without it give the same signal
    candles = await setup.env.service.candles("BTC", "1h")
    plain = evaluate(closed_only(candles, setup.env.clock.ms()), symbol="BTC")
    assert plain is not None
    assert (signal.entry, signal.stop, *signal.targets) == pytest.approx((plain.entry, plain.stop, *plain.targets))


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (ErrorReply(503), "model down"),
        (Hang(30.0), "model slow"),
        (Reply("Guaranteed profit on this one."), "a claim the product never makes"),
        (Reply("   "), "an empty answer"),
    ],
)
async def test_the_signal_goes_out_without_commentary(
    setup: Engine, model: tuple[FakeOpenAI, LLMService], reply: ErrorReply | Hang | Reply, why: str
) -> None:
    fake, llm = model
    fake.script(reply)
    report = await setup.engine(commentary_config(timeout=0.2), llm).scan(setup.now, "1h")
    assert (report.published, report.deliveries, report.commentaries) == (1, 2, 0), why
    (signal,) = await setup.signals()
    assert signal.commentary is None, why
    assert len(fake.requests) == 1


async def test_commentary_disabled_or_without_a_model_sends_no_request(
    setup: Engine, model: tuple[FakeOpenAI, LLMService]
) -> None:
    fake, llm = model
    report = await setup.engine(SignalsConfig(), llm).scan(setup.now, "1h")
    assert report.published == 1 and fake.requests == []
    report = await setup.engine(commentary_config(), None).scan(setup.now + timedelta(seconds=1), "1h")
    assert report.already_open == 1


async def test_a_chart_that_fails_to_draw_sends_the_signal_without_one(setup: Engine) -> None:
    async def broken(candles: Candles, idea: object) -> bytes:
        raise ValueError("a figure that cannot be drawn")

    engine = setup.engine()
    engine.render_chart = broken
    report = await engine.scan(setup.now, "1h")
    assert (report.published, report.deliveries) == (1, 2)
    messages = [OutboxMessage.from_json(row.payload) for row in await setup.deliveries()]
    assert [message.photo for message in messages] == [None, None]
    assert "LONG" in messages[1].text and "BTC/USDT" in messages[1].text  # the English chat
