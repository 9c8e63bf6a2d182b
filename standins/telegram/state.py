"""The fake's world: users, chats, messages, files, commands, queries and payments."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from .entities import entities_to_text
from .files import StoredFile, new_file_id, new_unique_id

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


@dataclass(eq=False)
class CallbackQueryRecord:
    id: str
    user: FakeUser
    message: FakeMessage
    data: str
    created_at: float
    answered: bool = False
    answer: JsonDict | None = None


@dataclass(eq=False)
class PreCheckoutRecord:
    id: str
    user: FakeUser
    currency: str
    total_amount: int
    invoice_payload: str
    created_at: float
    answered: bool = False
    ok: bool | None = None
    error_message: str | None = None


@dataclass(eq=False)
class Payment:
    telegram_payment_charge_id: str
    user_id: int
    currency: str
    total_amount: int
    invoice_payload: str
    refunded: bool = False


@dataclass(frozen=True)
class Call:
    """One Bot API request the fake answered."""

    method: str
    params: JsonDict
    status: int
    response: Any  # the result when ok, else the error body
    timestamp: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def description(self) -> str | None:
        return None if self.ok else str(self.response.get("description"))


@dataclass(frozen=True)
class BotEvent:
    """Something a person watching the chats would notice (for console mode)."""

    kind: Literal["sent", "edited", "deleted", "draft", "callback_answer", "chat_action"]
    chat_id: int
    message: FakeMessage | None = None
    data: JsonDict = field(default_factory=dict)


class TelegramState:
    def __init__(self, bot: FakeUser) -> None:
        self.bot = bot
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, FakeChat] = {}
        self.files: dict[str, StoredFile] = {}
        self.commands: dict[tuple[str, str], list[JsonDict]] = {}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.pre_checkouts: dict[str, PreCheckoutRecord] = {}
        self.payments: dict[str, Payment] = {}
        self.next_user_id = 100_001
        self.next_group_id = 1
        self.updates_pushed = 0

    def find_chat(self, value: Any) -> FakeChat | None:
        """The chat of a chat_id parameter: an integer id or a public chat's @username."""
        if isinstance(value, int) and not isinstance(value, bool):
            return self.chats.get(value)
        if isinstance(value, str) and value.startswith("@"):
            name = value[1:].lower()
            for chat in self.chats.values():
                if chat.username and chat.username.lower() == name and not chat.is_private:
                    return chat
        return None

    def add_message(self, chat: FakeChat, sender: FakeUser, **fields: Any) -> FakeMessage:
        message = FakeMessage(
            chat=chat, message_id=chat.next_message_id, sender=sender, date=int(time.time()), **fields
        )
        chat.next_message_id += 1
        chat.messages.append(message)
        return message

    def get_message(self, chat: FakeChat, message_id: int) -> FakeMessage | None:
        for message in reversed(chat.messages):
            if message.message_id == message_id:
                return None if message.deleted else message
        return None

    def store_file(
        self,
        data: bytes | None,
        *,
        filename: str = "file",
        content_type: str = "image/jpeg",
        width: int = 0,
        height: int = 0,
        url: str | None = None,
    ) -> StoredFile:
        stored = StoredFile(new_file_id(), new_unique_id(), data, filename, content_type, width, height, url)
        self.files[stored.file_id] = stored
        return stored

    def register_file_ids(self, stored: StoredFile) -> None:
        for file_id in stored.extra_ids:
            self.files.setdefault(file_id, stored)
