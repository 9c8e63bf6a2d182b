"""Forum topics and channel posts on the user side of the fake (what Telegram's users do, as updates)."""

from __future__ import annotations

import time

from .chats import FakeChat, FakeMessage, FakeUser, JsonDict
from .errors import FakeTelegramUsageError
from .subscriptions import SubscriptionActions


class GroupActions(SubscriptionActions):
    def make_forum(self, chat: FakeChat) -> None:
        """Turn topics on in a supergroup (the General topic has no message_thread_id)."""
        if chat.type != "supergroup":
            raise FakeTelegramUsageError("only supergroups can be forums")
        chat.is_forum = True

    def create_topic(self, chat: FakeChat, name: str, by: FakeUser) -> int:
        """A new forum topic; its message_thread_id is the id of its `forum_topic_created` message."""
        if not chat.is_forum:
            raise FakeTelegramUsageError("topics exist in forum supergroups only (make_forum)")
        created = {"name": name, "icon_color": 7322096}
        message = self.state.add_message(chat, by, extra={"forum_topic_created": created})
        message.message_thread_id = message.message_id
        chat.topics[message.message_id] = name
        return message.message_id

    def channel_post(self, channel: FakeChat, text: str) -> FakeMessage:
        """A post in a channel (as the channel; the bot's `channel_post` updates are not pushed)."""
        if channel.type != "channel":
            raise FakeTelegramUsageError("channel posts are in channels")
        return self.state.add_message(channel, self.bot_user, text=text)

    async def forward_channel_post(self, user: FakeUser, channel: FakeChat, text: str = "📢 post") -> JsonDict:
        """The user forwards a post of `channel` to the bot's private chat."""
        post = self.channel_post(channel, text)
        origin = {"type": "channel", "chat": channel.to_api(), "message_id": post.message_id, "date": post.date}
        extra = {"forward_origin": origin, "forward_date": int(time.time())}
        return self._user_message(user, None, None, text=text, extra=extra)

    def bot_message_in(self, chat: FakeChat, thread_id: int | None) -> list[FakeMessage]:
        """The bot's messages in one topic (None: the General topic)."""
        return [m for m in self.bot_messages(chat) if m.message_thread_id == thread_id]
