"""Channels through the production dispatcher: /linkchannel @name (or a forwarded post) by an admin
of the channel where the bot is an admin allowed to post; then its feeds are managed from that
admin's private chat. Every refusal answered in words."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from standins.telegram import FakeTelegramServer
from tests.flow.feeds_helpers import chat_row, command, drain, feeds, press, push
from tests.harness import RunningBot, running_bot


@pytest.fixture
async def app(tg: FakeTelegramServer, settings_factory: Callable[..., Any]) -> AsyncIterator[RunningBot]:
    async with running_bot(settings_factory(throttle_enabled=False, outbox_poll_seconds=3600), tg) as running:
        yield running


async def test_link_a_channel_and_manage_its_feeds_from_private(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann, bob = tg.add_user("Ann"), tg.add_user("Bob")
    channel = tg.add_channel("Alpha Calls", admins=[ann], username="alphacalls")
    await command(app, bob, "/start")

    done = await command(app, ann, "/linkchannel @alphacalls")
    assert done.plain_text == "✅ Alpha Calls is linked. Manage its feeds here with /feeds."
    row = await chat_row(app, channel.id)
    assert row is not None and (row.type, row.managed_by, row.active) == ("channel", ann.id, True)

    await press(app, ann, "⚙️ Manage its feeds")
    shown = tg.bot_messages(ann)[-1]
    assert shown.plain_text.startswith("📡 Feeds — Alpha Calls")
    assert shown.button_texts()[0] == ["this chat", "• Alpha Calls"]
    await press(app, ann, "➕ Subscribe to Signals")
    assert (await feeds(app, channel.id))["signals"].created_by == ann.id
    assert await feeds(app, ann.id) == {}

    # /feeds in the private chat offers the chat picker.
    view = await command(app, ann, "/feeds")
    assert view.plain_text.startswith("📡 Feeds — this chat")
    assert view.button_texts()[0] == ["• this chat", "Alpha Calls"]

    assert await push(app, "s1", "BTC", "📢 BTC signal") == [channel.id]
    await drain(app, bob)
    assert tg.bot_texts(channel)[-1] == "📢 BTC signal"

    # Someone else cannot link it away.
    refused = await command(app, bob, "/linkchannel @alphacalls")
    assert refused.plain_text == "🔒 You're not an administrator of Alpha Calls. Only its admins can link it."
    assert (await chat_row(app, channel.id)).managed_by == ann.id  # type: ignore[union-attr]


async def test_link_by_forwarding_a_post(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann")
    channel = tg.add_channel("Private Calls", creator=ann)  # no public @name
    how = await command(app, ann, "/linkchannel")
    assert "forward me a post" in how.plain_text
    await tg.forward_channel_post(ann, channel)
    await app.settle()
    assert tg.bot_messages(ann)[-1].plain_text.startswith("✅ Private Calls is linked.")
    assert (await chat_row(app, channel.id)).managed_by == ann.id  # type: ignore[union-attr]


async def test_each_refusal(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann")
    group = tg.add_group("Chat", ann, username="somegroup")
    tg.add_channel("No Bot", admins=[ann], bot_is_admin=False, username="nobot")
    mute = tg.add_channel("Mute Bot", admins=[ann], username="mutebot")
    mute.bot_can_post = False

    answers = {
        "/linkchannel @nosuchchannel": "🤔 I can't find a channel @nosuchchannel.",
        "/linkchannel @somegroup": "@somegroup is not a channel.",
        "/linkchannel @nobot": "🔒 I'm not an administrator of No Bot with the right to post messages.",
        "/linkchannel @mutebot": "🔒 I'm not an administrator of Mute Bot with the right to post messages.",
    }
    for text, expected in answers.items():
        answer = await command(app, ann, text)
        assert answer.plain_text.startswith(expected), (text, answer.plain_text)
    elsewhere = await command(app, ann, "/linkchannel @mutebot", chat=group)
    assert "in your private chat" in elsewhere.plain_text
    assert (await chat_row(app, mute.id)) is None
