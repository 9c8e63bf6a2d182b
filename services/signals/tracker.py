"""The outcome tracker: closes open signals from candles and tells every chat that got them.

A scheduled job (bot/scheduler.py, "signal-outcomes": a few seconds after each 5-minute close, the
shortest signal timeframe, so an expiry is seen within 5 minutes; longer timeframes' candles come
from the market cache until their own close). `run(now)`:

1. one short DB session reads the open signals, then closes;
2. candles of each (coin, timeframe) are fetched OUTSIDE any session (`MarketService.candles`, enough
   to reach back to the signal time; the forming candle is dropped by `grade`'s `now`);
3. `grade` (services/signals/outcomes.py) decides each signal on its own timeframe's candles, with
   the costs of its exchange (SIGNAL_FEES, SIGNAL_SLIPPAGE_PCT);
4. per decided signal, one transaction: the repository's compare-and-set close (the outcome is
   recorded once, across replicas and re-runs) and, only when this run closed it, the outcome
   enqueued (kind "outcome", ref_id str(signal id): once per chat) to every chat whose "signal" row
   for it is sent or still open — dead and skipped rows never reached the chat, so no outcome.

Threading and order. A chat whose signal message is sent gets the outcome as a reply to it
(`reply_to` = that message_id), in the same forum topic and with the same silent flag as the
signal's payload. A chat whose signal row is still waiting (a plan's delay, a retry) gets the
outcome without a reply but with a line naming the signal (time, entry, stop, target): the outbox
sends a chat's rows strictly in row order, and the outcome's row is newer than the signal's, so it
always arrives after the signal — it only cannot be threaded, because the message id does not exist
yet when the outcome is written.

A coin whose candles cannot be fetched is retried at the next run; a signal whose candles do not
reach back to its signal time (a tracker stopped for longer than 1,000 candles) is left open until
it expires, then graded on what the exchange still has.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import DeliveryStatus
from db.repositories.pushes import PushedTo, pushed_to
from db.repositories.signals import SignalRepository
from services.delivery.message import OutboxMessage
from services.delivery.outbox import enqueue_many
from services.format import format_pct, format_price, format_utc_time
from services.i18n import Translations, Translator, normalize_locale
from services.market import Candles, MarketError, MarketService
from services.market.exchanges import MAX_OHLCV_LIMIT
from services.signals.model import Outcome, SignalRecord
from services.signals.outcomes import CostTable, candle_ms, grade

log = logging.getLogger(__name__)

SIGNAL_KIND = "signal"
OUTCOME_KIND = "outcome"
QUOTE = "USDT"


@dataclass(frozen=True, slots=True)
class TrackReport:
    open: int = 0  # open signals looked at
    graded: int = 0  # … that the candles decided
    closed: int = 0  # … that this run closed (the compare-and-set won)
    messages: int = 0  # outcome messages enqueued
    unfetched: int = 0  # (coin, timeframe) pairs whose candles could not be fetched

    def __bool__(self) -> bool:
        """True when the run did something worth a log line (the scheduler logs truthy results)."""
        return bool(self.closed or self.unfetched)


class OutcomeTracker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        market: MarketService,
        translations: Translations,
        costs: CostTable | None = None,
        on_enqueued: Callable[[], None] | None = None,
        concurrency: int = 8,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.market = market
        self.translations = translations
        self.costs = costs or CostTable()
        self.on_enqueued = on_enqueued  # wakes the outbox sender after new rows are committed
        self.concurrency = concurrency

    async def run(self, now: datetime) -> TrackReport:
        async with self.sessionmaker() as session:
            signals = await SignalRepository(session).open_signals()
        if not signals:
            return TrackReport()
        groups: dict[tuple[str, str], list[SignalRecord]] = {}
        for signal in signals:
            groups.setdefault((signal.symbol, signal.timeframe), []).append(signal)
        fetched = await self._fetch(groups, now)
        decided: list[tuple[SignalRecord, Outcome]] = []
        for key, group in groups.items():
            candles = fetched.get(key)
            if candles is None:
                continue
            for signal in group:
                if not _reaches_back(candles, signal) and now < signal.valid_until:
                    log.warning("signal %s: candles do not reach back to its signal time; left open", signal.id)
                    continue
                outcome = grade(signal, candles, self.costs.for_exchange(signal.exchange), now=now)
                if outcome is not None:
                    decided.append((signal, outcome))
        closed = messages = 0
        for signal, outcome in decided:
            async with self.sessionmaker() as session:
                sent = await self._close(session, signal, outcome, now)
                await session.commit()
            if sent is not None:
                closed += 1
                messages += sent
        if messages and self.on_enqueued is not None:
            self.on_enqueued()
        return TrackReport(len(signals), len(decided), closed, messages, len(groups) - len(fetched))

    async def _fetch(
        self, groups: dict[tuple[str, str], list[SignalRecord]], now: datetime
    ) -> dict[tuple[str, str], Candles]:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(key: tuple[str, str]) -> tuple[tuple[str, str], Candles | None]:
            symbol, timeframe = key
            step = candle_ms(timeframe)
            oldest = min(_start(signal) for signal in groups[key])
            # the candles since the signal time, the one before it (a gap check) and the forming one
            limit = min(MAX_OHLCV_LIMIT, max(2, int((now - oldest).total_seconds() * 1000) // step + 3))
            async with gate:
                try:
                    return key, await self.market.candles(symbol, timeframe, limit)
                except MarketError as exc:
                    log.warning("signal outcomes %s %s: %s", symbol, timeframe, exc)
                    return key, None

        results = await asyncio.gather(*(one(key) for key in groups))
        return {key: candles for key, candles in results if candles is not None}

    async def _close(self, session: AsyncSession, signal: SignalRecord, outcome: Outcome, now: datetime) -> int | None:
        """Record the outcome and enqueue its messages; None when the signal was closed elsewhere."""
        recorded = await SignalRepository(session).close(
            signal.id,
            status=outcome.status,
            exit_price=outcome.exit_price,
            closed_at=outcome.exit_at,
            result_r=outcome.result_r,
            outcome_pct=outcome.result_pct,
            fee_pct=outcome.costs.fee_pct,
            slippage_pct=outcome.costs.slippage_pct,
        )
        if not recorded:
            return None
        chats = await pushed_to(session, SIGNAL_KIND, str(signal.id))
        texts: dict[tuple[str, bool], str] = {}
        items: list[tuple[str, int, OutboxMessage]] = []
        for chat in chats:
            t = self.translations.get(normalize_locale(chat.locale))
            reply_to = chat.message_id if chat.status == DeliveryStatus.SENT else None
            text_key = (t.locale, reply_to is not None)
            if text_key not in texts:
                texts[text_key] = outcome_text(t, signal, outcome, now, threaded=reply_to is not None)
            items.append((str(signal.id), chat.chat_id, _message(chat, texts[text_key], reply_to)))
        return await enqueue_many(session, kind=OUTCOME_KIND, items=items, now=now)


def _start(signal: SignalRecord) -> datetime:
    return signal.signal_at or signal.created_at


def _reaches_back(candles: Candles, signal: SignalRecord) -> bool:
    return bool(candles.timestamp.size) and int(candles.timestamp[0]) <= int(_start(signal).timestamp() * 1000)


def _message(chat: PushedTo, text: str, reply_to: int | None) -> OutboxMessage:
    """The outcome for one chat: in the signal's forum topic, as silent as the signal was."""
    signal = OutboxMessage.from_json(chat.payload)
    return OutboxMessage.build(
        text=text,
        reply_to=reply_to,
        message_thread_id=signal.message_thread_id,
        disable_notification=signal.disable_notification,
    )


def _r(value: float) -> str:
    text = f"{value:+.2f}"
    return "0.00" if text in ("+0.00", "-0.00") else text


def outcome_text(t: Translator, signal: SignalRecord, outcome: Outcome, now: datetime, *, threaded: bool) -> str:
    """The outcome message (Telegram HTML): what happened, the exit, the result after costs; when
    not sent as a reply, a line naming the signal it closes."""
    head = {
        "pair": f"{signal.symbol}/{QUOTE}",
        "timeframe": signal.timeframe,
        "direction": t(f"outcome-{signal.direction}"),
    }
    if outcome.exit_price is None:
        lines = [t("outcome-unfilled", entry=format_price(signal.entry), **head)]
    else:
        lines = [
            t(f"outcome-{outcome.status}", **head),
            t("outcome-exit", price=format_price(outcome.exit_price), time=format_utc_time(outcome.exit_at, now)),
            t(
                "outcome-result",
                r=_r(outcome.result_r),
                pct=format_pct(outcome.result_pct),
                costs=f"{2 * (outcome.costs.fee_pct + outcome.costs.slippage_pct):.2f}%",
            ),
        ]
    if not threaded:
        lines.append(
            t(
                "outcome-original",
                time=format_utc_time(_start(signal), now),
                entry=format_price(signal.entry),
                stop=format_price(signal.stop),
                target=format_price(signal.targets[0]),
            )
        )
    return "\n".join(lines)
