"""Publishing a stored signal: one outbox row per chat whose signals feed covers it.

`publish(session, record, chart=…, translations=…, now=…)` writes, in the caller's transaction (the
caller commits, together with the signal itself):

- the chart once (`add_media`: one `delivery_media` row, however many chats; the sender uploads it
  at the first send and passes Telegram's file_id to every other chat);
- a `deliveries` row (kind "signal", ref_id = the signal's id) for every chat with a live `signals`
  feed covering the coin and the timeframe (services/feeds/recipients.py), its text in the chat's
  language (services/signals/texts.py), silent when the feed is, in the feed's forum topic;
- each row due at `now` + the `signal_delay_minutes` of the feed owner's plan (the person who
  created the feed; free when unknown or expired): `enqueue_many` takes a row's send time as its
  `now`, so the rows go in one write per distinct delay.

UNIQUE(kind, ref_id, chat_id) makes it idempotent: publishing a signal again adds nothing. Returns
how many rows are new. With `wake`, this process's sender looks as soon as the caller commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from db.repositories.feeds import FeedReadRepository, FeedRepository
from services.credits.plans import FREE, effective_plan_code
from services.delivery import OutboxMessage, OutboxWake, add_media, enqueue_many
from services.feeds.recipients import Recipient, recipients
from services.i18n import Translations
from services.signals.model import SignalRecord
from services.signals.texts import signal_text
from services.uow import Session

KIND = "signal"
FEED_KIND = "signals"


async def signal_delays(session: Session, owners: Iterable[int | None], now: datetime) -> dict[int | None, timedelta]:
    """How long each feed owner's plan holds signals back (`plans.signal_delay_minutes`), by owner."""
    wanted = set(owners)
    plans = await FeedReadRepository(session).user_plans(owner for owner in wanted if owner is not None)
    codes: dict[int | None, str] = {
        owner: effective_plan_code(*plans[owner], now) if owner is not None and owner in plans else FREE
        for owner in wanted
    }
    repository = FeedRepository(session)
    minutes: dict[str, int] = {}
    for code in set(codes.values()):
        row = await repository.plan_limits(code) or await repository.plan_limits(FREE)
        if row is None:
            raise LookupError("the free plan is missing (migrations not applied?)")
        minutes[code] = row.signal_delay_minutes
    return {owner: timedelta(minutes=max(0, minutes[code])) for owner, code in codes.items()}


async def publish(
    session: Session,
    record: SignalRecord,
    *,
    chart: bytes | None,
    translations: Translations,
    now: datetime,
    wake: OutboxWake | None = None,
) -> int:
    """Enqueue the signal to every subscribed chat (see the module docstring); the new rows. Never commits."""
    chats = await recipients(session, FEED_KIND, record.symbol, record.timeframe)
    if not chats:
        return 0
    photo = await add_media(session, chart, f"signal-{record.id}.png") if chart else None
    delays = await signal_delays(session, (chat.owner for chat in chats), now)
    texts: dict[str | None, str] = {}
    messages: dict[tuple[str | None, bool, int | None], OutboxMessage] = {}
    by_delay: defaultdict[timedelta, list[tuple[str, int, OutboxMessage]]] = defaultdict(list)
    ref = str(record.id)
    for chat in chats:
        by_delay[delays[chat.owner]].append(
            (ref, chat.chat_id, _message(chat, record, photo, translations, texts, messages))
        )
    inserted = 0
    for delay, items in sorted(by_delay.items()):
        inserted += await enqueue_many(session, kind=KIND, items=items, now=now + delay, wake=wake)
    return inserted


def _message(
    chat: Recipient,
    record: SignalRecord,
    photo: str | None,
    translations: Translations,
    texts: dict[str | None, str],
    messages: dict[tuple[str | None, bool, int | None], OutboxMessage],
) -> OutboxMessage:
    """The chat's payload: one text per language and one message object per (language, silent, topic),
    so 10,000 chats share a handful of objects (and of JSON bodies, see `enqueue_many`)."""
    key = (chat.locale, chat.silent, chat.thread_id)
    message = messages.get(key)
    if message is None:
        text = texts.get(chat.locale)
        if text is None:
            text = texts[chat.locale] = signal_text(record, translations.get(chat.locale))
        message = messages[key] = chat.message(text, photo=photo)
    return message
