"""A signal published to 200 subscribed chats, sent by the production outbox sender through a real
aiogram Bot to the fake Bot API, then closed by the tracker (fake Bybit over real ccxt), on both
backends: every chat gets the signal once and its outcome once, in its language; chats whose signal
was sent get the outcome as a reply to THEIR message; chats whose signal was still held back by the
plan's delay when the outcome was graded get it right after the signal, unthreaded, naming it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from db.models import Chat, Feed, User
from db.repositories.signals import SignalRepository
from services.i18n import Translations
from services.signals.model import new_signal
from services.signals.publish import publish
from services.signals.tracker import OutcomeTracker
from standins.exchanges import DEFAULT_NOW, FakeClock, market_env
from standins.telegram import FakeTelegramServer, FakeUser
from tests.integration.outbox_helpers import Sessions, fast_telegram, running_sender
from tests.integration.test_signal_tracker import COSTS, SIGNAL_AT, idea, rows

# 200 chats, claimed 50 at a time: four batches for each wave (signals, outcomes, held-back ones), 20
# chats on the free plan's delay, 50 in Chinese — every path below, many times over, across batches.
CHATS = 200
BATCH = 50
TRANSLATIONS = Translations()


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegramServer]:
    async with fast_telegram() as server:
        yield server


def plan_of(index: int) -> str:
    return "free" if index % 10 == 0 else "pro"  # free: signals 15 minutes late


def locale_of(index: int) -> str:
    return "zh" if index % 4 == 1 else "en"


async def subscribe(sessionmaker: Sessions, users: list[FakeUser]) -> None:
    """Each user: a private chat with a BTC 1h signals feed; every 10th on the free plan, every 4th zh."""
    async with sessionmaker() as session:
        for index, user in enumerate(users):
            session.add(
                User(
                    telegram_id=user.id,
                    first_name=user.first_name,
                    language_code=locale_of(index),
                    invite_code=f"i{user.id}",
                    plan=plan_of(index),
                )
            )
            session.add(Chat(id=user.id, type="private", active=True))
        await session.flush()
        session.add_all(
            Feed(chat_id=user.id, kind="signals", symbols="BTC", timeframes="1h", created_by=user.id) for user in users
        )
        await session.commit()


async def test_outcomes_reach_every_chat_threaded_to_each_chats_own_signal_message(
    tg: FakeTelegramServer, sessionmaker: Sessions
) -> None:
    users = [tg.add_user(f"U{i}", language_code=locale_of(i)) for i in range(CHATS)]
    await subscribe(sessionmaker, users)
    held = [user for index, user in enumerate(users) if plan_of(index) == "free"]
    path = [(60_000.0, 60_500.0, 59_500.0, 60_200.0), (60_200.0, 62_500.0, 60_100.0, 62_300.0)]
    async with market_env(exchanges=("bybit",), clock=FakeClock(DEFAULT_NOW)) as env:
        env.bybit.book.set_candles("BTC", "1h", rows(path))
        async with running_sender(tg, sessionmaker, concurrency=16, batch_size=BATCH) as outbox:
            async with sessionmaker() as session:
                repository = SignalRepository(session)
                signal_id = await repository.add(new_signal(idea()))
                assert signal_id is not None
                record = await repository.get(signal_id)
                assert record is not None
                published = await publish(
                    session, record, chart=None, translations=TRANSLATIONS, now=outbox.clock(), wake=outbox.wake
                )
                await session.commit()
            assert published == CHATS
            sent_now = CHATS - len(held)
            await outbox.settle(sent_now)

            tracker = OutcomeTracker(sessionmaker, env.service, TRANSLATIONS, COSTS, on_enqueued=outbox.sender.wake)
            moment = SIGNAL_AT + timedelta(hours=2, seconds=5)
            env.clock.set(moment.timestamp())
            report = await tracker.run(moment)
            assert (report.closed, report.messages) == (1, CHATS)
            await outbox.settle(2 * sent_now)
            # the held-back chats have neither message yet: their outcome waits behind their signal
            assert all(not tg.bot_messages(user) for user in held)

            outbox.clock.advance(15 * 60 + 1)  # the free plan's delay is over
            outbox.sender.wake()
            await outbox.settle(2 * CHATS)
            stats = await outbox.sender.stats()
    assert (stats.sent_total, stats.backlog) == (2 * CHATS, 0)

    free = {user.id for user in held}
    for index, user in enumerate(users):
        signal, outcome = tg.bot_messages(user)  # exactly two: the signal once, its outcome once
        zh = locale_of(index) == "zh"
        assert ("已到达第一目标" if zh else "first target reached") in outcome.plain_text
        assert "62,400" in outcome.plain_text and ("+1.90 R" in outcome.plain_text)
        if user.id in free:
            assert outcome.reply_to is None, user.id
            assert ("的信号" if zh else "Signal of") in outcome.plain_text
        else:
            assert outcome.reply_to is not None and outcome.reply_to.message_id == signal.message_id, user.id
            assert ("的信号" if zh else "Signal of") not in outcome.plain_text
    assert tg.count_429 == 0
