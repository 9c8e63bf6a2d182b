"""The signals engine as the scheduler runs it: the registered 1h market scan, at a close where the
strategy fires for a coin a private chat follows, pushes the signal with its chart through the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from services.market.models import Candles
from services.market.timeframes import candle_open
from services.scheduling.jobs import Outcome
from services.signals.strategy import evaluate
from standins.exchanges import FakeBybit, ending_at, generate_scenario
from standins.telegram import FakeTelegramServer
from tests.flow.feeds_helpers import command, set_plan
from tests.harness import RunningBot, running_bot

HOUR_MS = 3_600_000


@pytest.fixture
async def calm(tg: FakeTelegramServer, settings_factory: Callable[..., Any]) -> AsyncIterator[RunningBot]:
    async with running_bot(settings_factory(throttle_enabled=False), tg) as running:
        yield running


def long_at_the_last_close(now_ms: int) -> np.ndarray:
    """1h candles whose last closed one (before `now_ms`) gives a long, then the forming one."""
    rows = generate_scenario([("range", 150), ("up", 150)], seed=4, timeframe="1h")

    def long(k: int) -> bool:
        idea = evaluate(Candles.from_array(rows[:k], exchange="bybit", symbol="BTC/USDT", timeframe="1h"), symbol="BTC")
        return idea is not None and idea.direction == "long"

    k = next(k for k in range(200, 300) if long(k))
    return ending_at(rows[: k + 1], candle_open(now_ms, "1h"), "1h")


async def test_the_registered_scan_pushes_a_signal_with_its_chart(
    calm: RunningBot, tg: FakeTelegramServer, exchange: FakeBybit
) -> None:
    scheduler = calm.resources.scheduler
    assert scheduler is not None
    jobs = {spec.name: spec for spec in scheduler.jobs}
    ann = tg.add_user("Ann", language_code="en")
    await command(calm, ann, "/start")
    await set_plan(calm, ann.id, "vip")  # no plan delay: the push is due at once
    await command(calm, ann, "/subscribe btc 1h")
    before = len(tg.bot_messages(ann))

    now_ms = int(exchange.clock.time() * 1000)
    exchange.book.set_candles("BTC", "1h", long_at_the_last_close(now_ms))
    tick = datetime.fromtimestamp((candle_open(now_ms, "1h") + 5_000) / 1000, UTC)
    await tg.wait_until(lambda: scheduler.elector.is_leader, what="this replica leads")
    assert await scheduler.runner.run(jobs["scan-1h"], tick) is Outcome.RAN

    pushed = (await tg.wait_for_messages(ann, before + 1, timeout=15))[-1]
    assert pushed.photo is not None
    assert "LONG BTC/USDT" in pushed.plain_text and "1h" in pushed.plain_text
    assert "not a probability" in pushed.plain_text
