"""Feeds in a private chat, through the production dispatcher: /subscribe with coins resolved against
the exchange, plan limits with a way to upgrade, the /feeds keyboard (coins, timeframes, kinds,
level), and pushes built from the feed (silent → disable_notification)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from standins.telegram import FakeTelegramServer
from tests.flow.feeds_helpers import command, drain, feeds, press, push, set_plan
from tests.harness import RunningBot, running_bot


@pytest.fixture
async def app(tg: FakeTelegramServer, settings_factory: Callable[..., Any]) -> AsyncIterator[RunningBot]:
    # The sender sends only when woken: a test decides when the outbox drains.
    async with running_bot(settings_factory(throttle_enabled=False, outbox_poll_seconds=3600), tg) as running:
        yield running


async def test_subscribe_limits_and_upgrade(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann")
    usage = await command(app, ann, "/subscribe")
    assert "/subscribe BTC ETH 1h 4h" in usage.plain_text

    unknown = await command(app, ann, "/subscribe NOPECOIN 4h")
    assert "I can't find NOPECOIN" in unknown.plain_text
    assert await feeds(app, ann.id) == {}

    # Free: one coin per feed, one feed.
    too_many = await command(app, ann, "/subscribe btc eth 1h")
    assert "Free plan allows 1 coins per feed" in too_many.plain_text
    assert too_many.button_texts() == [["⭐ Upgrade plan"]]
    assert await feeds(app, ann.id) == {}

    done = await command(app, ann, "/subscribe bitcoin 1h")
    assert done.plain_text.startswith("✅ Subscribed: BTC (Signals).")
    assert "📈 Signals: BTC · 1h · 🔔 On" in done.plain_text
    assert "signals arrive 15 min after they are published" in done.plain_text
    (feed,) = (await feeds(app, ann.id)).values()
    row = (feed.kind, feed.symbols, feed.timeframes, feed.level, feed.created_by)
    assert row == ("signals", "BTC", "1h", "on", ann.id)

    second = await command(app, ann, "/subscribe eth risk")
    assert "Free plan allows 1 feeds" in second.plain_text
    assert set(await feeds(app, ann.id)) == {"signals"}

    # The upgrade button opens the existing purchase menu.
    await press(app, ann, "⭐ Upgrade plan")
    vip = "👑 VIP plan · 30 days · 250 ⭐"
    await tg.wait_until(lambda: bool(tg.bot_messages(ann)[-1].find_button(vip)), 5, "the offers")

    # On VIP: more coins and feeds, no delay shown.
    await set_plan(app, ann.id, "vip")
    more = await command(app, ann, "/subscribe eth sol 4h")
    assert "📈 Signals: BTC, ETH, SOL · 1h 4h · 🔔 On" in more.plain_text
    assert "arrive" not in more.plain_text
    risk = await command(app, ann, "/subscribe eth risk")
    assert "⚠️ Risk alerts: ETH · 🔔 On" in risk.plain_text
    assert set(await feeds(app, ann.id)) == {"signals", "risk"}

    gone = await command(app, ann, "/unsubscribe eth")
    assert gone.plain_text.startswith("✅ Unsubscribed.")
    stored = await feeds(app, ann.id)
    assert set(stored) == {"signals"} and stored["signals"].symbols == "BTC,SOL"
    await command(app, ann, "/unsubscribe")
    assert await feeds(app, ann.id) == {}


async def test_keyboard_toggles_and_a_silent_feed_pushes_silently(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann, bob = tg.add_user("Ann"), tg.add_user("Bob")
    await command(app, ann, "/start")
    await command(app, bob, "/start")
    await set_plan(app, ann.id, "vip")
    view = await command(app, ann, "/feeds")
    assert "📈 Signals: not subscribed" in view.plain_text
    await press(app, ann, "➕ Subscribe to Signals")
    assert (await feeds(app, ann.id))["signals"].symbols == "BTC"
    await press(app, ann, "▫️ ETH")
    await press(app, ann, "1h")
    await press(app, ann, "✅ 4h")  # off
    feed = (await feeds(app, ann.id))["signals"]
    assert (feed.symbols, feed.timeframes) == ("BTC,ETH", "1h")
    answer = await press(app, ann, "✅ BTC")
    answer = await press(app, ann, "✅ ETH")  # the last coin stays
    assert answer["show_alert"] and "at least one coin" in str(answer["text"])
    assert (await feeds(app, ann.id))["signals"].symbols == "ETH"

    await press(app, ann, "🔕 Silent")
    assert (await feeds(app, ann.id))["signals"].level == "silent"
    shown = tg.bot_messages(ann)[-1]
    assert "📈 Signals: ETH · 1h · 🔕 Silent" in shown.plain_text
    assert ["🔔 On", "✓ 🔕 Silent", "⛔ Off"] in shown.button_texts()

    assert await push(app, "s1", "ETH", "🚀 <b>ETH</b> long", timeframe="1h") == [ann.id]
    assert await push(app, "s2", "ETH", "4h only", timeframe="4h") == []
    await drain(app, bob)
    signal = tg.bot_messages(ann)[-1]
    assert signal.plain_text == "🚀 ETH long" and signal.disable_notification

    await press(app, ann, "⛔ Off")
    assert await push(app, "s3", "ETH", "off", timeframe="1h") == []
    await press(app, ann, "🔔 On")
    await push(app, "s4", "ETH", "loud", timeframe="1h")
    await drain(app, bob)
    assert tg.bot_messages(ann)[-1].plain_text == "loud" and not tg.bot_messages(ann)[-1].disable_notification

    # Kinds: risk on (copies the coins), then off again.
    await press(app, ann, "⚠️ Risk alerts")
    await press(app, ann, "➕ Subscribe to Risk alerts")
    assert (await feeds(app, ann.id))["risk"].symbols == "ETH"
    await press(app, ann, "➖ Unsubscribe from Risk alerts")
    assert set(await feeds(app, ann.id)) == {"signals"}
