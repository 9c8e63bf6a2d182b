"""The fake's world: users, chats, messages, files, commands, queries and payments (`TelegramState`), and
the records of what happened: callback queries, pre-checkouts, payments, invoice links, subscriptions,
the Bot API calls answered and the events a watcher would notice. The objects themselves are in `chats`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from .chats import FakeChat, FakeMessage, FakeUser, JsonDict
from .files import StoredFile, new_file_id, new_unique_id


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


@dataclass(eq=False)
class InvoiceLink:
    """An invoice made by createInvoiceLink; `subscription_period` (seconds) for a Stars subscription."""

    url: str
    invoice: JsonDict  # title, description, currency, total_amount
    invoice_payload: str
    subscription_period: int | None = None


@dataclass(eq=False)
class StarSubscription:
    """A user's Telegram Stars subscription to the bot, from paying a subscription invoice link."""

    user_id: int
    invoice_payload: str
    currency: str
    total_amount: int
    period: int  # seconds
    expires_at: int  # Unix time: end of the paid period
    charge_ids: list[str] = field(default_factory=list)  # first payment first
    canceled_by_user: bool = False
    canceled_by_bot: bool = False
    failed: bool = False

    @property
    def renews(self) -> bool:
        return not (self.canceled_by_user or self.canceled_by_bot or self.failed)


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
        self.invoice_links: dict[str, InvoiceLink] = {}
        self.subscriptions: list[StarSubscription] = []
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
