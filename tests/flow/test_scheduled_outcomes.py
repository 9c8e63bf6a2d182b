"""The outcome tracker as the scheduler registers it: the production registry holds a job at each
5-minute close, and running it (claim and all) in the running bot closes an expired signal once and
the bot's own sender delivers the outcome as a reply to the signal the subscriber received."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from db.models import User
from db.repositories.signals import SignalRepository
from services.scheduling.jobs import Outcome
from services.signals.model import SignalIdea, new_signal
from services.signals.publish import publish
from standins.exchanges import FakeBybit
from standins.telegram import FakeTelegramServer
from tests.harness import RunningBot, running_bot


@pytest.fixture
async def calm(tg: FakeTelegramServer, settings_factory: Callable[..., Any]) -> AsyncIterator[RunningBot]:
    async with running_bot(settings_factory(throttle_enabled=False), tg) as running:
        yield running


async def test_the_registered_tracker_replies_to_the_signal_with_its_outcome_once(
    calm: RunningBot, tg: FakeTelegramServer, exchange: FakeBybit
) -> None:
    scheduler = calm.resources.scheduler
    assert scheduler is not None
    jobs = {spec.name: spec for spec in scheduler.jobs}
    assert "signal-outcomes" in jobs

    ann = tg.add_user("Ann", language_code="en")
    await tg.send_command(ann, "/subscribe", "btc 1h")
    await tg.wait_for_messages(ann, 1, timeout=15)

    # A signal from three hours ago whose validity ended a minute ago, its levels far out of reach
    # of the fake's random walk: it expires at the last close before valid_until.
    now = datetime.now(UTC)
    price = exchange.book.last_price("BTC")
    hour = now.replace(minute=0, second=0, microsecond=0)
    signal = SignalIdea(
        symbol="BTC",
        exchange="bybit",
        timeframe="1h",
        direction="long",
        entry=price,
        stop=price * 0.5,
        targets=(price * 2,),
        confidence=55,
        reason=("trend_up",),
        signal_at=hour - timedelta(hours=3),
        valid_until=now - timedelta(minutes=1),
        strategy="trend",
        version="1",
    )
    services = calm.resources.services
    async with calm.resources.sessionmaker() as session:
        # Ann on a paid plan: her signal is not held back (the free plan's 15 minutes)
        await session.execute(update(User).where(User.telegram_id == ann.id).values(plan="pro"))
        repository = SignalRepository(session)
        signal_id = await repository.add(new_signal(signal))
        assert signal_id is not None
        record = await repository.get(signal_id)
        assert record is not None
        await publish(
            session, record, chart=None, translations=services.translations, now=now, wake=services.outbox_wake
        )
        await session.commit()
    _subscribed, sent = await tg.wait_for_messages(ann, 2, timeout=15)
    assert "BTC" in sent.plain_text
    await tg.wait_until(lambda: scheduler.elector.is_leader, what="this replica leads")
    tick = now.replace(second=5, microsecond=0)
    assert await scheduler.runner.run(jobs["signal-outcomes"], tick) is Outcome.RAN
    assert await scheduler.runner.run(jobs["signal-outcomes"], tick) is Outcome.TAKEN  # one run per tick
    async with calm.resources.sessionmaker() as session:
        closed = await SignalRepository(session).get(signal_id)
    assert closed is not None and closed.status == "expired"
    assert closed.closed_at is not None and closed.closed_at <= signal.valid_until
    outcome = (await tg.wait_for_messages(ann, 3, timeout=15))[-1]
    assert outcome.reply_to is not None and outcome.reply_to.message_id == sent.message_id
    assert "validity ended" in outcome.plain_text and "R" in outcome.plain_text
    await tg.wait_until(lambda: scheduler.elector.is_leader, what="still leading")
    assert await scheduler.runner.run(jobs["signal-outcomes"], tick + timedelta(minutes=5)) is Outcome.RAN
    assert len(tg.bot_messages(ann)) == 3  # closed once: no second outcome
