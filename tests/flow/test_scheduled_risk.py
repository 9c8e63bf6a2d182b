"""The risk jobs as the scheduler registers them: the production registry holds a minute tick and a
scan per candle timeframe, and running the registered tick (claim and all) pushes a fired alert."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from services.scheduling.jobs import Outcome
from standins.exchanges import FakeBybit
from standins.telegram import FakeTelegramServer
from tests.harness import RunningBot, running_bot


@pytest.fixture
async def calm(tg: FakeTelegramServer, settings_factory: Callable[..., Any]) -> AsyncIterator[RunningBot]:
    async with running_bot(settings_factory(throttle_enabled=False), tg) as running:
        yield running


async def test_registered_risk_tick_fires_an_alert_once_per_tick(
    calm: RunningBot, tg: FakeTelegramServer, exchange: FakeBybit
) -> None:
    scheduler = calm.resources.scheduler
    assert scheduler is not None
    jobs = {spec.name: spec for spec in scheduler.jobs}
    assert {"risk-tick", "scan-5m", "scan-1h", "scan-4h"} <= set(jobs)

    ann = tg.add_user("Ann", language_code="en")
    level = round(exchange.book.last_price("ETH") * 1.05)
    await tg.send_command(ann, "/alert", f"eth > {level}")
    await tg.wait_for_messages(ann, 1, timeout=15)
    exchange.set_price("ETH", level * 1.02)

    await tg.wait_until(lambda: scheduler.elector.is_leader, what="this replica leads")
    tick = datetime.now(UTC).replace(second=5, microsecond=0)
    assert await scheduler.runner.run(jobs["risk-tick"], tick) is Outcome.RAN
    assert await scheduler.runner.run(jobs["risk-tick"], tick) is Outcome.TAKEN  # one run per tick
    pushed = await tg.wait_for_messages(ann, 2, timeout=15)
    assert "rose above" in pushed[-1].plain_text and "ETH/USDT" in pushed[-1].plain_text


async def test_every_registered_scan_runs_without_error(calm: RunningBot, tg: FakeTelegramServer) -> None:
    """Each market scan the scheduler registers runs clean for its timeframe (a scan on a timeframe the
    market service cannot fetch failed at every close): a failing job's exception reaches `run`."""
    scheduler = calm.resources.scheduler
    assert scheduler is not None
    ann = tg.add_user("Ann", language_code="en")
    await tg.send_command(ann, "/subscribe", "btc 1h 4h risk")
    await tg.wait_for_messages(ann, 1, timeout=15)
    await tg.wait_until(lambda: scheduler.elector.is_leader, what="this replica leads")
    scans = [spec for spec in scheduler.jobs if spec.name.startswith("scan-")]
    assert len(scans) >= 5
    tick = datetime.now(UTC).replace(second=5, microsecond=0)
    for spec in scans:
        assert await scheduler.runner.run(spec, tick) is Outcome.RAN, spec.name
