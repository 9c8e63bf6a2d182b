"""The outbox in the production bot: the dispatcher starts the sender and stops it on shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bot.settings import ConfigError, load_settings
from db.models import DeliveryStatus
from db.repositories.deliveries import DeliveryRepository
from services.delivery import OutboxMessage, enqueue
from standins.telegram import FakeTelegramServer
from tests.harness import running_bot


async def test_the_running_bot_delivers_what_is_enqueued_and_stops_its_sender(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any]
) -> None:
    ann = tg.add_user("Ann")
    # An hour between polls: the delivery below goes out because the service's commit wakes the
    # sender, through the wake the composition root gave both (`Services.outbox_wake`).
    async with running_bot(settings_factory(outbox_poll_seconds=3600), tg) as app:
        sender = app.resources.sender
        assert sender is not None
        wake = app.resources.services.outbox_wake
        async with app.resources.sessionmaker() as session:
            payload = OutboxMessage.build(text="🚀 <b>BTC</b> long on 4h")
            assert await enqueue(session, kind="signal", ref_id=1, chat_ids=[ann.id], payload=payload, wake=wake) == 1
            await session.commit()
        (message,) = await tg.wait_for_messages(ann, 1)
        await sender.wait_recorded(1, timeout=10)
        async with app.resources.sessionmaker() as session:
            (row,) = await DeliveryRepository(session).for_ref("signal", "1")
        running = [task for task in app.resources.background if task.get_name() == "outbox-sender"]
        assert len(running) == 1 and not running[0].done()
    assert message.plain_text == "🚀 BTC long on 4h"
    assert (row.status, row.message_id) == (DeliveryStatus.SENT, message.message_id)
    assert running[0].done() and not running[0].cancelled()  # stopped by the shutdown hook, not cancelled
    assert not [task for task in asyncio.all_tasks() if task.get_name().startswith("delivery-")]


def test_a_backoff_cap_below_its_base_stops_the_start() -> None:
    with pytest.raises(ConfigError, match=r"^Invalid OUTBOX_BACKOFF_MAX: must be at least OUTBOX_BACKOFF_BASE$"):
        load_settings(_env_file=None, outbox_backoff_base=10, outbox_backoff_max=5)
    with pytest.raises(ConfigError, match=r"^Invalid OUTBOX_CONCURRENCY"):
        load_settings(_env_file=None, outbox_concurrency=0)
