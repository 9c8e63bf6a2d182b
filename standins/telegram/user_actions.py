"""The user side of the fake: people, groups and channels, and what they do (updates for the bot)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from typing import Any, Literal

from .chats import FakeChat, FakeMessage, FakeUser, JsonDict
from .core import ChatRef, FakeTelegramCore
from .entities import detect_entities
from .errors import FakeTelegramUsageError
from .files import image_size, make_png
from .methods_chat import member_object, my_chat_member
from .state import CallbackQueryRecord, Payment, PreCheckoutRecord

GroupType = Literal["group", "supergroup"]


class UserActions(FakeTelegramCore):
    """Helpers acting as Telegram's users; each action pushes the update Telegram would send."""

    # ----------------------------------------------------------------- people and chats
    def add_user(
        self,
        first_name: str = "Ann",
        username: str | None = None,
        *,
        language_code: str | None = "en",
        last_name: str | None = None,
        user_id: int | None = None,
        is_premium: bool = False,
        started: bool = True,
    ) -> FakeUser:
        """A user with a private chat with the bot (`started=False`: they never opened it)."""
        if user_id is None:
            user_id = self.state.next_user_id
            self.state.next_user_id += 1
        user = FakeUser(user_id, first_name, username, last_name, language_code, is_premium=is_premium)
        self.state.users[user.id] = user
        self.state.chats[user.id] = FakeChat(user.id, "private", user=user, started=started)
        return user

    def add_group(
        self,
        title: str,
        creator: FakeUser,
        *,
        admins: Iterable[FakeUser] = (),
        members: Iterable[FakeUser] = (),
        type: GroupType = "supergroup",
        bot_status: str = "member",
        username: str | None = None,
    ) -> FakeChat:
        """A group the bot is already in (`bot_status`: member/administrator/left/kicked)."""
        number = self.state.next_group_id
        self.state.next_group_id += 1
        chat_id = -(1_001_000_000_000 + number) if type == "supergroup" else -(4_000_000_000 + number)
        chat = FakeChat(
            chat_id,
            type,
            title=title,
            username=username,
            creator_id=creator.id,
            admin_ids={u.id for u in admins},
            member_ids={u.id for u in members},
            bot_status=bot_status,
        )
        self.state.chats[chat.id] = chat
        return chat

    def add_channel(
        self,
        title: str,
        *,
        admins: Iterable[FakeUser] = (),
        creator: FakeUser | None = None,
        bot_is_admin: bool = True,
        username: str | None = None,
    ) -> FakeChat:
        number = self.state.next_group_id
        self.state.next_group_id += 1
        chat = FakeChat(
            -(1_002_000_000_000 + number),
            "channel",
            title=title,
            username=username,
            creator_id=creator.id if creator else None,
            admin_ids={u.id for u in admins},
            bot_status="administrator" if bot_is_admin else "left",
        )
        self.state.chats[chat.id] = chat
        return chat

    def block_bot(self, user: FakeUser) -> None:
        """The user blocks the bot: sends fail with 403, and the bot gets a my_chat_member update."""
        chat = self.chat(user)
        if chat.blocked:
            return
        old = member_object(self, chat, self.bot_user)
        chat.blocked, chat.bot_status = True, "kicked"
        self.push_update("my_chat_member", my_chat_member(self, chat, user, old))

    def unblock_bot(self, user: FakeUser) -> None:
        chat = self.chat(user)
        if not chat.blocked:
            return
        old = member_object(self, chat, self.bot_user)
        chat.blocked, chat.bot_status = False, "member"
        self.push_update("my_chat_member", my_chat_member(self, chat, user, old))

    def deactivate_user(self, user: FakeUser) -> None:
        """The user deletes their account: sends fail with 403 "user is deactivated"."""
        self.chat(user).deactivated = True

    def migrate_group(self, group: FakeChat) -> FakeChat:
        """Upgrade a basic group to a supergroup: sends to the old id fail with migrate_to_chat_id."""
        if group.type != "group":
            raise FakeTelegramUsageError("only basic groups can be upgraded")
        creator = self.state.users[group.creator_id] if group.creator_id is not None else self.bot_user
        members = [self.state.users[i] for i in group.member_ids if i in self.state.users]
        admins = [self.state.users[i] for i in group.admin_ids if i in self.state.users]
        supergroup = self.add_group(
            group.title or "",
            creator,
            admins=admins,
            members=members,
            bot_status=group.bot_status,
            username=group.username,
        )
        group.migrated_to = supergroup.id
        message = self.state.add_message(group, creator, extra={"migrate_to_chat_id": supergroup.id})
        self.push_update("message", message.to_api())
        if supergroup.bot_status in ("member", "administrator"):
            # …and the first message of the supergroup names the group it came from.
            first = self.state.add_message(supergroup, creator, extra={"migrate_from_chat_id": group.id})
            self.push_update("message", first.to_api())
        return supergroup

    def bot_added_to_group(self, group: FakeChat, by_user: FakeUser, *, as_admin: bool = False) -> None:
        """Someone adds the bot: a my_chat_member update, then the new_chat_members service message."""
        old = member_object(self, group, self.bot_user)
        group.bot_status = "administrator" if as_admin else "member"
        self._join(group, by_user)
        self.push_update("my_chat_member", my_chat_member(self, group, by_user, old))
        message = self.state.add_message(group, by_user, extra={"new_chat_members": [self.bot_user.to_api()]})
        self.push_update("message", message.to_api())

    def bot_removed_from_group(self, group: FakeChat, by_user: FakeUser) -> None:
        old = member_object(self, group, self.bot_user)
        group.bot_status = "kicked"
        self.push_update("my_chat_member", my_chat_member(self, group, by_user, old))

    # ----------------------------------------------------------------- messages from users
    def _chat_for(self, user: FakeUser, chat: ChatRef | None) -> FakeChat:
        return self.chat(user if chat is None else chat)

    def _join(self, chat: FakeChat, user: FakeUser) -> None:
        if not chat.is_private and chat.member_status(user.id, self.bot_user.id) == "left":
            chat.member_ids.add(user.id)

    def _bot_sees(self, chat: FakeChat, message: FakeMessage) -> bool:
        """Privacy mode: in groups the bot only gets commands, replies to it and service messages."""
        if chat.is_private:
            return True
        if chat.bot_status not in ("member", "administrator", "creator"):
            return False
        if not self.privacy_mode or chat.bot_status in ("administrator", "creator"):
            return True
        if message.reply_to is not None and message.reply_to.from_bot:
            return True
        text = message.text or ""
        for entity in message.entities:
            if entity["type"] == "bot_command":
                command = text.encode("utf-16-le")[entity["offset"] * 2 : (entity["offset"] + entity["length"]) * 2]
                target = command.decode("utf-16-le").partition("@")[2]
                if not target or target.lower() == (self.bot_user.username or "").lower():
                    return True
        return False

    def _user_message(
        self, user: FakeUser, chat: ChatRef | None, reply_to: FakeMessage | int | None, **fields: Any
    ) -> JsonDict:
        target = self._chat_for(user, chat)
        if target.is_private:
            if target.user is not user:
                raise FakeTelegramUsageError(f"{user.first_name} cannot write in another user's private chat")
            if target.blocked:
                self.unblock_bot(user)
            target.started = True
        else:
            self._join(target, user)
        replied = self.state.get_message(target, reply_to) if isinstance(reply_to, int) else reply_to
        message = self.state.add_message(target, user, reply_to=replied, **fields)
        payload = message.to_api()
        if not self._bot_sees(target, message):
            return {"message": payload}
        return self.push_update("message", payload) or {"message": payload}

    async def send_message(
        self,
        user: FakeUser,
        text: str,
        *,
        chat: ChatRef | None = None,
        reply_to: FakeMessage | int | None = None,
        thread_id: int | None = None,
    ) -> JsonDict:
        """The user writes `text` (in their private chat unless `chat` is given; in a forum topic
        with `thread_id`).

        Returns the update; it has no "update_id" when the bot does not get it (group privacy mode,
        or allowed_updates without "message").
        """
        if thread_id is not None and thread_id not in self._chat_for(user, chat).topics:
            raise FakeTelegramUsageError(f"no forum topic {thread_id} in that chat")
        fields: dict[str, Any] = {"text": text, "entities": detect_entities(text), "message_thread_id": thread_id}
        return self._user_message(user, chat, reply_to, **fields)

    async def send_command(
        self,
        user: FakeUser,
        command: str,
        payload: str | None = None,
        *,
        chat: ChatRef | None = None,
        with_username: bool = False,
        thread_id: int | None = None,
    ) -> JsonDict:
        """`/command [payload]`; `with_username` appends @botname, as in groups."""
        text = command if command.startswith("/") else f"/{command}"
        if with_username:
            text += f"@{self.bot_user.username}"
        if payload:
            text += f" {payload}"
        return await self.send_message(user, text, chat=chat, thread_id=thread_id)

    async def send_sticker(self, user: FakeUser, *, chat: ChatRef | None = None, emoji: str = "👍") -> JsonDict:
        sticker = {
            "file_id": "CAACAgIAAxkBAAI" + secrets.token_urlsafe(30),
            "file_unique_id": "AgAD" + secrets.token_urlsafe(8),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._user_message(user, chat, None, extra={"sticker": sticker})

    async def send_photo(
        self, user: FakeUser, *, chat: ChatRef | None = None, caption: str | None = None, data: bytes | None = None
    ) -> JsonDict:
        """The user sends a photo (a generated PNG unless `data` is given)."""
        data = data if data is not None else make_png(320, 240)
        width, height = image_size(data) or (320, 240)
        stored = self.state.store_file(data, filename="photo.png", content_type="image/png", width=width, height=height)
        fields: dict[str, Any] = {"photo": stored}
        if caption:
            fields.update(caption=caption, caption_entities=detect_entities(caption))
        update = self._user_message(user, chat, None, **fields)
        self.state.register_file_ids(stored)
        return update

    # ----------------------------------------------------------------- inline buttons
    async def press_button(
        self, user: FakeUser, button_text: str, *, chat: ChatRef | None = None, message_id: int | None = None
    ) -> JsonDict:
        """Press an inline callback button on the newest bot message (in `chat`) that has it."""
        target = self._chat_for(user, chat)
        for message in reversed(self.bot_messages(target)):
            if message_id is not None and message.message_id != message_id:
                continue
            button = message.find_button(button_text)
            if button is not None:
                break
        else:
            shown = [m.button_texts() for m in self.bot_messages(target) if m.reply_markup]
            raise FakeTelegramUsageError(f"no inline button {button_text!r} in chat {target.id}; buttons: {shown}")
        if "callback_data" not in button:
            raise FakeTelegramUsageError(f"button {button_text!r} is not a callback button: {button}")
        record = CallbackQueryRecord(
            str(secrets.randbits(63)), user, message, str(button["callback_data"]), self.clock()
        )
        self.state.callback_queries[record.id] = record
        payload = {
            "id": record.id,
            "from": user.to_api(),
            "message": message.to_api(),
            "chat_instance": target.chat_instance,
            "data": record.data,
        }
        return self.push_update("callback_query", payload) or {"callback_query": payload}

    async def wait_callback_answer(self, query_id: str, timeout: float = 5.0) -> JsonDict:
        """Wait for the bot's answerCallbackQuery (the toast/alert the user sees)."""
        record = self.state.callback_queries[query_id]
        await self.wait_until(lambda: record.answered, timeout, f"an answer to callback query {query_id}")
        assert record.answer is not None
        return record.answer

    # ----------------------------------------------------------------- payments
    def _invoice_message(self, payload: str) -> FakeMessage | None:
        for chat in self.state.chats.values():
            for message in reversed(chat.messages):
                if message.invoice_payload == payload and message.from_bot:
                    return message
        return None

    def pre_checkout(self, user: FakeUser, invoice: FakeMessage | str, *, query_id: str | None = None) -> str:
        """The user confirms payment of an invoice the bot sent; returns the pre_checkout_query id."""
        message = invoice if isinstance(invoice, FakeMessage) else self._invoice_message(invoice)
        if message is None or message.invoice is None or message.invoice_payload is None:
            raise FakeTelegramUsageError(f"the bot sent no invoice {invoice!r}")
        record = PreCheckoutRecord(
            query_id or str(secrets.randbits(63)),
            user,
            message.invoice["currency"],
            message.invoice["total_amount"],
            message.invoice_payload,
            self.clock(),
        )
        self.state.pre_checkouts[record.id] = record
        self.push_update(
            "pre_checkout_query",
            {
                "id": record.id,
                "from": user.to_api(),
                "currency": record.currency,
                "total_amount": record.total_amount,
                "invoice_payload": record.invoice_payload,
            },
        )
        return record.id

    async def wait_pre_checkout_answer(self, query_id: str, timeout: float = 10.0) -> PreCheckoutRecord:
        """Wait for answerPreCheckoutQuery; the record has `ok` and `error_message`."""
        record = self.state.pre_checkouts[query_id]
        await self.wait_until(lambda: record.answered, timeout, f"an answer to pre-checkout query {query_id}")
        return record

    def successful_payment(
        self,
        user: FakeUser,
        invoice_payload: str,
        currency: str | None = None,
        total_amount: int | None = None,
        charge_id: str | None = None,
    ) -> JsonDict:
        """The payment went through: a message with successful_payment in the user's private chat."""
        invoice = self._invoice_message(invoice_payload)
        if currency is None or total_amount is None:
            if invoice is None or invoice.invoice is None:
                raise FakeTelegramUsageError(f"no invoice {invoice_payload!r}: pass currency and total_amount")
            currency = currency or str(invoice.invoice["currency"])
            total_amount = total_amount if total_amount is not None else int(invoice.invoice["total_amount"])
        charge_id = charge_id or f"stxn{secrets.token_hex(24)}"
        payment = Payment(charge_id, user.id, currency, total_amount, invoice_payload)
        self.state.payments[charge_id] = payment
        successful = {
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": invoice_payload,
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": "" if currency == "XTR" else f"prov_{secrets.token_hex(8)}",
        }
        return self._user_message(user, None, None, extra={"successful_payment": successful})

    # ----------------------------------------------------------------- commands as users see them
    def commands_for(
        self, chat: ChatRef, user: FakeUser | None = None, language_code: str | None = None
    ) -> list[JsonDict]:
        """The command menu Telegram shows this user in this chat (scope and language fallbacks)."""
        target = self.chat(chat)
        if user is None and target.is_private:
            user = target.user
        language = (language_code or (user.language_code if user else None) or "")[:2]
        scopes: list[JsonDict]
        if target.is_private:
            scopes = [{"type": "chat", "chat_id": target.id}, {"type": "all_private_chats"}]
        else:
            admin = user is not None and target.member_status(user.id, self.bot_user.id) in ("creator", "administrator")
            scopes = []
            if user is not None:
                scopes.append({"type": "chat_member", "chat_id": target.id, "user_id": user.id})
            if admin:
                scopes.append({"type": "chat_administrators", "chat_id": target.id})
            scopes.append({"type": "chat", "chat_id": target.id})
            if admin:
                scopes.append({"type": "all_chat_administrators"})
            scopes.append({"type": "all_group_chats"})
        scopes.append({"type": "default"})
        for scope in scopes:
            key = json.dumps(scope, sort_keys=True)
            for lang in (language, "") if language else ("",):
                if (key, lang) in self.state.commands:
                    return list(self.state.commands[(key, lang)])
        return []
