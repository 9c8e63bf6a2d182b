"""The risk engine's two jobs, called by the scheduler with the tick's time (`now` injected):

* `tick(now)` every minute: armed price alerts and open positions against the last prices — ONE
  ticker batch per exchange (`MarketService.tickers`), everything else in memory;
* `scan(now, timeframe)` at candle closes: candles (cached, single flight, incremental) for the
  coins some live feed, alert or position needs → `market_snapshots`; on the alerts' timeframe the
  candles' highs/lows since each alert was armed (a spike between two ticks fires it too); market
  risk (sudden move, volatility, funding, open interest) for coins with a live `risk` feed.

Never a DB session across exchange I/O: read the targets, close; fetch; then write in short
transactions of `write_batch` rows. A fired alert is disarmed in the same transaction as its
outbox row (ref `alert_id:generation`); a position's warning step is recorded (compare-and-set on
`positions.warned`) with its outbox row (ref `position_id:step`): each fires once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories.risk import AlertRepository, AlertRow, CooldownRepository, PositionRepository, PositionRow
from services.delivery.message import Button, OutboxMessage
from services.delivery.outbox import enqueue, enqueue_many
from services.feeds.recipients import recipients, scan_targets
from services.i18n import Translations, Translator, normalize_locale
from services.market import Analysis, Candles, MarketError, MarketService, analyze, validate_timeframe
from services.market.timeframes import TIMEFRAME_MS
from services.risk import texts
from services.risk.config import RiskConfig
from services.risk.parse import ABOVE, BELOW, MOVE
from services.risk.rules import (
    TAKE_PROFIT_STEP,
    Seen,
    alert_fires,
    market_events,
    messages_for,
    position_steps,
    since,
    split_steps,
)
from services.snapshots import recent_snapshots, save_snapshot

log = logging.getLogger(__name__)

Write = Callable[[AsyncSession], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Report:
    job: str
    alerts: int = 0  # armed alerts looked at
    positions: int = 0
    symbols: int = 0  # coins asked of the exchanges
    priced: int = 0  # … that answered
    fired: int = 0  # alerts fired (messages enqueued)
    warnings: int = 0  # position warnings enqueued
    market: int = 0  # market-risk messages enqueued
    snapshots: int = 0  # market_snapshots rows written

    def __bool__(self) -> bool:
        """True when the run did something worth a log line (the scheduler logs truthy results)."""
        return bool(self.fired or self.warnings or self.market or self.snapshots)


@dataclass(frozen=True, slots=True)
class _Fired:
    alert: AlertRow
    price: float  # the price that crossed (the candle's extreme at a scan)
    message: OutboxMessage


@dataclass(frozen=True, slots=True)
class _Fetched:
    candles: Candles
    analysis: Analysis | None


class RiskEngine:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        market: MarketService,
        translations: Translations,
        config: RiskConfig | None = None,
        on_enqueued: Callable[[], None] | None = None,
        rearm_callback: Callable[[int], str] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.market = market
        self.translations = translations
        self.config = config or RiskConfig()
        self.on_enqueued = on_enqueued  # wakes the outbox sender after new rows are committed
        # The callback data of a fired alert's "re-arm" button (the handlers' callback factory; None:
        # no button, the message points to /alerts only).
        self.rearm_callback = rearm_callback

    # ------------------------------------------------------------------------------ tick
    async def tick(self, now: datetime) -> Report:
        async with self.sessionmaker() as session:
            alerts = await AlertRepository(session).armed()
            positions = await PositionRepository(session).open()
        symbols = {alert.symbol for alert in alerts} | {position.symbol for position in positions}
        if not symbols:
            return Report("tick")
        try:
            tickers = await self.market.tickers(symbols)
        except MarketError as exc:
            log.warning("risk tick: no prices (%s)", exc)
            return Report("tick", len(alerts), len(positions), len(symbols))
        seen = {symbol: Seen.price(ticker.price) for symbol, ticker in tickers.items()}
        fired, warnings = await self._apply(now, alerts, positions, lambda row, start: seen.get(row.symbol), True)
        return Report("tick", len(alerts), len(positions), len(symbols), len(tickers), fired, warnings)

    # ------------------------------------------------------------------------------ scan
    async def scan(self, now: datetime, timeframe: str) -> Report:
        tf = validate_timeframe(timeframe)
        alerts: Sequence[AlertRow] = ()
        positions: Sequence[PositionRow] = ()
        async with self.sessionmaker() as session:
            feed_symbols = {symbol for symbol, frame in await scan_targets(session) if frame == tf}
            risk_symbols = {symbol for symbol, frame in await scan_targets(session, "risk") if frame == tf}
            if tf == self.config.candle_timeframe:
                alerts = await AlertRepository(session).armed()
                positions = await PositionRepository(session).open()
        watched = {alert.symbol for alert in alerts} | {position.symbol for position in positions}
        fetched = await self._fetch(sorted(feed_symbols | watched), tf)
        snapshots = await self._save_snapshots(fetched)

        def seen(row: AlertRow | PositionRow, start: datetime | None) -> Seen | None:
            got = fetched.get(row.symbol)
            return since(got.candles, start) if got is not None else None

        fired, warnings = await self._apply(now, alerts, positions, seen, False)
        market = 0
        for symbol in sorted(risk_symbols & fetched.keys()):
            market += await self._market_risk(now, tf, symbol, fetched[symbol])
        if market:
            self._wake()
        return Report(
            "scan", len(alerts), len(positions), len(fetched), len(fetched), fired, warnings, market, snapshots
        )

    async def _fetch(self, symbols: Iterable[str], tf: str) -> dict[str, _Fetched]:
        gate = asyncio.Semaphore(self.config.scan_concurrency)

        async def one(symbol: str) -> tuple[str, _Fetched | None]:
            async with gate:
                try:
                    candles = await self.market.candles(symbol, tf)
                except MarketError as exc:
                    log.warning("scan %s %s: %s", symbol, tf, exc)
                    return symbol, None
                try:
                    derivatives = await self.market.derivatives(symbol)
                except MarketError as exc:
                    log.info("scan %s: no derivatives (%s)", symbol, exc)
                    derivatives = None
                try:
                    analysis: Analysis | None = analyze(candles, derivatives)
                except MarketError as exc:  # not enough candles for the indicators
                    log.info("scan %s %s: no analysis (%s)", symbol, tf, exc)
                    analysis = None
                return symbol, _Fetched(candles, analysis)

        results = await asyncio.gather(*(one(symbol) for symbol in symbols))
        return {symbol: got for symbol, got in results if got is not None}

    async def _save_snapshots(self, fetched: dict[str, _Fetched]) -> int:
        saved = 0
        for got in fetched.values():
            if got.analysis is None:
                continue
            async with self.sessionmaker() as session:
                try:
                    saved += await save_snapshot(session, got.analysis.snapshot())
                except SQLAlchemyError:
                    log.exception("snapshot of %s %s not saved", got.analysis.symbol, got.analysis.timeframe)
        return saved

    async def _market_risk(self, now: datetime, tf: str, symbol: str, got: _Fetched) -> int:
        if got.analysis is None:
            return 0
        config = self.config
        analysis = got.analysis
        sent = 0
        async with self.sessionmaker() as session:
            earlier = analysis.as_of - timedelta(milliseconds=TIMEFRAME_MS[tf] * config.oi_candles)
            history = await recent_snapshots(session, analysis.symbol, tf, limit=config.oi_candles + 2)
            previous = next((row.open_interest for row in history if row.as_of <= earlier), None)
            events = market_events(got.candles, analysis, config, previous)
            if not events:
                return 0
            chats = await recipients(session, "risk", symbol, tf)
            cooldowns = CooldownRepository(session)
            for event in events:
                for chat in chats:
                    if not await cooldowns.claim(chat.chat_id, symbol, event.kind, now, now - config.cooldown):
                        continue
                    t = self.translations.get(chat.locale)
                    candles = config.oi_candles if event.kind == "oi" else config.move_candles
                    payload = OutboxMessage.build(
                        text=texts.market_risk(t, event, symbol, tf, analysis.price, candles),
                        disable_notification=chat.silent,
                        message_thread_id=chat.thread_id,
                    )
                    ref = f"{symbol}:{event.kind}:{tf}:{int(now.timestamp())}"
                    sent += await enqueue(
                        session, kind="risk", ref_id=ref, chat_ids=[chat.chat_id], payload=payload, now=now
                    )
            await session.commit()
        return sent

    # ------------------------------------------------------------------------------ alerts and positions
    async def _apply(
        self,
        now: datetime,
        alerts: Sequence[AlertRow],
        positions: Sequence[PositionRow],
        seen_for: Callable[[AlertRow | PositionRow, datetime | None], Seen | None],
        roll: bool,
    ) -> tuple[int, int]:
        """Decide in memory, then write what changed in short transactions. Returns (fired, warnings)."""
        fired_alerts: list[_Fired] = []
        rolls: list[Write] = []
        for alert in alerts:
            seen = seen_for(alert, alert.armed_at)
            if seen is None:
                continue
            if alert_fires(alert, seen):
                fired_alerts.append(self._fired(alert, seen))
            elif roll and alert.condition == MOVE and self._window_over(alert, now):
                rolls.append(_roll(alert, seen.last, now))
        position_writes: list[Write] = []
        steps = self.config.position_steps
        for position in positions:
            seen = seen_for(position, position.created_at)
            if seen is None:
                continue
            new = position_steps(position, seen, steps)
            if new:
                position_writes.append(self._warn(position, new, seen))
        fired = await self._write_fired(fired_alerts, now)
        await self._write(rolls)
        warnings = await self._write(position_writes)
        if fired or warnings:
            self._wake()
        return fired, warnings

    async def _write(self, writes: list[Write]) -> int:
        done = 0
        size = self.config.write_batch
        for chunk in (writes[i : i + size] for i in range(0, len(writes), size)):
            async with self.sessionmaker() as session:
                for write in chunk:
                    done += await write(session)
                await session.commit()
        return done

    def _wake(self) -> None:
        if self.on_enqueued is not None:
            self.on_enqueued()

    def _translator(self, locale: str | None, language_code: str | None) -> Translator:
        return self.translations.get(normalize_locale(locale) or normalize_locale(language_code))

    @staticmethod
    def _window_over(alert: AlertRow, now: datetime) -> bool:
        window = TIMEFRAME_MS.get(alert.window or "1h", TIMEFRAME_MS["1h"])
        return alert.armed_at is None or now - alert.armed_at >= timedelta(milliseconds=window)

    def _fired(self, alert: AlertRow, seen: Seen) -> _Fired:
        if alert.condition == ABOVE:
            price = seen.high
        elif alert.condition == BELOW:
            price = seen.low
        else:
            price = seen.high if seen.high / alert.price - 1 >= 1 - seen.low / alert.price else seen.low
        t = self._translator(alert.locale, alert.language_code)
        text = texts.alert_fired(t, alert.symbol, alert.condition, alert.price, alert.pct, alert.window, price)
        buttons: tuple[tuple[Button, ...], ...] = ()
        if self.rearm_callback is not None:
            rearm = Button(text=t("alert-button-rearm-pushed"), callback_data=self.rearm_callback(alert.id))
            buttons = ((rearm,),)
        return _Fired(alert, price, OutboxMessage.build(text=text, buttons=buttons))

    async def _write_fired(self, fired: list[_Fired], now: datetime) -> int:
        """Disarm and enqueue, `write_batch` alerts per transaction, two statements each (plus the
        outbox's unreachable-chat lookup): only alerts this call disarmed get a message."""
        sent = 0
        size = self.config.write_batch
        for chunk in (fired[i : i + size] for i in range(0, len(fired), size)):
            async with self.sessionmaker() as session:
                keys = [(item.alert.id, item.alert.generation, item.price) for item in chunk]
                disarmed = await AlertRepository(session).disarm_many(keys, now)
                items = [
                    (f"{item.alert.id}:{item.alert.generation}", item.alert.chat_id, item.message)
                    for item in chunk
                    if item.alert.id in disarmed  # not deleted, re-armed or fired elsewhere meanwhile
                ]
                sent += await enqueue_many(session, kind="alert", items=items, now=now)
                await session.commit()
        return sent

    def _warn(self, position: PositionRow, new: list[str], seen: Seen) -> Write:
        t = self._translator(position.locale, position.language_code)
        long = position.side == "long"
        adverse, favourable = (seen.low, seen.high) if long else (seen.high, seen.low)
        messages = [
            (
                step,
                texts.position_warning(
                    t,
                    step,
                    position.symbol,
                    position.side,
                    position.leverage,
                    favourable if step == TAKE_PROFIT_STEP else adverse,
                    position.liquidation_price,
                    position.stop,
                    position.take_profit,
                ),
            )
            for step in messages_for(new)
        ]
        after = ",".join([*split_steps(position.warned), *new])

        async def write(session: AsyncSession) -> int:
            if not await PositionRepository(session).set_warned(position.id, position.warned, after):
                return 0
            if position.chat_id is None:
                return 0
            items = [
                (f"{position.id}:{step}", position.chat_id, OutboxMessage.build(text=text)) for step, text in messages
            ]
            return await enqueue_many(session, kind="position", items=items)

        return write


def _roll(alert: AlertRow, price: float, now: datetime) -> Write:
    async def write(session: AsyncSession) -> int:
        await AlertRepository(session).roll_window(alert.id, alert.generation, now, price)
        return 0

    return write
