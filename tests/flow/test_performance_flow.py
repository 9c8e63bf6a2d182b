"""/performance and the weekly digest through the production dispatcher: the figures of stored signals
(checked by hand here), too few signals → no figure, a usage line for words that fit nothing, both
languages; /digest only for those who may change the chat's feeds, and the registered weekly job
pushing the digest once per chat and week through the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from db.repositories.signals import SignalRepository
from services.scheduling.jobs import Outcome
from services.signals.model import SignalIdea, new_signal
from standins.telegram import FakeTelegramServer
from tests.flow.feeds_helpers import command, feeds, press
from tests.harness import RunningBot, running_bot


@pytest.fixture
async def app(tg: FakeTelegramServer, settings_factory: Callable[..., Any]) -> AsyncIterator[RunningBot]:
    async with running_bot(settings_factory(throttle_enabled=False), tg) as running:
        yield running


async def record(app: RunningBot, symbol: str, results: list[float], *, days_ago: float) -> None:
    """Closed long signals of `symbol` 4h, one per result (in R; the percent is twice it), oldest first."""
    now = datetime.now(UTC)
    async with app.resources.sessionmaker() as session:
        repo = SignalRepository(session)
        for index, result in enumerate(results):
            at = now - timedelta(days=days_ago) + timedelta(minutes=index)
            idea = SignalIdea(
                symbol=symbol,
                exchange="bybit",
                timeframe="4h",
                direction="long",
                entry=100.0,
                stop=98.0,
                targets=(104.0,),
                confidence=60,
                reason=("trend_up",),
                signal_at=at - timedelta(hours=4),
                valid_until=at + timedelta(hours=40),
                strategy="trend",
                version="1",
            )
            signal_id = await repo.add(new_signal(idea))
            assert signal_id is not None
            status = "tp" if result > 0 else "sl"
            await repo.close(
                signal_id,
                status=status,
                exit_price=100 + 2 * result,
                closed_at=at,
                result_r=result,
                outcome_pct=2 * result,
                fee_pct=0.055,
                slippage_pct=0.02,
            )
        await session.commit()


async def test_performance_figures_too_few_and_usage(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann", language_code="en")
    empty = await command(app, ann, "/performance")
    title = "📊 Signal track record — all coins · all timeframes · all time"
    assert empty.plain_text == f"{title}\n\nNo signal has closed in this selection yet."

    await record(app, "BTC", [-1.0] * 14 + [2.0] * 10, days_ago=20)  # the losses first: drawdown 14 R
    await record(app, "BTC", [2.0], days_ago=60)
    await record(app, "ETH", [2.0, -1.0, 2.0], days_ago=5)

    shown = (await command(app, ann, "/performance btc 4h 30d")).plain_text
    assert shown.startswith("📊 Signal track record — BTC · 4h · last 30 days")
    for line in (
        "trend v1: 24 closed signals (10 won, 14 lost)",
        "Win rate: 41.7% (n=24)",
        "Average result: +0.25 R (n=24)",
        "Profit factor: 1.43 (n=24)",
        "Expectancy: +0.50% per signal (n=24)",
        "Max drawdown: 14.00 R (n=24)",
        "Kelly fraction: 12.5% (n=24)",
    ):
        assert line in shown.splitlines(), line
    assert "Sharpe, per signal, not annualised:" in shown and "Past results, not a forecast." in shown
    assert "guaranteed" not in shown.lower() and "accuracy" not in shown.lower()

    everything = (await command(app, ann, "/performance $BTC")).plain_text
    assert "trend v1: 25 closed signals (11 won, 14 lost)" in everything

    few = (await command(app, ann, "/performance eth")).plain_text
    assert "trend v1: 3 closed signals (2 won, 1 lost)" in few
    assert "Only 3 graded trades: too few for the figures to mean anything (at least 20 are needed)." in few
    assert "Win rate" not in few and "(n=" not in few

    for wrong in ("/performance btc eth", "/performance btc 4h 1h", "/performance what?"):
        usage = await command(app, ann, wrong)
        assert usage.plain_text.startswith("Usage: /performance [coin] [timeframe] [30d|90d|all]"), wrong

    li = tg.add_user("Li", language_code="zh")
    chinese = (await command(app, li, "/performance btc 30d")).plain_text
    assert chinese.startswith("📊 信号历史表现 — BTC · 全部周期 · 最近 30 天") and "胜率：41.7%（n=24）" in chinese


async def test_digest_for_admins_and_the_weekly_job(app: RunningBot, tg: FakeTelegramServer) -> None:
    owner, bob = tg.add_user("Owner"), tg.add_user("Bob")
    group = tg.add_group("Traders", owner, members=[bob])
    await record(app, "BTC", [2.0, -1.0] * 12, days_ago=3)

    seen = await command(app, bob, "/performance btc", chat=group)  # anyone may look
    assert "24 closed signals" in seen.plain_text
    refused = await command(app, bob, "/digest on", chat=group)
    assert refused.plain_text == "🔒 Only the chat's administrators can change its feeds and settings."
    no_feed = await command(app, owner, "/digest on", chat=group)
    assert no_feed.plain_text.startswith("This chat has no signal feed yet")
    usage = await command(app, owner, "/digest maybe", chat=group)
    assert usage.plain_text.startswith("Usage: /digest on or /digest off")

    await command(app, owner, "/subscribe btc 4h", chat=group)
    assert not (await feeds(app, group.id))["signals"].digest
    done = await command(app, owner, "/digest on", chat=group)
    assert done.plain_text.startswith("🗓 Weekly digest on")
    assert (await feeds(app, group.id))["signals"].digest

    scheduler = app.resources.scheduler
    assert scheduler is not None
    jobs = {spec.name: spec for spec in scheduler.jobs}
    await tg.wait_until(lambda: scheduler.elector.is_leader, what="this replica leads")
    before = len(tg.bot_messages(group))
    tick = datetime.now(UTC).replace(second=5, microsecond=0)
    assert await scheduler.runner.run(jobs["signals-digest"], tick) is Outcome.RAN
    assert await scheduler.runner.run(jobs["signals-digest"], tick) is Outcome.TAKEN
    pushed = (await tg.wait_for_messages(group, before + 1, timeout=15))[-1].plain_text
    assert pushed.startswith("🗓 Weekly signal digest — BTC\n24 signals closed this week.")
    assert "Win rate: 50.0% (n=24)" in pushed and "Past results, not a forecast." in pushed

    off = await command(app, owner, "/digest off", chat=group)
    assert off.plain_text == "Weekly digest off."
    assert not (await feeds(app, group.id))["signals"].digest


async def test_digest_for_a_linked_channel_from_private(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann, bob = tg.add_user("Ann"), tg.add_user("Bob")
    channel = tg.add_channel("Alpha Calls", admins=[ann], username="alphacalls")
    await command(app, ann, "/linkchannel @alphacalls")
    await command(app, bob, "/start")
    assert (await command(app, bob, "/digest on Alpha Calls")).plain_text.startswith("🔒")
    assert (await command(app, ann, "/digest on Alpha Calls")).plain_text.startswith("This chat has no signal feed")
    assert (await command(app, ann, "/digest on Nowhere")).plain_text.startswith("🔒")
    await command(app, ann, "/linkchannel @alphacalls")
    await press(app, ann, "⚙️ Manage its feeds")
    await press(app, ann, "➕ Subscribe to Signals")
    assert (await command(app, ann, "/digest on alpha calls")).plain_text.startswith("🗓 Weekly digest on")
    assert (await feeds(app, channel.id))["signals"].digest
    assert "signals" not in await feeds(app, ann.id)  # the channel's feed, not her private chat's
    await command(app, bob, "/subscribe eth")  # a private chat: its user decides
    assert (await command(app, bob, "/digest on")).plain_text.startswith("🗓 Weekly digest on")
    assert (await feeds(app, bob.id))["signals"].digest
