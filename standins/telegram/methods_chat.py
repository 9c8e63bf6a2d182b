"""Bot API methods about the bot, chats and members, commands and callback queries."""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING

from . import errors as e
from .chats import FakeChat, FakeUser, JsonDict
from .common import resolve_chat
from .errors import bad_request
from .params import Params
from .state import BotEvent

if TYPE_CHECKING:
    from .common import Handler
    from .core import FakeTelegramCore

SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


async def get_me(core: FakeTelegramCore, params: Params) -> JsonDict:
    del params
    me = core.bot_user.to_api()
    me.update(
        {
            "can_join_groups": True,
            "can_read_all_group_messages": not core.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
    )
    return me


async def get_chat(core: FakeTelegramCore, params: Params) -> JsonDict:
    return resolve_chat(core, params).full_info()


def member_object(core: FakeTelegramCore, chat: FakeChat, user: FakeUser) -> JsonDict:
    """A ChatMember object for the user's status in the chat."""
    status = chat.member_status(user.id, core.bot_user.id)
    member: JsonDict = {"status": status, "user": user.to_api()}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            {
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
                "can_send_welcome_messages": False,
            }
        )
        if chat.type == "channel":
            can_post = chat.bot_can_post if user.id == core.bot_user.id else True
            member.update({"can_post_messages": can_post, "can_edit_messages": can_post})
        else:
            member["can_pin_messages"] = True
    elif status == "kicked":
        member["until_date"] = 0
    return member


def _known_user(core: FakeTelegramCore, user_id: int) -> FakeUser:
    if user_id == core.bot_user.id:
        return core.bot_user
    user = core.state.users.get(user_id)
    if user is None:
        raise bad_request("user not found")
    return user


async def get_chat_member(core: FakeTelegramCore, params: Params) -> JsonDict:
    chat = resolve_chat(core, params)
    user_id = params.require_int("user_id", "user_id is empty")
    return member_object(core, chat, _known_user(core, user_id))


async def get_chat_administrators(core: FakeTelegramCore, params: Params) -> list[JsonDict]:
    chat = resolve_chat(core, params)
    if chat.is_private:
        raise bad_request("there are no administrators in the private chat")
    ids: list[int] = []
    if chat.creator_id is not None:
        ids.append(chat.creator_id)
    ids.extend(sorted(chat.admin_ids))
    if chat.bot_status in ("administrator", "creator"):
        ids.append(core.bot_user.id)
    return [member_object(core, chat, _known_user(core, user_id)) for user_id in dict.fromkeys(ids)]


async def get_chat_member_count(core: FakeTelegramCore, params: Params) -> int:
    chat = resolve_chat(core, params)
    if chat.is_private:
        return 2
    humans = {chat.creator_id} | chat.admin_ids | chat.member_ids
    humans.discard(None)
    return len(humans) + (1 if chat.bot_status in ("member", "administrator", "creator") else 0)


async def leave_chat(core: FakeTelegramCore, params: Params) -> bool:
    chat = resolve_chat(core, params)
    if chat.is_private:
        raise bad_request("chat member status can't be changed in private chats")
    old = member_object(core, chat, core.bot_user)
    chat.bot_status = "left"
    core.push_update("my_chat_member", my_chat_member(core, chat, core.bot_user, old))
    return True


def my_chat_member(core: FakeTelegramCore, chat: FakeChat, by: FakeUser, old: JsonDict) -> JsonDict:
    """A ChatMemberUpdated about the bot, from `old` to its current status."""
    return {
        "chat": chat.to_api(),
        "from": by.to_api(),
        "date": int(time.time()),
        "old_chat_member": old,
        "new_chat_member": member_object(core, chat, core.bot_user),
    }


def scope_key(core: FakeTelegramCore, params: Params) -> tuple[str, str]:
    scope = params.get_json("scope")
    if scope is None:
        scope = {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in SCOPE_TYPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    if scope["type"] in ("chat", "chat_administrators", "chat_member"):
        chat = core.state.find_chat(scope.get("chat_id"))
        if chat is None:
            raise bad_request(e.CHAT_NOT_FOUND)
        scope = {**scope, "chat_id": chat.id}
    language = params.get_str("language_code") or ""
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise bad_request("invalid language code specified")
    return json.dumps(scope, sort_keys=True), language


async def set_my_commands(core: FakeTelegramCore, params: Params) -> bool:
    commands = params.get_json("commands")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    cleaned: list[JsonDict] = []
    for item in commands:
        if not isinstance(item, dict) or not _COMMAND_RE.match(str(item.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        description = str(item.get("description", ""))
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        cleaned.append({"command": str(item["command"]), "description": description})
    key = scope_key(core, params)
    if cleaned:
        core.state.commands[key] = cleaned
    else:
        core.state.commands.pop(key, None)
    return True


async def get_my_commands(core: FakeTelegramCore, params: Params) -> list[JsonDict]:
    return list(core.state.commands.get(scope_key(core, params), []))


async def delete_my_commands(core: FakeTelegramCore, params: Params) -> bool:
    core.state.commands.pop(scope_key(core, params), None)
    return True


async def answer_callback_query(core: FakeTelegramCore, params: Params) -> bool:
    query_id = params.get_str("callback_query_id") or ""
    record = core.state.callback_queries.get(query_id)
    if record is None or record.answered or core.clock() - record.created_at > core.callback_query_timeout:
        raise bad_request(e.QUERY_TOO_OLD)
    text = params.get_str("text")
    if text is not None and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    record.answered = True
    record.answer = {
        "text": text,
        "show_alert": params.get_bool("show_alert"),
        "url": params.get_str("url"),
        "cache_time": params.get_int("cache_time", 0),
    }
    core.emit(BotEvent("callback_answer", record.message.chat.id, record.message, dict(record.answer)))
    return True


async def set_bot_text(core: FakeTelegramCore, params: Params) -> bool:
    """setMyName / setMyDescription / setMyShortDescription: stored per language."""
    for field in ("name", "description", "short_description"):
        if field in params.values:
            core.bot_profile_texts[(field, params.get_str("language_code") or "")] = params.get_str(field) or ""
    return True


def _bot_text_getter(field: str) -> Handler:
    async def getter(core: FakeTelegramCore, params: Params) -> JsonDict:
        value = core.bot_profile_texts.get((field, params.get_str("language_code") or ""))
        if value is None and field == "name":
            value = core.bot_user.first_name
        return {field: value or ""}

    return getter


async def ok_true(core: FakeTelegramCore, params: Params) -> bool:
    del core, params
    return True


async def log_out(core: FakeTelegramCore, params: Params) -> bool:
    del params
    core.logged_out = True
    return True


async def get_chat_menu_button(core: FakeTelegramCore, params: Params) -> JsonDict:
    del core, params
    return {"type": "commands"}


METHODS: dict[str, Handler] = {
    "getMe": get_me,
    "getChat": get_chat,
    "getChatMember": get_chat_member,
    "getChatAdministrators": get_chat_administrators,
    "getChatMemberCount": get_chat_member_count,
    "leaveChat": leave_chat,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "answerCallbackQuery": answer_callback_query,
    "setMyName": set_bot_text,
    "setMyDescription": set_bot_text,
    "setMyShortDescription": set_bot_text,
    "getMyName": _bot_text_getter("name"),
    "getMyDescription": _bot_text_getter("description"),
    "getMyShortDescription": _bot_text_getter("short_description"),
    "setChatMenuButton": ok_true,
    "getChatMenuButton": get_chat_menu_button,
    "close": ok_true,
    "logOut": log_out,
}
