"""/unlinkchannel through the production dispatcher: the person who linked a channel removes the link
from their private chat (by @name, by id, or from the list's buttons, confirmed), even when they are
no longer an admin of it or the bot was removed; the channel's feeds stop with the link and its
waiting pushes are dropped. Every refusal answered in words, in both languages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from db.models import DeliveryStatus
from standins.telegram import FakeChat, FakeTelegramServer, FakeUser
from tests.flow.feeds_helpers import chat_row, command, deliveries, feeds, press, push
from tests.harness import RunningBot, running_bot


@pytest.fixture
async def app(tg: FakeTelegramServer, settings_factory: Callable[..., Any]) -> AsyncIterator[RunningBot]:
    async with running_bot(settings_factory(throttle_enabled=False, outbox_poll_seconds=3600), tg) as running:
        yield running


async def _linked_with_signals(app: RunningBot, tg: FakeTelegramServer, user: FakeUser, channel: FakeChat) -> None:
    """`user` links `channel` and subscribes it to the default signals feed (BTC 4h)."""
    done = await command(app, user, f"/linkchannel @{channel.username}")
    assert "is linked" in done.plain_text
    await press(app, user, "⚙️ Manage its feeds")
    await press(app, user, "➕ Subscribe to Signals")
    assert set(await feeds(app, channel.id)) == {"signals"}


async def test_link_then_unlink_stops_the_channels_feeds(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann")
    channel = tg.add_channel("Alpha <Calls>", admins=[ann], username="alphacalls")
    await _linked_with_signals(app, tg, ann, channel)
    assert await push(app, "s1", "BTC", "📢 BTC signal") == [channel.id]  # waiting in the outbox

    done = await command(app, ann, "/unlinkchannel @AlphaCalls")  # @names are case-insensitive
    assert done.plain_text.startswith(
        "✅ Alpha <Calls> is unlinked. Its feeds stopped and were removed:\n📈 Signals: BTC"
    )
    assert "<b>Alpha &lt;Calls&gt;</b>" in (done.source or "")  # the title is escaped HTML
    assert "/linkchannel" in done.plain_text
    row = await chat_row(app, channel.id)
    assert row is not None and row.managed_by is None and row.active
    assert await feeds(app, channel.id) == {}
    assert [d.status for d in await deliveries(app, channel.id)] == [DeliveryStatus.SKIPPED]
    assert await push(app, "s2", "BTC", "📢 BTC again") == []

    # /feeds no longer offers the channel; unlinking again finds nothing.
    view = await command(app, ann, "/feeds")
    assert "Alpha <Calls>" not in str(view.button_texts())
    again = await command(app, ann, "/unlinkchannel @alphacalls")
    assert again.plain_text.startswith("🤷 @alphacalls is not linked to you")

    # Linking again works as before, with no feeds.
    relinked = await command(app, ann, "/linkchannel @alphacalls")
    assert relinked.plain_text.startswith("✅ Alpha <Calls> is linked.")
    assert await feeds(app, channel.id) == {}


async def test_unlink_without_feeds_and_by_numeric_id(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann")
    channel = tg.add_channel("Private Calls", creator=ann)  # no public @name
    await command(app, ann, "/linkchannel")
    await tg.forward_channel_post(ann, channel)
    await app.settle()
    assert (await chat_row(app, channel.id)).managed_by == ann.id  # type: ignore[union-attr]

    done = await command(app, ann, f"/unlinkchannel {channel.id}")
    assert done.plain_text == "✅ Private Calls is unlinked. It had no feeds."
    assert (await chat_row(app, channel.id)).managed_by is None  # type: ignore[union-attr]


async def test_unlink_when_not_linked_to_you(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann, bob = tg.add_user("Ann"), tg.add_user("Bob")
    linked = tg.add_channel("Alpha Calls", admins=[ann, bob], username="alphacalls")
    tg.add_channel("Quiet", admins=[ann], username="quiet")
    tg.add_group("Chat", ann, username="somegroup")
    await _linked_with_signals(app, tg, ann, linked)

    answers = {
        "/unlinkchannel @quiet": "🤷 @quiet is not linked to you, so there is nothing to unlink.",
        "/unlinkchannel @nosuchchannel": "🤔 I can't find a channel @nosuchchannel.",
        "/unlinkchannel @somegroup": "@somegroup is not a channel.",
    }
    for text, expected in answers.items():
        answer = await command(app, ann, text)
        assert answer.plain_text.startswith(expected), (text, answer.plain_text)

    # Bob is an admin too, but the link is Ann's: he cannot remove it (he could /linkchannel to take it).
    refused = await command(app, bob, "/unlinkchannel @alphacalls")
    assert refused.plain_text.startswith("🤷 @alphacalls is not linked to you")
    assert (await chat_row(app, linked.id)).managed_by == ann.id  # type: ignore[union-attr]
    assert set(await feeds(app, linked.id)) == {"signals"}


async def test_a_former_admin_can_still_unlink(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann")
    channel = tg.add_channel("Alpha Calls", admins=[ann], username="alphacalls")
    gone = tg.add_channel("Gone Calls", admins=[ann], username="gonecalls")
    await _linked_with_signals(app, tg, ann, channel)
    assert "is linked" in (await command(app, ann, "/linkchannel @gonecalls")).plain_text

    channel.admin_ids.discard(ann.id)  # demoted
    done = await command(app, ann, "/unlinkchannel @alphacalls")
    assert done.plain_text.startswith("✅ Alpha Calls is unlinked. Its feeds stopped and were removed:")
    assert await feeds(app, channel.id) == {}

    # The bot was removed from the other one: it is still listed, and can still be unlinked.
    tg.bot_removed_from_group(gone, ann)
    await app.settle()
    listed = await command(app, ann, "/unlinkchannel")
    assert "Gone Calls — @gonecalls · I'm no longer in it" in listed.plain_text
    done = await command(app, ann, "/unlinkchannel @gonecalls")
    assert done.plain_text == "✅ Gone Calls is unlinked. It had no feeds."
    assert (await chat_row(app, gone.id)).managed_by is None  # type: ignore[union-attr]


async def test_bad_argument(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann")
    for text, name in (("/unlinkchannel <b>x", "<b>x"), ("/unlinkchannel @", "@"), ("/unlinkchannel #chan!", "#chan!")):
        answer = await command(app, ann, text)
        assert answer.plain_text.startswith(f"🤔 {name} is not a channel name."), (text, answer.plain_text)
    escaped = await command(app, ann, "/unlinkchannel <i>")
    assert "<b>&lt;i&gt;</b> is not a channel name." in (escaped.source or "")


async def test_the_list_and_its_buttons(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann")
    none = await command(app, ann, "/unlinkchannel")
    assert none.plain_text.startswith("📢 You have no linked channels.")
    assert none.button_texts() == []

    alpha = tg.add_channel("Alpha Calls", admins=[ann], username="alphacalls")
    beta = tg.add_channel("Beta Calls", admins=[ann], username="betacalls")
    await _linked_with_signals(app, tg, ann, alpha)
    assert "is linked" in (await command(app, ann, "/linkchannel @betacalls")).plain_text

    listed = await command(app, ann, "/unlinkchannel")
    assert listed.plain_text.startswith(
        "📢 Your linked channels\n\n• Alpha Calls — @alphacalls\n• Beta Calls — @betacalls\n\nTap one to unlink it"
    )
    assert listed.button_texts() == [["✖️ Unlink Alpha Calls"], ["✖️ Unlink Beta Calls"]]

    # A tap asks first, showing what stops; Back changes nothing.
    await press(app, ann, "✖️ Unlink Alpha Calls")
    confirm = tg.bot_messages(ann)[-1]
    assert confirm.plain_text.startswith("Unlink Alpha Calls? These feeds stop and are removed:\n📈 Signals: BTC")
    assert confirm.button_texts() == [["✖️ Unlink and stop its feeds", "↩️ Back"]]
    await press(app, ann, "↩️ Back")
    assert tg.bot_messages(ann)[-1].button_texts() == listed.button_texts()
    assert (await chat_row(app, alpha.id)).managed_by == ann.id  # type: ignore[union-attr]

    await press(app, ann, "✖️ Unlink Alpha Calls")
    await press(app, ann, "✖️ Unlink and stop its feeds")
    done = tg.bot_messages(ann)[-1]
    assert done.plain_text.startswith("✅ Alpha Calls is unlinked. Its feeds stopped and were removed:")
    assert (await chat_row(app, alpha.id)).managed_by is None  # type: ignore[union-attr]
    assert await feeds(app, alpha.id) == {}

    after = await command(app, ann, "/unlinkchannel")
    assert after.button_texts() == [["✖️ Unlink Beta Calls"]]
    # Beta is unlinked meanwhile by command: its stale button answers in words and shows the list.
    await command(app, ann, "/unlinkchannel @betacalls")
    update = await tg.press_button(ann, "✖️ Unlink Beta Calls", message_id=after.message_id)
    answer = await tg.wait_callback_answer(str(update["callback_query"]["id"]))
    await app.settle()
    assert answer.get("text") == "This channel is no longer linked to you."
    assert (await chat_row(app, beta.id)).managed_by is None  # type: ignore[union-attr]


async def test_in_a_group_or_channel_it_points_to_the_private_chat(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann")
    group = tg.add_group("Chat", ann)
    channel = tg.add_channel("Alpha Calls", admins=[ann], username="alphacalls")
    assert "is linked" in (await command(app, ann, "/linkchannel @alphacalls")).plain_text
    for text in ("/unlinkchannel @alphacalls", "/unlinkchannel"):
        answer = await command(app, ann, text, chat=group)
        assert answer.plain_text.startswith("📢 Unlink channels in your private chat with me"), answer.plain_text
    assert (await chat_row(app, channel.id)).managed_by == ann.id  # type: ignore[union-attr]


async def test_in_chinese(app: RunningBot, tg: FakeTelegramServer) -> None:
    li = tg.add_user("Li", language_code="zh")
    channel = tg.add_channel("Alpha Calls", admins=[li], username="alphacalls")
    await command(app, li, "/linkchannel @alphacalls")
    listed = await command(app, li, "/unlinkchannel")
    assert listed.plain_text.startswith("📢 你绑定的频道\n\n• Alpha Calls —— @alphacalls")
    assert listed.button_texts() == [["✖️ 解绑 Alpha Calls"]]
    bad = await command(app, li, "/unlinkchannel !!")
    assert bad.plain_text.startswith("🤔 !! 不是有效的频道名。")
    done = await command(app, li, "/unlinkchannel @alphacalls")
    assert done.plain_text == "✅ 已解绑 Alpha Calls。它没有订阅。"
    assert (await chat_row(app, channel.id)).managed_by is None  # type: ignore[union-attr]


async def test_a_long_list_stays_within_telegrams_limits(app: RunningBot, tg: FakeTelegramServer) -> None:
    """25 channels with 128-character titles: 20 listed (titles cut), a button each, the rest counted."""
    ann = tg.add_user("Ann")
    for n in range(25):
        title = f"{n:02d} " + "Very long channel title " * 6
        channel = tg.add_channel(title[:128], admins=[ann], username=f"longchannel{n:02d}")
        assert "is linked" in (await command(app, ann, f"/linkchannel @{channel.username}")).plain_text
    listed = await command(app, ann, "/unlinkchannel")
    assert listed.text is not None and len(listed.text) <= 4096
    assert len(listed.button_texts()) == 20
    assert "…and 5 more: unlink those with /unlinkchannel @name." in listed.plain_text
    assert "@longchannel19" in listed.plain_text and "@longchannel20" not in listed.plain_text
