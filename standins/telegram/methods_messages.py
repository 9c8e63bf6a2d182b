"""Bot API methods that send, edit and delete messages."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from . import errors as e
from .chats import Draft, FakeMessage, JsonDict
from .common import (
    apply_keyboard,
    caption_text,
    count_message,
    edit_target,
    ensure_member,
    ensure_not_blocked,
    message_text,
    not_modified,
    parse_markup,
    publish,
    resolve_chat,
    resolve_reply,
    resolve_thread,
)
from .errors import bad_request
from .files import StoredFile, image_size
from .params import Params, UploadedFile
from .state import BotEvent

if TYPE_CHECKING:
    from .common import Handler
    from .core import FakeTelegramCore

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


async def send_message(core: FakeTelegramCore, params: Params) -> JsonDict:
    chat = resolve_chat(core, params)
    ensure_member(chat)
    parsed = message_text(core, params)
    markup = parse_markup(params.get_json("reply_markup"))
    reply_to = resolve_reply(core, chat, params)
    thread = resolve_thread(chat, params)
    ensure_not_blocked(chat)
    count_message(core, chat, params)
    message = core.state.add_message(
        chat,
        core.bot_user,
        message_thread_id=thread,
        disable_notification=params.get_bool("disable_notification"),
        text=parsed.text,
        entities=parsed.entities,
        source=params.get_str("text"),
        parse_mode=params.get_str("parse_mode"),
        reply_markup=markup.inline,
        reply_to=reply_to,
        link_preview_options=params.get_json("link_preview_options"),
    )
    apply_keyboard(chat, markup)
    return publish(core, message)


def _photo_file(core: FakeTelegramCore, value: UploadedFile | str | None) -> StoredFile:
    if value is None:
        raise bad_request("there is no photo in the request")
    if isinstance(value, UploadedFile):
        if not value.data:
            raise bad_request("file must be non-empty")
        size = image_size(value.data)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        return core.state.store_file(
            value.data, filename=value.filename, content_type=value.content_type, width=size[0], height=size[1]
        )
    known = core.state.files.get(value)
    if known is not None:
        return known
    if value.startswith(("http://", "https://")):
        return core.state.store_file(
            None, filename=value.rsplit("/", 1)[-1] or "photo.jpg", width=800, height=600, url=value
        )
    raise bad_request("wrong file identifier/HTTP URL specified")


async def send_photo(core: FakeTelegramCore, params: Params) -> JsonDict:
    chat = resolve_chat(core, params)
    ensure_member(chat)
    caption = caption_text(core, params)
    markup = parse_markup(params.get_json("reply_markup"))
    reply_to = resolve_reply(core, chat, params)
    stored = _photo_file(core, params.file("photo"))
    thread = resolve_thread(chat, params)
    ensure_not_blocked(chat)
    count_message(core, chat, params)
    message = core.state.add_message(
        chat,
        core.bot_user,
        message_thread_id=thread,
        disable_notification=params.get_bool("disable_notification"),
        photo=stored,
        caption=caption.text if caption and caption.text else None,
        caption_entities=caption.entities if caption else [],
        source=params.get_str("caption"),
        parse_mode=params.get_str("parse_mode"),
        reply_markup=markup.inline,
        reply_to=reply_to,
    )
    apply_keyboard(chat, markup)
    return publish(core, message)


def _copied_content(core: FakeTelegramCore, params: Params, original: FakeMessage) -> dict[str, Any]:
    """What a copy carries: the original's text or media with their entities (a new `caption`
    replaces a media's caption), nothing of its sender, reply or keyboard."""
    if original.invoice is not None or (original.text is None and original.photo is None and not original.extra):
        raise bad_request(e.MESSAGE_CANT_BE_COPIED)
    if original.text is not None:
        return {"text": original.text, "entities": list(original.entities)}
    fields: dict[str, Any] = {"photo": original.photo, "extra": dict(original.extra)}
    new_caption = caption_text(core, params)
    if new_caption is not None:
        fields.update(caption=new_caption.text or None, caption_entities=new_caption.entities)
    elif original.caption is not None:
        fields.update(caption=original.caption, caption_entities=list(original.caption_entities))
    return fields


async def copy_message(core: FakeTelegramCore, params: Params) -> JsonDict:
    """copyMessage: a new message from the bot with the original's content; answers its MessageId."""
    chat = resolve_chat(core, params)
    ensure_member(chat)
    source = resolve_chat(core, params, "from_chat_id")
    message_id = params.get_int("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    original = core.state.get_message(source, message_id)
    if original is None:
        raise bad_request(e.MESSAGE_TO_COPY_NOT_FOUND)
    content = _copied_content(core, params, original)
    markup = parse_markup(params.get_json("reply_markup"))
    reply_to = resolve_reply(core, chat, params)
    thread = resolve_thread(chat, params)
    ensure_not_blocked(chat)
    count_message(core, chat, params)
    message = core.state.add_message(
        chat,
        core.bot_user,
        message_thread_id=thread,
        disable_notification=params.get_bool("disable_notification"),
        reply_markup=markup.inline,
        reply_to=reply_to,
        **content,
    )
    apply_keyboard(chat, markup)
    publish(core, message)
    return {"message_id": message.message_id}


def _edited(core: FakeTelegramCore, message: Any) -> JsonDict:
    message.edit_date = int(time.time())
    return publish(core, message, "edited")


async def edit_message_text(core: FakeTelegramCore, params: Params) -> JsonDict:
    message = edit_target(core, params)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    parsed = message_text(core, params)
    markup = parse_markup(params.get_json("reply_markup"), inline_only=True)
    if parsed.text == message.text and parsed.entities == message.entities and markup.inline == message.reply_markup:
        raise not_modified()
    count_message(core, message.chat)
    message.history.append(message.snapshot())
    message.text, message.entities = parsed.text, parsed.entities
    message.source, message.parse_mode = params.get_str("text"), params.get_str("parse_mode")
    message.reply_markup = markup.inline
    return _edited(core, message)


async def edit_message_caption(core: FakeTelegramCore, params: Params) -> JsonDict:
    message = edit_target(core, params)
    if message.photo is None:
        raise bad_request("there is no caption in the message to edit")
    caption = caption_text(core, params)
    text = caption.text if caption and caption.text else None
    entities = caption.entities if caption else []
    markup = parse_markup(params.get_json("reply_markup"), inline_only=True)
    if text == message.caption and entities == message.caption_entities and markup.inline == message.reply_markup:
        raise not_modified()
    count_message(core, message.chat)
    message.history.append(message.snapshot())
    message.caption, message.caption_entities = text, entities
    message.source, message.parse_mode = params.get_str("caption"), params.get_str("parse_mode")
    message.reply_markup = markup.inline
    return _edited(core, message)


async def edit_message_reply_markup(core: FakeTelegramCore, params: Params) -> JsonDict:
    message = edit_target(core, params)
    markup = parse_markup(params.get_json("reply_markup"), inline_only=True)
    if markup.inline == message.reply_markup:
        raise not_modified()
    count_message(core, message.chat)
    message.history.append(message.snapshot())
    message.reply_markup = markup.inline
    return _edited(core, message)


async def delete_message(core: FakeTelegramCore, params: Params) -> bool:
    chat = resolve_chat(core, params)
    message_id = params.get_int("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    message = core.state.get_message(chat, message_id)
    if message is None:
        raise bad_request(e.MESSAGE_TO_DELETE_NOT_FOUND)
    if not message.from_bot and not chat.is_private and chat.bot_status not in ("administrator", "creator"):
        raise bad_request(e.MESSAGE_CANT_BE_DELETED)
    message.deleted = True
    core.emit(BotEvent("deleted", chat.id, message))
    return True


async def send_chat_action(core: FakeTelegramCore, params: Params) -> bool:
    chat = resolve_chat(core, params)
    ensure_member(chat)
    action = params.get_str("action") or ""
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    ensure_not_blocked(chat)
    core.emit(BotEvent("chat_action", chat.id, data={"action": action}))
    return True


async def send_message_draft(core: FakeTelegramCore, params: Params) -> bool:
    """A temporary preview of a message being generated (private chats only). Counted against the
    chat's flood limits like any other message; a stopped draft takes no further changes."""
    chat = resolve_chat(core, params)
    if not chat.is_private:
        raise bad_request("message drafts can be sent only to private chats")
    ensure_member(chat)
    draft_id = params.get_int("draft_id")
    if not draft_id:
        raise bad_request("draft_id must be non-zero")
    parsed = message_text(core, params, allow_empty=True)
    thread = resolve_thread(chat, params)
    ensure_not_blocked(chat)
    count_message(core, chat, params)
    if draft_id in chat.stopped_drafts:
        return True  # the user stopped this generation: no further drafts of it are shown
    chat.draft = Draft(
        draft_id,
        parsed.text,
        parsed.entities,
        can_stop=params.get_bool("can_stop"),
        keep_on_stop=params.get_bool("keep_on_stop"),
    )
    data = {"draft_id": draft_id, "text": parsed.text, "message_thread_id": thread}
    core.emit(BotEvent("draft", chat.id, data=data))
    return True


async def get_file(core: FakeTelegramCore, params: Params) -> JsonDict:
    file_id = params.get_str("file_id") or ""
    stored = core.state.files.get(file_id)
    if stored is None or stored.data is None:
        raise bad_request("invalid file_id")
    info = stored.as_file()
    info["file_id"] = file_id
    return info


METHODS: dict[str, Handler] = {
    "sendMessage": send_message,
    "sendPhoto": send_photo,
    "copyMessage": copy_message,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "sendChatAction": send_chat_action,
    "sendMessageDraft": send_message_draft,
    "getFile": get_file,
}
