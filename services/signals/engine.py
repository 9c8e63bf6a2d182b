"""The signals engine: at each candle close, the strategy over the coins live signal feeds follow.

`SignalEngine.scan(now, timeframe)` is run by the scheduler's market scan (bot/scheduler.py) right
after a `timeframe` candle closed (`now` = the tick). Steps, never holding a DB session across
network I/O:

1. read the (coin, timeframe) pairs live `signals` feeds need (`scan_targets`) and the open signals'
   keys — a coin/timeframe/direction with an open auto signal gets no new one;
2. fetch candles (cached, single flight) and, when `use_funding`, the funding context; drop the
   forming candle (`closed_only`) and skip a coin whose last closed candle is not the one that just
   closed (a lagging exchange: deciding again on an older candle would repeat an old decision);
3. `evaluate` — pure and fast (tests/bench/bench_signals.py);
4. per new idea, optional LLM commentary (bounded; services/signals/commentary.py) and the chart,
   concurrently and bounded; a failed chart sends the signal without one;
5. per idea, one short transaction: insert (skipped when a replica or an earlier run inserted the same
   key meanwhile) and `publish` to every feed's chat through the outbox; commit, then wake the sender.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories.signals import SignalRepository
from services.feeds.recipients import scan_targets
from services.i18n import Translations
from services.llm import LLMService
from services.market import Candles, Derivatives, MarketError, MarketService, validate_timeframe
from services.market.timeframes import candle_open, timeframe_ms
from services.signals.commentary import CommentaryConfig, commentary
from services.signals.model import SignalIdea, new_signal
from services.signals.publish import publish
from services.signals.strategy import DEFAULT_STRATEGY, StrategyConfig, closed_only, evaluate

log = logging.getLogger(__name__)

ChartRenderer = Callable[[Candles, SignalIdea], Awaitable[bytes]]
CHART_ERRORS = (ValueError, RuntimeError, OSError)  # a drawing that fails: sent without


@dataclass(frozen=True, kw_only=True)
class SignalsConfig:
    strategy: StrategyConfig = DEFAULT_STRATEGY
    commentary: CommentaryConfig = field(default_factory=CommentaryConfig)
    use_funding: bool = True  # funding rate as context (one more cached request per coin)
    scan_concurrency: int = 8  # candle requests in flight at once
    prepare_concurrency: int = 4  # commentaries/charts in flight at once


@dataclass(frozen=True, slots=True)
class SignalReport:
    job: str = "signals"
    symbols: int = 0  # coins the feeds need on this timeframe
    fetched: int = 0  # … whose candles came back, up to the candle that just closed
    stale: int = 0  # … whose exchange did not list that candle yet (skipped)
    ideas: int = 0  # signals the strategy proposed
    already_open: int = 0  # … skipped: one is open for the coin/timeframe/direction
    published: int = 0  # signals stored
    deliveries: int = 0  # outbox rows enqueued
    commentaries: int = 0  # signals with LLM commentary

    def __bool__(self) -> bool:
        """True when the run did something worth a log line (the scheduler logs truthy results)."""
        return bool(self.ideas or self.published or self.stale)


@dataclass(frozen=True, slots=True)
class _Seen:
    candles: Candles
    derivatives: Derivatives | None


@dataclass(frozen=True, slots=True)
class _Prepared:
    idea: SignalIdea
    commentary: str | None
    chart: bytes | None


class SignalEngine:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        market: MarketService,
        translations: Translations,
        *,
        config: SignalsConfig | None = None,
        llm: LLMService | None = None,
        render_chart: ChartRenderer | None = None,
        on_enqueued: Callable[[], None] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.market = market
        self.translations = translations
        self.config = config or SignalsConfig()
        self.llm = llm
        self.render_chart = render_chart  # None: signals go out without a chart
        self.on_enqueued = on_enqueued  # wakes the outbox sender after new rows are committed

    async def scan(self, now: datetime, timeframe: str) -> SignalReport:
        tf = validate_timeframe(timeframe)
        async with self.sessionmaker() as session:
            symbols = sorted({symbol for symbol, frame in await scan_targets(session, "signals") if frame == tf})
            if not symbols:
                return SignalReport()
            open_keys = await SignalRepository(session).open_keys(tf)
        now_ms = int(now.timestamp() * 1000)
        fetched = await self._fetch(symbols, tf)
        ideas: list[tuple[SignalIdea, Candles]] = []
        fresh = proposed = already_open = 0
        for symbol, got in fetched.items():
            closed = last_closed(got.candles, now_ms)
            if closed is None:
                continue
            fresh += 1
            idea = evaluate(closed, symbol=symbol, derivatives=got.derivatives, config=self.config.strategy)
            if idea is None:
                continue
            proposed += 1
            if (symbol, tf, idea.direction, "auto") in open_keys:
                already_open += 1
                continue
            ideas.append((idea, closed))
        prepared = await self._prepare(ideas)
        published = deliveries = 0
        for item in prepared:
            sent = await self._publish(item, now)
            if sent is None:
                already_open += 1
                continue
            published += 1
            deliveries += sent
        if deliveries and self.on_enqueued is not None:
            self.on_enqueued()
        return SignalReport(
            symbols=len(symbols),
            fetched=fresh,
            stale=len(fetched) - fresh,
            ideas=proposed,
            already_open=already_open,
            published=published,
            deliveries=deliveries,
            commentaries=sum(1 for item in prepared if item.commentary is not None),
        )

    async def _fetch(self, symbols: Sequence[str], tf: str) -> dict[str, _Seen]:
        gate = asyncio.Semaphore(self.config.scan_concurrency)

        async def one(symbol: str) -> tuple[str, _Seen | None]:
            async with gate:
                try:
                    candles = await self.market.candles(symbol, tf)
                except MarketError as exc:
                    log.warning("signals %s %s: no candles (%s)", symbol, tf, exc)
                    return symbol, None
                derivatives: Derivatives | None = None
                if self.config.use_funding:
                    try:
                        derivatives = await self.market.derivatives(symbol)
                    except MarketError as exc:
                        log.info("signals %s: no funding context (%s)", symbol, exc)
                return symbol, _Seen(candles, derivatives)

        results = await asyncio.gather(*(one(symbol) for symbol in symbols))
        return {symbol: got for symbol, got in results if got is not None}

    async def _prepare(self, ideas: list[tuple[SignalIdea, Candles]]) -> list[_Prepared]:
        gate = asyncio.Semaphore(self.config.prepare_concurrency)

        async def one(idea: SignalIdea, candles: Candles) -> _Prepared:
            async with gate:
                text, chart = await asyncio.gather(
                    commentary(self.llm, idea, self.config.commentary), self._chart(candles, idea)
                )
            return _Prepared(idea, text, chart)

        return list(await asyncio.gather(*(one(idea, candles) for idea, candles in ideas)))

    async def _chart(self, candles: Candles, idea: SignalIdea) -> bytes | None:
        if self.render_chart is None:
            return None
        try:
            return await self.render_chart(candles, idea)
        except CHART_ERRORS:
            log.exception("signal chart for %s %s failed; sent without one", idea.symbol, idea.timeframe)
            return None

    async def _publish(self, item: _Prepared, now: datetime) -> int | None:
        """Deliveries enqueued, or None when a signal for the key was opened meanwhile (nothing sent)."""
        async with self.sessionmaker() as session:
            repository = SignalRepository(session)
            signal_id = await repository.add(new_signal(item.idea), commentary=item.commentary)
            if signal_id is None:
                return None
            record = await repository.get(signal_id)
            assert record is not None  # inserted in this transaction
            sent = await publish(session, record, chart=item.chart, translations=self.translations, now=now)
            await session.commit()
        log.info(
            "signal %s %s %s %s published to %d chats (confidence %d)",
            signal_id,
            item.idea.symbol,
            item.idea.timeframe,
            item.idea.direction,
            sent,
            item.idea.confidence,
        )
        return sent


def last_closed(candles: Candles, now_ms: int) -> Candles | None:
    """The closed candles when the last of them is the one that closed at the latest candle boundary
    at or before `now_ms` (the forming candle dropped); None when the exchange does not list it yet."""
    closed = closed_only(candles, now_ms)
    if not len(closed):
        return None
    tf = closed.timeframe
    return closed if candle_open(now_ms, tf) - int(closed.timestamp[-1]) == timeframe_ms(tf) else None
