"""The Bot API objects the fake keeps: users, chats (with a draft being streamed) and messages (with their
edit history), each with its JSON form (`to_api`)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

from .entities import entities_to_text
from .files import StoredFile

ChatType = Literal["private", "group", "supergroup", "channel"]
JsonDict = dict[str, Any]


def _drop_none(data: JsonDict) -> JsonDict:
    return {key: value for key, value in data.items() if value is not None}


@dataclass(eq=False)
class FakeUser:
    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    is_premium: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    def to_api(self) -> JsonDict:
        return _drop_none(
            {
                "id": self.id,
                "is_bot": self.is_bot,
                "first_name": self.first_name,
                "last_name": self.last_name,
                "username": self.username,
                "language_code": self.language_code,
                "is_premium": True if self.is_premium else None,
            }
        )


@dataclass(eq=False)
class Draft:
    draft_id: int
    text: str
    entities: list[JsonDict]
    can_stop: bool = False  # the user sees a button to stop further drafts
    keep_on_stop: bool = False  # the draft stays (for a while) when that button is pressed


@dataclass(eq=False)
class FakeChat:
    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    user: FakeUser | None = None  # the other side of a private chat
    creator_id: int | None = None
    admin_ids: set[int] = field(default_factory=set)
    member_ids: set[int] = field(default_factory=set)
    bot_status: str = "member"  # member / administrator / left / kicked
    blocked: bool = False  # private chat: the user blocked the bot
    started: bool = True  # private chat: the user has started the bot
    deactivated: bool = False  # private chat: the user deleted their account
    migrated_to: int | None = None  # a group upgraded to this supergroup
    is_forum: bool = False  # a supergroup with topics
    topics: dict[int, str] = field(default_factory=dict)  # forum topics: message_thread_id → name
    bot_can_post: bool = True  # channels: the bot's admin right can_post_messages
    messages: list[FakeMessage] = field(default_factory=list, repr=False)
    next_message_id: int = 1
    draft: Draft | None = None
    stopped_drafts: set[int] = field(default_factory=set)  # draft ids whose generation the user stopped
    reply_keyboard: JsonDict | None = None
    chat_instance: str = field(default_factory=lambda: str(secrets.randbits(62)))

    @property
    def is_private(self) -> bool:
        return self.type == "private"

    def to_api(self) -> JsonDict:
        if self.user is not None and self.is_private:
            return _drop_none(
                {
                    "id": self.id,
                    "type": "private",
                    "first_name": self.user.first_name,
                    "last_name": self.user.last_name,
                    "username": self.user.username,
                }
            )
        data = {"id": self.id, "type": self.type, "title": self.title, "username": self.username}
        return _drop_none({**data, "is_forum": True if self.is_forum else None})

    def full_info(self) -> JsonDict:
        info = self.to_api()
        info.update(
            {
                "accent_color_id": self.id % 7,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": True,
                    "limited_gifts": True,
                    "unique_gifts": True,
                    "premium_subscription": True,
                    "gifts_from_channels": True,
                },
            }
        )
        if self.type in ("group", "supergroup"):
            info["permissions"] = {
                "can_send_messages": True,
                "can_send_photos": True,
                "can_send_polls": True,
                "can_invite_users": True,
                "can_pin_messages": False,
                "can_change_info": False,
            }
        return info

    def member_status(self, user_id: int, bot_id: int) -> str:
        if user_id == bot_id:
            return self.bot_status
        if self.is_private:
            return "member" if self.user is not None and self.user.id == user_id else "left"
        if user_id == self.creator_id:
            return "creator"
        if user_id in self.admin_ids:
            return "administrator"
        if user_id in self.member_ids:
            return "member"
        return "left"

    def visible_messages(self) -> list[FakeMessage]:
        return [m for m in self.messages if not m.deleted]


@dataclass(eq=False)
class MessageVersion:
    """A previous state of an edited message."""

    text: str | None
    entities: list[JsonDict]
    caption: str | None
    caption_entities: list[JsonDict]
    reply_markup: JsonDict | None
    source: str | None
    date: int


@dataclass(eq=False)
class FakeMessage:
    chat: FakeChat
    message_id: int
    sender: FakeUser
    date: int
    text: str | None = None
    entities: list[JsonDict] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[JsonDict] = field(default_factory=list)
    source: str | None = None  # the text/caption exactly as the bot sent it (e.g. HTML)
    parse_mode: str | None = None
    reply_markup: JsonDict | None = None  # inline keyboards only, as Telegram returns them
    photo: StoredFile | None = None
    reply_to: FakeMessage | None = None
    message_thread_id: int | None = None  # forum topic (messages in the General topic have none)
    disable_notification: bool = False  # sent silently
    invoice: JsonDict | None = None
    invoice_payload: str | None = None
    link_preview_options: JsonDict | None = None
    extra: JsonDict = field(default_factory=dict)  # other Message fields (sticker, successful_payment...)
    deleted: bool = False
    edit_date: int | None = None
    history: list[MessageVersion] = field(default_factory=list)

    def __repr__(self) -> str:
        sender = "bot" if self.from_bot else self.sender.id
        state = " deleted" if self.deleted else (" edited" if self.edit_date else "")
        buttons = f" buttons={self.button_texts()}" if self.reply_markup else ""
        media = " photo" if self.photo else (" invoice" if self.invoice else "")
        return (
            f"<FakeMessage chat={self.chat.id} id={self.message_id} from={sender}{media}{state}"
            f" text={self.plain_text!r}{buttons}>"
        )

    @property
    def from_bot(self) -> bool:
        return self.sender.is_bot

    @property
    def plain_text(self) -> str:
        """What a user reads: the text or the caption (links shown as `text (url)`)."""
        if self.text is not None:
            return entities_to_text(self.text, self.entities)
        if self.caption is not None:
            return entities_to_text(self.caption, self.caption_entities)
        return ""

    def buttons(self) -> list[list[JsonDict]]:
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("inline_keyboard") or []
        return [list(row) for row in rows if isinstance(row, list)]

    def button_texts(self) -> list[list[str]]:
        return [[str(button.get("text", "")) for button in row] for row in self.buttons()]

    def find_button(self, text: str) -> JsonDict | None:
        for row in self.buttons():
            for button in row:
                if button.get("text") == text:
                    return button
        return None

    def snapshot(self) -> MessageVersion:
        return MessageVersion(
            self.text,
            list(self.entities),
            self.caption,
            list(self.caption_entities),
            self.reply_markup,
            self.source,
            self.edit_date or self.date,
        )

    def to_api(self, *, with_reply: bool = True) -> JsonDict:
        data: JsonDict = {"message_id": self.message_id}
        if self.chat.type == "channel":
            data["sender_chat"] = self.chat.to_api()
        else:
            data["from"] = self.sender.to_api()
        data["chat"] = self.chat.to_api()
        data["date"] = self.date
        if self.message_thread_id is not None:
            data["message_thread_id"] = self.message_thread_id
            data["is_topic_message"] = True
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if with_reply and self.reply_to is not None:
            data["reply_to_message"] = self.reply_to.to_api(with_reply=False)
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        if self.photo is not None:
            data["photo"] = self.photo.photo_sizes()
        if self.caption is not None:
            data["caption"] = self.caption
            if self.caption_entities:
                data["caption_entities"] = self.caption_entities
        if self.invoice is not None:
            data["invoice"] = self.invoice
        data.update(self.extra)
        if self.reply_markup:
            data["reply_markup"] = self.reply_markup
        return data

    def readable(self) -> str:
        """A terminal rendering: text, media placeholders and inline buttons as `[text]`."""
        lines: list[str] = []
        if self.photo is not None:
            lines.append(f"[photo {self.photo.width}x{self.photo.height}]")
        if self.invoice is not None:
            lines.append(
                f"[invoice: {self.invoice['title']} — {self.invoice['total_amount']} {self.invoice['currency']}]"
            )
        if "sticker" in self.extra:
            lines.append(f"[sticker {self.extra['sticker'].get('emoji', '')}]")
        text = self.plain_text
        if text:
            lines.append(text)
        for row in self.button_texts():
            lines.append(" ".join(f"[{label}]" for label in row))
        return "\n".join(lines)
