"""Checks shared by the Bot API methods: chats, access, formatting, keyboards, replies, flood limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import errors as e
from .chats import FakeChat, FakeMessage, JsonDict
from .entities import HtmlParseError, ParsedText, parse_html, utf16_len, valid_url
from .errors import ApiError, bad_request, forbidden, too_many_requests
from .params import Params
from .state import BotEvent

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .core import FakeTelegramCore

    Handler = Callable[[FakeTelegramCore, Params], Awaitable[Any]]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
_CHAT_KIND = {"group": "group chat", "supergroup": "supergroup chat", "channel": "channel chat"}
_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def required_str(params: Params, name: str) -> str:
    value = params.get_str(name)
    if not value:
        raise bad_request(f'parameter "{name}" is required')
    return value


def resolve_chat(core: FakeTelegramCore, params: Params, name: str = "chat_id") -> FakeChat:
    value = params.raw(name)
    if value is None or value == "":
        raise bad_request(f"{name} is empty")
    chat = core.state.find_chat(value)
    if chat is None:
        raise bad_request(e.CHAT_NOT_FOUND)
    return chat


def ensure_member(chat: FakeChat) -> None:
    """The bot must be able to write to the chat at all (checked before the content)."""
    if chat.is_private:
        if chat.deactivated:
            raise forbidden("user is deactivated")
        if not chat.started:
            raise forbidden(e.CANT_INITIATE)
        return
    if chat.migrated_to is not None:
        raise ApiError(
            400, "Bad Request: group chat was upgraded to a supergroup chat", migrate_to_chat_id=chat.migrated_to
        )
    kind = _CHAT_KIND[chat.type]
    if chat.bot_status == "kicked":
        raise forbidden(f"bot was kicked from the {kind}")
    if chat.bot_status == "left":
        raise forbidden(f"bot is not a member of the {kind}")
    if chat.type == "channel" and (chat.bot_status not in ("administrator", "creator") or not chat.bot_can_post):
        raise bad_request("need administrator rights in the channel chat")


def resolve_thread(chat: FakeChat, params: Params) -> int | None:
    """message_thread_id: a topic of a forum supergroup (the General topic is sent without one)."""
    thread = params.get_int("message_thread_id")
    if thread is None:
        return None
    if not chat.is_forum or thread not in chat.topics:
        raise bad_request("message thread not found")
    return thread


def ensure_not_blocked(chat: FakeChat) -> None:
    if chat.is_private and chat.blocked:
        raise forbidden(e.BLOCKED)


def count_message(core: FakeTelegramCore, chat: FakeChat, params: Params | None = None) -> None:
    """Flood control for an outgoing message or edit. `allow_paid_broadcast` lifts the overall
    limit to the paid one (Telegram: up to 1,000 per second, for Stars); the chat's limit stays."""
    paid = params is not None and params.get_bool("allow_paid_broadcast")
    retry_after = core.limiter.acquire(chat.id, chat.is_private, paid=paid)
    if retry_after is not None:
        raise too_many_requests(retry_after)


def _trim(parsed: ParsedText) -> ParsedText:
    """Telegram drops leading and trailing whitespace (and entities shrink with it)."""
    text = parsed.text
    stripped = text.strip()
    if stripped == text:
        return parsed
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    entities: list[JsonDict] = []
    for entity in parsed.entities:
        start = max(0, int(entity["offset"]) - lead)
        end = min(size, int(entity["offset"]) + int(entity["length"]) - lead)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return ParsedText(stripped, entities)


def format_text(core: FakeTelegramCore, text: str, parse_mode: str | None, entities: Any) -> ParsedText:
    """Apply parse_mode (HTML like the Bot API; Markdown modes are passed through as plain text)."""
    mode = (parse_mode or "").strip().lower()
    if mode == "html":
        try:
            parsed = parse_html(text, strict_ampersand=core.strict_html_ampersand)
        except HtmlParseError as error:
            raise bad_request(f"can't parse entities: {error}") from error
    elif mode in ("markdown", "markdownv2"):
        parsed = ParsedText(text, [])
    elif mode == "":
        parsed = ParsedText(text, [dict(x) for x in entities] if isinstance(entities, list) else [])
    else:
        raise bad_request("unsupported parse_mode")
    return _trim(parsed)


def message_text(core: FakeTelegramCore, params: Params, *, allow_empty: bool = False) -> ParsedText:
    parsed = format_text(core, params.get_str("text") or "", params.get_str("parse_mode"), params.get_json("entities"))
    if not parsed.text and not allow_empty:
        raise bad_request(e.MESSAGE_TEXT_EMPTY)
    if utf16_len(parsed.text) > TEXT_LIMIT:
        raise bad_request(e.MESSAGE_TOO_LONG)
    return parsed


def caption_text(core: FakeTelegramCore, params: Params) -> ParsedText | None:
    caption = params.get_str("caption")
    if caption is None:
        return None
    parsed = format_text(core, caption, params.get_str("parse_mode"), params.get_json("caption_entities"))
    if utf16_len(parsed.text) > CAPTION_LIMIT:
        raise bad_request(e.CAPTION_TOO_LONG)
    return parsed


@dataclass(frozen=True, slots=True)
class Markup:
    """A reply_markup parameter: the inline keyboard attached to the message, or a chat keyboard change."""

    inline: JsonDict | None = None
    keyboard: JsonDict | None = None
    remove_keyboard: bool = False


def _check_url(url: Any) -> None:
    if not isinstance(url, str) or not valid_url(url):
        raise bad_request("BUTTON_URL_INVALID")


def _inline_keyboard(value: JsonDict) -> JsonDict:
    rows = value.get("inline_keyboard")
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    for row in rows:
        for button in row:
            if not isinstance(button, dict):
                raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
            if "text" not in button:
                raise bad_request("can't parse inline keyboard button: Can't find field \"text\"")
            if not isinstance(button.get("text"), str):
                raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
            if not any(key in button for key in _INLINE_ACTIONS):
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button:
                _check_url(button["url"])
    return {"inline_keyboard": rows}


def parse_markup(value: Any, *, inline_only: bool = False) -> Markup:
    if value is None or value == "":
        return Markup()
    if not isinstance(value, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in value:
        return Markup(inline=_inline_keyboard(value))
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in value:
        rows = value["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays')
        return Markup(keyboard=value)
    if value.get("remove_keyboard"):
        return Markup(remove_keyboard=True)
    if value.get("force_reply"):
        return Markup()
    raise bad_request("can't parse reply keyboard markup JSON object")


def apply_keyboard(chat: FakeChat, markup: Markup) -> None:
    if markup.keyboard is not None:
        chat.reply_keyboard = markup.keyboard
    elif markup.remove_keyboard:
        chat.reply_keyboard = None


def resolve_reply(core: FakeTelegramCore, chat: FakeChat, params: Params) -> FakeMessage | None:
    """The message to reply to (reply_parameters, or the legacy reply_to_message_id)."""
    reply = params.get_json("reply_parameters")
    message_id: Any = None
    allow_missing = params.get_bool("allow_sending_without_reply")
    if isinstance(reply, dict):
        message_id = reply.get("message_id")
        allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
        if reply.get("chat_id") not in (None, chat.id):
            target = core.state.find_chat(reply.get("chat_id"))
            if target is None:
                raise bad_request(e.CHAT_NOT_FOUND)
            chat = target
    elif params.get_int("reply_to_message_id") is not None:
        message_id = params.get_int("reply_to_message_id")
    if message_id is None:
        return None
    found = core.state.get_message(chat, int(message_id)) if isinstance(message_id, int | str) else None
    if found is None and not allow_missing:
        raise bad_request(e.REPLIED_NOT_FOUND)
    return found


def publish(core: FakeTelegramCore, message: FakeMessage, kind: str = "sent") -> JsonDict:
    """Announce a new/edited bot message and return it as a Bot API Message."""
    if kind == "sent":
        message.chat.draft = None
        core.emit(BotEvent("sent", message.chat.id, message))
    else:
        core.emit(BotEvent("edited", message.chat.id, message))
    data = message.to_api()
    if message.photo is not None:
        core.state.register_file_ids(message.photo)
    return data


def edit_target(core: FakeTelegramCore, params: Params) -> FakeMessage:
    """The bot message an edit* method refers to."""
    if params.get_str("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat = resolve_chat(core, params)
    ensure_member(chat)
    message_id = params.get_int("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    message = core.state.get_message(chat, message_id)
    if message is None:
        raise bad_request(e.MESSAGE_TO_EDIT_NOT_FOUND)
    if not message.from_bot:
        raise bad_request(e.MESSAGE_CANT_BE_EDITED)
    return message


def not_modified() -> ApiError:
    return bad_request(e.MESSAGE_NOT_MODIFIED)
