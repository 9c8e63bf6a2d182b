"""Feeds in groups through the production dispatcher: only the chat's administrators (getChatMember,
cached briefly) change them; the bot removed → nothing more is sent there, added back → resumed and
told once; a group upgraded to a supergroup → its feeds and pushes follow the new id; forum topics;
the group's language, set by its admins, is the language of what it is pushed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import select

from db.models import DeliveryStatus, User
from standins.telegram import FakeTelegramServer
from tests.flow.feeds_helpers import chat_row, command, deliveries, drain, feeds, press, push
from tests.harness import RunningBot, running_bot


@pytest.fixture
async def app(tg: FakeTelegramServer, settings_factory: Callable[..., Any]) -> AsyncIterator[RunningBot]:
    settings = settings_factory(throttle_enabled=False, outbox_poll_seconds=3600, feeds_admin_cache_seconds=60)
    async with running_bot(settings, tg) as running:
        yield running


async def test_only_admins_change_a_groups_feeds(app: RunningBot, tg: FakeTelegramServer) -> None:
    owner, admin, bob = tg.add_user("Owner"), tg.add_user("Ada"), tg.add_user("Bob")
    group = tg.add_group("Traders", owner, admins=[admin], members=[bob])

    refused = await command(app, bob, "/subscribe btc 4h", chat=group)
    assert refused.plain_text == "🔒 Only the chat's administrators can change its feeds and settings."
    assert await feeds(app, group.id) == {}
    await command(app, bob, "/unsubscribe", chat=group)
    assert "🔒" in tg.bot_messages(group)[-1].plain_text

    done = await command(app, admin, "/subscribe btc 4h", chat=group)
    assert done.plain_text.startswith("✅ Subscribed: BTC (Signals).")
    assert (await feeds(app, group.id))["signals"].symbols == "BTC"

    # Anyone may look; a non-admin sees no keyboard.
    seen = await command(app, bob, "/feeds", chat=group)
    assert "📈 Signals: BTC · 4h · 🔔 On" in seen.plain_text and "🔒" in seen.plain_text
    assert seen.reply_markup is None

    # A non-admin pressing the admin's keyboard: refused, nothing changed.
    await command(app, admin, "/feeds", chat=group)
    answer = await press(app, bob, "🔕 Silent", chat=group)
    assert answer["show_alert"] and "administrators" in str(answer["text"])
    assert (await feeds(app, group.id))["signals"].level == "on"
    await press(app, admin, "🔕 Silent", chat=group)
    assert (await feeds(app, group.id))["signals"].level == "silent"

    # getChatMember once per (chat, person) within the cache time.
    asked = [(c.params["chat_id"], c.params["user_id"]) for c in tg.calls_to("getChatMember")]
    assert sorted(asked) == sorted({(group.id, bob.id), (group.id, admin.id)})

    # Demoted: still trusted until the cache expires (60 s here); a fresh bot would ask again.
    group.admin_ids.discard(admin.id)
    await press(app, admin, "🔔 On", chat=group)
    assert (await feeds(app, group.id))["signals"].level == "on"


async def test_kicked_then_added_back(app: RunningBot, tg: FakeTelegramServer) -> None:
    owner, ann = tg.add_user("Owner"), tg.add_user("Ann")
    await command(app, ann, "/start")
    group = tg.add_group("Traders", owner)
    await command(app, owner, "/subscribe btc 4h", chat=group)
    assert await push(app, "s1", "BTC", "before the kick") == [group.id]  # waiting in the outbox

    tg.bot_removed_from_group(group, owner)
    await app.settle()
    row = await chat_row(app, group.id)
    assert row is not None and not row.active
    assert not (await feeds(app, group.id))["signals"].active
    assert [d.status for d in await deliveries(app, group.id)] == [DeliveryStatus.SKIPPED]
    assert await push(app, "s2", "BTC", "after the kick") == []
    before = len(tg.bot_messages(group))
    await drain(app, ann)
    assert len(tg.bot_messages(group)) == before
    assert not any(c.params.get("chat_id") == group.id for c in tg.calls_to("sendMessage") if "kick" in str(c.params))

    tg.bot_added_to_group(group, owner)
    await app.settle()
    (back,) = tg.bot_messages(group)[before:]
    assert back.plain_text == "👋 I'm back. This chat's feed is running again."
    assert (await feeds(app, group.id))["signals"].active
    assert await push(app, "s3", "BTC", "resumed") == [group.id]
    await drain(app, ann)
    assert tg.bot_texts(group)[-1] == "resumed"
    assert len(tg.bot_messages(group)) == before + 2


async def test_a_migrated_group_keeps_its_feeds_under_the_new_id(app: RunningBot, tg: FakeTelegramServer) -> None:
    owner, ann = tg.add_user("Owner"), tg.add_user("Ann")
    await command(app, ann, "/start")
    group = tg.add_group("Old group", owner, type="group")
    await command(app, owner, "/subscribe eth 1h", chat=group)
    supergroup = tg.migrate_group(group)
    await app.settle()
    assert await feeds(app, group.id) == {}
    assert (await feeds(app, supergroup.id))["signals"].symbols == "ETH"
    old = await chat_row(app, group.id)
    assert old is not None and not old.active
    assert await push(app, "s1", "ETH", "🚀 ETH", timeframe="1h") == [supergroup.id]
    await drain(app, ann)
    assert tg.bot_texts(supergroup)[-1] == "🚀 ETH"


async def test_forum_topics(app: RunningBot, tg: FakeTelegramServer) -> None:
    owner, ann = tg.add_user("Owner"), tg.add_user("Ann")
    await command(app, ann, "/start")
    group = tg.add_group("Forum", owner)
    tg.make_forum(group)
    topic = tg.create_topic(group, "Signals", owner)

    await command(app, owner, "/subscribe sol 4h", chat=group, thread_id=topic)
    assert (await feeds(app, group.id))["signals"].thread_id == topic
    await push(app, "s1", "SOL", "in the topic")
    await drain(app, ann)
    assert tg.bot_message_in(group, topic)[-1].plain_text == "in the topic"

    shown = await command(app, owner, "/feeds", chat=group, thread_id=topic)
    assert shown.message_thread_id == topic and "📌 in a topic" in shown.plain_text
    await press(app, owner, "↩️ Move to General", chat=group)
    assert (await feeds(app, group.id))["signals"].thread_id is None
    await push(app, "s2", "SOL", "in general")
    await drain(app, ann)
    assert tg.bot_message_in(group, None)[-1].plain_text == "in general"
    await press(app, owner, "📌 Post in this topic", chat=group)
    assert (await feeds(app, group.id))["signals"].thread_id == topic


async def test_group_language_by_admins_is_the_language_of_its_pushes(app: RunningBot, tg: FakeTelegramServer) -> None:
    owner, bob, ann = tg.add_user("Owner"), tg.add_user("Bob"), tg.add_user("Ann")
    group = tg.add_group("交易群", owner, members=[bob])
    await command(app, ann, "/start")

    refused = await command(app, bob, "/language", chat=group)
    assert "🔒" in refused.plain_text
    await command(app, owner, "/language", chat=group)
    answer = await press(app, bob, "中文", chat=group)
    assert answer["show_alert"]
    assert (await chat_row(app, group.id)).locale is None  # type: ignore[union-attr]
    await press(app, owner, "中文", chat=group)
    assert tg.bot_messages(group)[-1].plain_text == "✅ 本聊天的语言已设为中文。"
    assert (await chat_row(app, group.id)).locale == "zh"  # type: ignore[union-attr]
    async with app.resources.sessionmaker() as session:
        owner_locale = await session.scalar(select(User.locale).where(User.telegram_id == owner.id))
    assert owner_locale is None  # the admin's own language is untouched

    await command(app, owner, "/subscribe btc", chat=group)
    tg.bot_removed_from_group(group, owner)
    await app.settle()
    tg.bot_added_to_group(group, owner)
    await app.settle()
    assert tg.bot_messages(group)[-1].plain_text == "👋 我回来了。本聊天的 1 个订阅已恢复推送。"
