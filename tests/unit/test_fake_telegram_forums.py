"""The fake Bot API's forum topics, silent sends, channel posting rights, forwarded channel posts
and migration announcements, through the real aiogram Bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import ChatMemberAdministrator, MessageOriginChannel

from standins.telegram import FakeTelegramServer, make_bot


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as srv:
        yield srv


@pytest.fixture
async def bot(server: FakeTelegramServer) -> AsyncIterator[Bot]:
    client = make_bot(server)
    yield client
    await client.session.close()


async def test_topics_and_silent_sends(server: FakeTelegramServer, bot: Bot) -> None:
    owner = server.add_user("Owner")
    group = server.add_group("Forum", owner)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(group.id, "x", message_thread_id=5)  # not a forum
    server.make_forum(group)
    topic = server.create_topic(group, "Calls", owner)
    sent = await bot.send_message(group.id, "in topic", message_thread_id=topic, disable_notification=True)
    assert (sent.message_thread_id, sent.is_topic_message, sent.chat.is_forum) == (topic, True, True)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(group.id, "x", message_thread_id=topic + 100)
    general = await bot.send_message(group.id, "general")
    assert general.message_thread_id is None
    assert [(m.plain_text, m.disable_notification) for m in server.bot_message_in(group, topic)] == [("in topic", True)]
    await server.send_message(owner, "/feeds", chat=group, thread_id=topic)
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.message_thread_id == topic


async def test_channel_rights_and_forwarded_posts(server: FakeTelegramServer, bot: Bot) -> None:
    ann = server.add_user("Ann")
    channel = server.add_channel("Calls", admins=[ann], username="calls")
    me = await bot.get_chat_member("@calls", bot.id)
    assert isinstance(me, ChatMemberAdministrator) and me.can_post_messages
    channel.bot_can_post = False
    me = await bot.get_chat_member(channel.id, bot.id)
    assert isinstance(me, ChatMemberAdministrator) and not me.can_post_messages
    with pytest.raises(TelegramBadRequest, match="need administrator rights in the channel chat"):
        await bot.send_message(channel.id, "x")
    await server.forward_channel_post(ann, channel, "a post")
    (update,) = await bot.get_updates()
    assert update.message is not None and isinstance(update.message.forward_origin, MessageOriginChannel)
    assert update.message.forward_origin.chat.id == channel.id


async def test_migration_is_announced_in_both_chats(server: FakeTelegramServer, bot: Bot) -> None:
    owner = server.add_user("Owner")
    group = server.add_group("Old", owner, type="group")
    supergroup = server.migrate_group(group)
    updates = await bot.get_updates()
    announced = [
        (u.message.chat.id, u.message.migrate_to_chat_id, u.message.migrate_from_chat_id) for u in updates if u.message
    ]
    assert announced == [(group.id, supergroup.id, None), (supergroup.id, None, group.id)]
