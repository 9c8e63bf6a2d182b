"""Telegram-flavoured HTML: escaping, a tolerant tokenizer, sanitising and plain-text fallback.

Telegram's HTML parse mode accepts a handful of tags (b/strong, i/em, u/ins, s/strike/del,
span class="tg-spoiler"/tg-spoiler, a href, code, pre, pre>code class="language-x", blockquote
[expandable]) and only the named entities &lt; &gt; &amp; &quot; plus numeric ones. Anything else
makes the whole message fail with "can't parse entities". Everything here works on that subset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape as _html_escape

__all__ = [
    "CloseTag",
    "OpenTag",
    "Text",
    "Token",
    "escape",
    "html_to_plain",
    "render_tokens",
    "safe_href",
    "sanitize_html",
    "sanitize_tokens",
    "tokenize",
    "unescape",
    "utf16_len",
    "visible_length",
    "visible_text",
]

# Telegram's tag names mapped to a canonical one; nesting rules use the canonical names.
_CANONICAL = {
    "b": "b",
    "strong": "b",
    "i": "i",
    "em": "i",
    "u": "u",
    "ins": "u",
    "s": "s",
    "strike": "s",
    "del": "s",
    "tg-spoiler": "tg-spoiler",
    "span": "tg-spoiler",  # only with class="tg-spoiler"; checked in _normalise_open
    "a": "a",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
# Formatting that may wrap or sit inside anything except code/pre.
_FORMATTING = frozenset({"b", "i", "u", "s", "tg-spoiler"})
_SAFE_SCHEMES = ("http://", "https://", "tg://")
_LANGUAGE_RE = re.compile(r"^[A-Za-z0-9_+#.-]{1,32}$")

_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[^<>]*?)?)\s*/?>")
_ATTR_RE = re.compile(r"""([A-Za-z][A-Za-z0-9_-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_ENTITY_RE = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9A-Fa-f]{1,6})|(lt|gt|amp|quot));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


@dataclass(frozen=True, slots=True)
class Text:
    """Visible text, already unescaped."""

    text: str


@dataclass(frozen=True, slots=True)
class OpenTag:
    name: str  # canonical name
    html: str  # the normalised opening tag, ready to emit


@dataclass(frozen=True, slots=True)
class CloseTag:
    name: str


Token = Text | OpenTag | CloseTag


def escape(text: str) -> str:
    """Escape text for Telegram HTML (`&`, `<`, `>`; quotes are left alone outside attributes)."""
    return _html_escape(text, quote=False)


def _escape_attr(value: str) -> str:
    return _html_escape(value, quote=True).replace("&#x27;", "'")


def _decode_entity(match: re.Match[str]) -> str:
    dec, hexa, named = match.groups()
    if named:
        return _NAMED[named]
    code = int(dec) if dec else int(hexa, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return chr(code)


def unescape(text: str) -> str:
    """Decode the entities Telegram understands; any other `&` stays literal."""
    if "&" not in text:
        return text
    return _ENTITY_RE.sub(_decode_entity, text)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram's 4096 limit is measured in."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def safe_href(url: str) -> str | None:
    """The URL if Telegram will accept it as a link target, else None."""
    url = url.strip()
    lowered = url.lower()
    if not lowered.startswith(_SAFE_SCHEMES):
        return None
    rest = url.split("://", 1)[1]
    if not rest or rest[0] in "/?#" or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    return url


def _parse_attrs(raw: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for match in _ATTR_RE.finditer(raw):
        name = match.group(1).lower()
        value = next((g for g in match.groups()[1:] if g is not None), "")
        attrs.setdefault(name, unescape(value))
    return attrs


def _normalise_open(name: str, raw_attrs: str) -> OpenTag | None:
    """A canonical opening tag, or None when the tag cannot be used (then only its text stays)."""
    canonical = _CANONICAL.get(name)
    if canonical is None:
        return None
    attrs = _parse_attrs(raw_attrs) if raw_attrs.strip() else {}
    if name == "span":
        if attrs.get("class") != "tg-spoiler":
            return None
        return OpenTag(name="tg-spoiler", html="<tg-spoiler>")
    if canonical == "a":
        href = safe_href(attrs.get("href", ""))
        if href is None:
            return None
        return OpenTag(name="a", html=f'<a href="{_escape_attr(href)}">')
    if canonical == "code":
        cls = attrs.get("class", "")
        if cls.startswith("language-") and _LANGUAGE_RE.match(cls[9:]):
            return OpenTag(name="code", html=f'<code class="{_escape_attr(cls)}">')
        return OpenTag(name="code", html="<code>")
    if canonical == "blockquote":
        if "expandable" in attrs:
            return OpenTag(name="blockquote", html="<blockquote expandable>")
        return OpenTag(name="blockquote", html="<blockquote>")
    return OpenTag(name=canonical, html=f"<{canonical}>")


def tokenize(html: str) -> list[Token]:
    """Split Telegram HTML into text and tag tokens, tolerating anything.

    Unknown tags and stray `<` / `>` become text; closing tags are not matched here (see
    `sanitize_tokens`). Text tokens hold unescaped visible text.
    """
    tokens: list[Token] = []
    pos = 0
    for match in _TAG_RE.finditer(html):
        if match.start() > pos:
            tokens.append(Text(unescape(html[pos : match.start()])))
        closing, name, raw_attrs = match.group(1), match.group(2).lower(), match.group(3)
        if closing:
            canonical = _CANONICAL.get(name)
            tokens.append(CloseTag(canonical) if canonical else Text(unescape(match.group(0))))
        else:
            tag = _normalise_open(name, raw_attrs)
            if tag is not None:
                tokens.append(tag)
            elif name in _CANONICAL:
                # A known tag in an unusable form: keep its text, drop the markup (and its close).
                tokens.append(OpenTag(name=_CANONICAL[name], html=""))
            else:
                tokens.append(Text(unescape(match.group(0))))
        pos = match.end()
    if pos < len(html):
        tokens.append(Text(unescape(html[pos:])))
    return tokens


def _may_open(tag: OpenTag, stack: list[OpenTag], last_text_in_pre: bool) -> bool:
    names = [t.name for t in stack]
    if not tag.html:
        return False
    if names and names[-1] == "code":
        return False
    if "pre" in names:
        # Only one <code> directly inside <pre>, before any text.
        return tag.name == "code" and names[-1] == "pre" and not last_text_in_pre
    if tag.name in _FORMATTING:
        return True
    if "code" in names:
        return False
    if tag.name in names:  # no a-in-a, blockquote-in-blockquote, ...
        return False
    if tag.name == "blockquote":
        return not names or all(n in _FORMATTING for n in names)
    # a, code, pre: not inside each other; allowed inside formatting and blockquote.
    return all(n in _FORMATTING or n == "blockquote" for n in names)


def sanitize_tokens(tokens: list[Token]) -> list[Token]:
    """Balanced tokens that follow Telegram's nesting rules.

    Unusable opening tags are dropped (their text stays), closing tags without a matching open
    tag are dropped, tags closed out of order are closed and reopened around the close, and
    anything still open at the end is closed.
    """
    out: list[Token] = []
    stack: list[OpenTag] = []
    # For each opened tag: was it emitted (True) or swallowed (False)? Closing tags pop this.
    opened: list[tuple[str, bool]] = []
    text_in_pre = False
    for token in tokens:
        if isinstance(token, Text):
            if token.text:
                out.append(token)
                if stack and stack[-1].name == "pre":
                    text_in_pre = True
        elif isinstance(token, OpenTag):
            if _may_open(token, stack, text_in_pre):
                stack.append(token)
                out.append(token)
                opened.append((token.name, True))
                if token.name == "pre":
                    text_in_pre = False
            else:
                opened.append((token.name, False))
        else:
            idx = next((i for i in range(len(opened) - 1, -1, -1) if opened[i][0] == token.name), None)
            if idx is None:
                continue
            _, emitted = opened.pop(idx)
            if not emitted:
                continue
            depth = max(i for i, t in enumerate(stack) if t.name == token.name)
            reopen = stack[depth + 1 :]
            for tag in reversed(stack[depth:]):
                out.append(CloseTag(tag.name))
            del stack[depth:]
            for tag in reopen:
                if _may_open(tag, stack, False):
                    stack.append(tag)
                    out.append(tag)
                else:
                    # It can no longer be reopened here: its pending close must be swallowed.
                    for j in range(len(opened) - 1, -1, -1):
                        if opened[j] == (tag.name, True):
                            opened[j] = (tag.name, False)
                            break
    for tag in reversed(stack):
        out.append(CloseTag(tag.name))
    return _drop_empty(out)


def _drop_empty(tokens: list[Token]) -> list[Token]:
    """Remove tag pairs that enclose no text (Telegram rejects some empty entities)."""
    out: list[Token] = []
    for token in tokens:
        last = out[-1] if out else None
        if isinstance(token, CloseTag) and isinstance(last, OpenTag) and last.name == token.name:
            out.pop()
            continue
        out.append(token)
    return out


def render_tokens(tokens: list[Token]) -> str:
    parts: list[str] = []
    for token in tokens:
        if isinstance(token, Text):
            parts.append(escape(token.text))
        elif isinstance(token, OpenTag):
            parts.append(token.html)
        else:
            parts.append(f"</{token.name}>")
    return "".join(parts)


def sanitize_html(html: str) -> str:
    """Make arbitrary HTML-ish text safe for Telegram's HTML parse mode (balanced, allowed tags)."""
    return render_tokens(sanitize_tokens(tokenize(html)))


def visible_text(html: str) -> str:
    """The text Telegram shows for this HTML (tags removed, entities decoded)."""
    return "".join(t.text for t in tokenize(html) if isinstance(t, Text))


def visible_length(html: str) -> int:
    """Visible length in UTF-16 code units, as Telegram counts it against the 4096 limit."""
    return utf16_len(visible_text(html))


def html_to_plain(html: str) -> str:
    """Plain text for the fallback when Telegram still refuses the HTML (send without parse_mode).

    Link targets are kept in parentheses when the link text does not already show them.
    """
    parts: list[str] = []
    links: list[tuple[str, int]] = []  # (href, index in parts where the link text starts)
    for token in tokenize(html):
        if isinstance(token, Text):
            parts.append(token.text)
        elif isinstance(token, OpenTag):
            if token.name == "a":
                match = re.search(r'href="([^"]*)"', token.html)
                links.append((unescape(match.group(1)) if match else "", len(parts)))
        elif token.name == "a" and links:
            href, start = links.pop()
            shown = "".join(parts[start:])
            if href and href not in shown:
                parts.append(f" ({href})")
    return "".join(parts)
