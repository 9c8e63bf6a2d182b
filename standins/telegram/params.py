"""Decoding of Bot API method parameters, as they arrive over HTTP.

Telegram accepts a query string, `application/x-www-form-urlencoded`, `application/json` or
`multipart/form-data`; aiogram always sends multipart, with nested objects JSON-encoded as strings and
files as parts referenced by `attach://<part name>`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, web

from .errors import bad_request

# Parameters whose value is a JSON-serialized object or array.
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "reply_parameters",
        "link_preview_options",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "prices",
        "allowed_updates",
        "media",
        "suggested_tip_amounts",
        "provider_data",
    }
)
INT_FIELDS = frozenset(
    {
        "message_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "draft_id",
        "reply_to_message_id",
        "message_thread_id",
        "cache_time",
        "max_connections",
        "from_chat_id",
        "max_tip_amount",
        "subscription_period",
    }
)
BOOL_FIELDS = frozenset(
    {
        "ok",
        "show_alert",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "show_caption_above_media",
        "is_flexible",
        "need_name",
        "need_email",
        "need_phone_number",
        "need_shipping_address",
        "send_email_to_provider",
        "send_phone_number_to_provider",
        "allow_paid_broadcast",
        "only_if_banned",
        "can_stop",
        "keep_on_stop",
    }
)


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of a multipart request."""

    name: str
    filename: str
    content_type: str
    data: bytes


def _to_bool(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in {"true", "1", "false", "0"}:
        return value.lower() in {"true", "1"}
    return value


def _to_int(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    return value


def _decode_json(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as exc:
        if name == "reply_markup":
            raise bad_request("can't parse reply keyboard markup JSON object") from exc
        raise bad_request(f"can't parse {name} JSON object") from exc


def normalize(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Decode JSON-encoded fields and convert known int/bool fields from their string forms."""
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if name in JSON_FIELDS:
            out[name] = _decode_json(name, value)
        elif name in INT_FIELDS or name == "chat_id":
            out[name] = _to_int(value)
        elif name in BOOL_FIELDS:
            out[name] = _to_bool(value)
        else:
            out[name] = value
    return out


class Params:
    """Decoded parameters of one method call, with typed getters that fail like the Bot API does."""

    def __init__(self, values: Mapping[str, Any], files: Mapping[str, UploadedFile] | None = None) -> None:
        self.values: dict[str, Any] = normalize(values)
        self.files: dict[str, UploadedFile] = dict(files or {})

    def __contains__(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def get_str(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        if isinstance(value, str):
            return value
        return json.dumps(value)

    def get_int(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise bad_request(f"invalid {name} specified")

    def require_int(self, name: str, empty_text: str | None = None) -> int:
        value = self.get_int(name)
        if value is None:
            raise bad_request(empty_text or f"{name} is empty")
        return value

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value != 0
        return str(value).lower() == "true"

    def get_json(self, name: str) -> Any:
        return self.values.get(name)

    def file(self, name: str) -> UploadedFile | str | None:
        """A file parameter: an uploaded part (directly or via attach://), else the string value."""
        if name in self.files:
            return self.files[name]
        value = self.values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            part = self.files.get(value.removeprefix("attach://"))
            if part is None:
                raise bad_request(f"can't find file to attach: {value}")
            return part
        if isinstance(value, str) and value:
            return value
        return None

    def record(self) -> dict[str, Any]:
        """The decoded parameters as recorded in a call log (uploaded files summarized in place)."""
        out = dict(self.values)
        attached: set[str] = set()
        for name, value in out.items():
            if isinstance(value, str) and value.startswith("attach://"):
                part = self.files.get(value.removeprefix("attach://"))
                if part is not None:
                    out[name] = _summary(part)
                    attached.add(part.name)
        for name, part in self.files.items():
            if name not in attached:
                out.setdefault(name, _summary(part))
        return out


def _summary(part: UploadedFile) -> str:
    return f"<file {part.filename} {len(part.data)} bytes>"


async def read_parts(reader: MultipartReader) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    values: dict[str, Any] = {}
    files: dict[str, UploadedFile] = {}
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            continue
        name = part.name or ""
        if part.filename is not None:
            data = await part.read(decode=False)
            files[name] = UploadedFile(
                name=name,
                filename=part.filename,
                content_type=part.headers.get("Content-Type", "application/octet-stream"),
                data=bytes(data),
            )
        else:
            values[name] = await part.text()
    return values, files


async def parse_request(request: web.Request) -> Params:
    """Collect the parameters of a request from its query string and body."""
    values: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.method == "POST" and request.can_read_body:
        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise bad_request("can't parse JSON encoded request") from exc
            if not isinstance(body, dict):
                raise bad_request("can't parse JSON encoded request")
            values.update(body)
        elif content_type == "multipart/form-data":
            part_values, files = await read_parts(await request.multipart())
            values.update(part_values)
        elif content_type == "application/x-www-form-urlencoded":
            form = await request.post()
            values.update({key: value for key, value in form.items() if isinstance(value, str)})
    return Params(values, files)
