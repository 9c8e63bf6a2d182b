"""The user side of message drafts: pressing the stop button Telegram shows under a draft sent with
`can_stop` (Bot API 10.3), which sends the bot a `stopped_message_generation` update."""

from __future__ import annotations

from .chats import JsonDict
from .core import ChatRef
from .errors import FakeTelegramUsageError
from .group_actions import GroupActions


class DraftActions(GroupActions):
    def stop_generation(self, ref: ChatRef) -> JsonDict:
        """The user presses the stop button of the draft shown in their private chat. The draft goes
        away unless it was sent with `keep_on_stop`; further drafts with its id are not shown."""
        chat = self.chat(ref)
        draft = chat.draft
        if draft is None or not draft.can_stop:
            raise FakeTelegramUsageError(f"no draft with a stop button in chat {chat.id}")
        chat.stopped_drafts.add(draft.draft_id)
        if not draft.keep_on_stop:
            chat.draft = None
        payload: JsonDict = {"chat": chat.to_api(), "draft_id": draft.draft_id}
        return self.push_update("stopped_message_generation", payload) or {"stopped_message_generation": payload}
