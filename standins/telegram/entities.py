"""Telegram's HTML formatting (parse_mode=HTML) and the entities Telegram detects in user text.

`parse_html` follows the Bot API server's parser (TDLib `parse_html`): the same tags and attributes,
the same error texts and byte offsets, entity offsets and lengths in UTF-16 code units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "tg-time",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_SPACES = b" \t\r\n\0\v\f"
_NAMED_ENTITIES = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; str(error) is the Bot API's explanation."""


@dataclass(slots=True)
class ParsedText:
    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(slots=True)
class _Open:
    tag: str
    argument: str
    url: str
    offset: int  # UTF-16 offset in the result
    begin: int  # position in the result (str index)


class _Reader:
    """Byte-level access with TDLib's convention that reading past the end yields 0."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def at(self, i: int) -> int:
        return self.data[i] if i < len(self.data) else 0

    def is_space(self, i: int) -> bool:
        return self.at(i) in _SPACES

    def decode_entity(self, pos: int) -> tuple[str, int] | None:
        """Decode an HTML character reference at `pos` ('&'); returns (character, next position)."""
        end = pos + 1
        value = 0
        if self.at(pos + 1) == ord("#"):
            end += 1
            if self.at(pos + 2) == ord("x"):
                end += 1
                while chr(self.at(end)) in "0123456789abcdefABCDEF" and self.at(end) != 0:
                    value = value * 16 + int(chr(self.at(end)), 16)
                    end += 1
                    if value >= 0x10FFFF:
                        return None
            else:
                while ord("0") <= self.at(end) <= ord("9"):
                    value = value * 10 + self.at(end) - ord("0")
                    end += 1
                    if value >= 0x10FFFF:
                        return None
            if value == 0 or value >= 0x10FFFF or end - pos >= 10:
                return None
            char = chr(value)
        else:
            while chr(self.at(end)).isascii() and chr(self.at(end)).isalpha():
                end += 1
            name = self.data[pos + 1 : end]
            if name not in _NAMED_ENTITIES:
                return None
            char = _NAMED_ENTITIES[name]
        if self.at(end) == ord(";"):
            end += 1
        return char, end


def _close_entity(entities: list[dict[str, Any]], opened: _Open, result: list[str], length: int) -> None:
    tag = opened.tag
    entity: dict[str, Any] = {"type": "", "offset": opened.offset, "length": length}
    if tag in _SIMPLE_TYPES:
        entity["type"] = _SIMPLE_TYPES[tag]
    elif tag == "a":
        url = opened.url or "".join(result)[opened.begin :]
        user = re.fullmatch(r"tg://user\?id=(\d+)", url)
        if user:
            entity["type"] = "text_mention"
            entity["user"] = {"id": int(user.group(1)), "is_bot": False, "first_name": ""}
        elif valid_url(url):
            entity["type"] = "text_link"
            entity["url"] = url
        else:
            return
    elif tag == "tg-emoji":
        entity["type"] = "custom_emoji"
        entity["custom_emoji_id"] = opened.argument
    elif tag == "blockquote":
        entity["type"] = "expandable_blockquote" if opened.argument else "blockquote"
    elif tag == "tg-time":
        entity["type"] = "date_time"
        entity["unix_time"] = int(opened.argument)
        if opened.url:
            entity["date_time_format"] = opened.url
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and (last["offset"], last["length"]) == (opened.offset, length)
            and last.get("language")
        ):
            last["type"] = "pre"
            return
        entity["type"] = "pre"
    else:  # code
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "pre"
            and (last["offset"], last["length"]) == (opened.offset, length)
            and opened.argument
        ):
            last["language"] = opened.argument
            return
        entity["type"] = "code"
        if opened.argument:
            entity["language"] = opened.argument
    entities.append(entity)


def valid_url(url: str) -> bool:
    return bool(re.match(r"^(https?|tg|ton)://\S+$", url, re.I) or re.match(r"^[\w.-]+\.[a-z]{2,}(/\S*)?$", url, re.I))


def parse_html(source: str, *, strict_ampersand: bool = False) -> ParsedText:
    """Parse Telegram HTML into visible text and entities, or raise HtmlParseError.

    Like the real server, a `&` that does not start a known character reference is kept as text;
    `strict_ampersand=True` rejects it instead (stricter than Telegram, to catch unescaped text).
    """
    reader = _Reader(source.encode("utf-8"))
    data = reader.data
    result: list[str] = []
    utf16_offset = 0
    entities: list[dict[str, Any]] = []
    stack: list[_Open] = []
    i = 0
    size = len(data)
    while i < size:
        c = data[i]
        if c == ord("&"):
            decoded = reader.decode_entity(i)
            if decoded is not None:
                char, i = decoded
                result.append(char)
                utf16_offset += utf16_len(char)
                continue
            if strict_ampersand:
                raise HtmlParseError(f'Unescaped "&" at byte offset {i}')
        if c != ord("<"):
            end = i + 1
            while end < size and data[end] & 0xC0 == 0x80:
                end += 1
            char = data[i:end].decode("utf-8", errors="replace")
            result.append(char)
            utf16_offset += utf16_len(char)
            i = end
            continue
        begin = i
        i += 1
        if reader.at(i) != ord("/"):
            i = _parse_start_tag(reader, begin, i, stack, utf16_offset, len(result))
            continue
        # an end tag
        if not stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {begin}")
        while not reader.is_space(i) and reader.at(i) != ord(">"):
            i += 1
        end_name = data[begin + 2 : i].decode("utf-8", errors="replace")
        while reader.is_space(i) and reader.at(i) != 0:
            i += 1
        if reader.at(i) != ord(">"):
            raise HtmlParseError(f"Unclosed end tag at byte offset {begin}")
        i += 1
        opened = stack[-1]
        if end_name and end_name != opened.tag:
            raise HtmlParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{opened.tag}>", found "</{end_name}>"'
            )
        if utf16_offset > opened.offset:
            _close_entity(entities, opened, result, utf16_offset - opened.offset)
        stack.pop()
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText("".join(result), entities)


def _parse_start_tag(reader: _Reader, begin: int, i: int, stack: list[_Open], offset: int, pos: int) -> int:
    data = reader.data
    while not reader.is_space(i) and reader.at(i) != ord(">"):
        i += 1
    if reader.at(i) == 0:
        raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
    tag = data[begin + 1 : i].decode("utf-8", errors="replace").lower()
    if tag not in SUPPORTED_TAGS:
        raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
    url = ""
    argument = ""
    while reader.at(i) != ord(">"):
        while reader.at(i) != 0 and reader.is_space(i):
            i += 1
        if reader.at(i) == ord(">"):
            break
        attr_begin = i
        while not reader.is_space(i) and reader.at(i) not in (ord("="), ord(">")):
            i += 1
        attr = data[attr_begin:i].decode("utf-8", errors="replace")
        if not attr:
            raise HtmlParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
        while reader.at(i) != 0 and reader.is_space(i):
            i += 1
        if reader.at(i) != ord("="):
            if tag == "blockquote" and attr == "expandable":
                argument = "1"
                continue
            raise HtmlParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" at byte offset {begin}'
            )
        i += 1
        while reader.at(i) != 0 and reader.is_space(i):
            i += 1
        if reader.at(i) == 0:
            raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        value, i = _attribute_value(reader, i)
        if reader.at(i) == 0:
            raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
        if tag == "a" and attr == "href":
            url = value
        elif tag == "code" and attr == "class" and value.startswith("language-"):
            argument = value[len("language-") :]
        elif tag == "span" and attr == "class" and value.startswith("tg-"):
            argument = value[len("tg-") :]
        elif (tag == "tg-emoji" and attr == "emoji-id") or (tag == "tg-time" and attr == "unix"):
            argument = value
        elif tag == "tg-time" and attr == "format":
            url = value  # the format string rides in the url slot
    if tag == "span" and argument != "spoiler":
        raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
    if tag == "tg-emoji" and not argument.isdigit():
        raise HtmlParseError("Invalid custom emoji identifier specified")
    if tag == "tg-time" and not argument.isdigit():
        raise HtmlParseError(f'Tag "tg-time" must have a valid attribute "unix" at byte offset {begin}')
    stack.append(_Open(tag, argument, url, offset, pos))
    return i + 1


def _attribute_value(reader: _Reader, i: int) -> tuple[str, int]:
    data = reader.data
    quote = reader.at(i)
    if quote not in (ord("'"), ord('"')):
        start = i
        while chr(reader.at(i)).isascii() and (chr(reader.at(i)).isalnum() or reader.at(i) in b".-"):
            if reader.at(i) == 0:
                break
            i += 1
        if not reader.is_space(i) and reader.at(i) != ord(">"):
            raise HtmlParseError(f"Unexpected end of name token at byte offset {start}")
        return data[start:i].decode("utf-8").lower(), i
    i += 1
    value = bytearray()
    while reader.at(i) != quote and reader.at(i) != 0:
        if reader.at(i) == ord("&"):
            decoded = reader.decode_entity(i)
            if decoded is not None:
                value += decoded[0].encode("utf-8")
                i = decoded[1]
                continue
        value.append(reader.at(i))
        i += 1
    if reader.at(i) == quote:
        i += 1
    return value.decode("utf-8", errors="replace"), i


def html_to_text(html: str) -> str:
    """Readable plain text of Telegram HTML: tags removed, entities unescaped, links as `text (url)`.

    Never fails: text that Telegram would reject is shown with its tags stripped.
    """
    try:
        parsed = parse_html(html)
    except HtmlParseError:
        stripped = re.sub(r"<[^>]*>", "", html)
        return stripped.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    return entities_to_text(parsed.text, parsed.entities)


def entities_to_text(text: str, entities: list[dict[str, Any]]) -> str:
    """Plain text with `text_link` entities rendered as `text (url)`."""
    links = sorted(
        (e for e in entities if e.get("type") == "text_link"), key=lambda e: int(e["offset"]) + int(e["length"])
    )
    if not links:
        return text
    units = text.encode("utf-16-le")
    out: list[bytes] = []
    last = 0
    for link in links:
        start = int(link["offset"]) * 2
        end = max(last, (int(link["offset"]) + int(link["length"])) * 2)
        out.append(units[last:end])
        last = end
        label = units[start:end].decode("utf-16-le", errors="replace")
        if label.strip() != link["url"]:
            out.append(f" ({link['url']})".encode("utf-16-le"))
    out.append(units[last:])
    return b"".join(out).decode("utf-16-le", errors="replace")


_USER_ENTITY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")),
    ("url", re.compile(r"\bhttps?://[^\s<>\"]+", re.I)),
    ("mention", re.compile(r"(?<![\w@/])@[A-Za-z][A-Za-z0-9_]{3,31}\b")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
    ("cashtag", re.compile(r"(?<![\w$])\$[A-Z]{1,8}(?![A-Za-z])")),
)


def detect_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram's clients/servers mark in a user's plain text message."""
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _USER_ENTITY_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            found.append((start, end, kind))
    found.sort()
    return [
        {"type": kind, "offset": utf16_len(text[:start]), "length": utf16_len(text[start:end])}
        for start, end, kind in found
    ]
