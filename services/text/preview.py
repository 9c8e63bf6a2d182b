"""Safe previews of a streaming Markdown answer, for the intermediate message edits."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from services.text.html import escape, utf16_len, visible_length
from services.text.markdown import markdown_to_telegram_html
from services.text.split import TELEGRAM_LIMIT, split_html, truncate_html

__all__ = ["StreamPreview", "close_dangling_markdown", "preview_html"]

_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.MULTILINE)


def close_dangling_markdown(md: str) -> str:
    """Close inline markers (`**`, `` ` ``, `~~`) left open in the last paragraph of a partial answer.

    While a model is mid-sentence, "**Support at 6" would otherwise show literal asterisks until
    the closing marker arrives. Unclosed code fences need nothing: markdown-it closes them.
    """
    if len(_FENCE_RE.findall(md)) % 2:
        return md  # inside an open code block
    head, sep, last = md.rpartition("\n\n")
    stripped = last.rstrip()
    if not stripped:
        return md
    stack: list[str] = []
    i = 0
    while i < len(stripped):
        if stripped[i] == "\\":
            i += 2
            continue
        if stripped[i] == "`":
            run = len(stripped[i:]) - len(stripped[i:].lstrip("`"))
            if run == 1:
                if stack and stack[-1] == "`":
                    stack.pop()
                else:
                    stack.append("`")
            i += run
            continue
        if stack and stack[-1] == "`":
            i += 1
            continue
        for marker in ("**", "~~"):
            if stripped.startswith(marker, i):
                if marker in stack:
                    while stack and stack.pop() != marker:
                        pass
                else:
                    stack.append(marker)
                i += len(marker)
                break
        else:
            i += 1
    if not stack:
        return md
    if stripped.endswith(("**", "~~")) and stack[-1] in ("**", "~~") and stripped.endswith(stack[-1]):
        # A marker opened at the very end with nothing after it yet: drop it instead.
        stripped = stripped[: -len(stack.pop())].rstrip()
    return head + sep + stripped + "".join(reversed(stack))


def preview_html(partial_md: str, limit: int = TELEGRAM_LIMIT, *, cursor: str = "") -> str:
    """Telegram-safe HTML for a partial answer, cut to `limit` visible units with "…" if longer."""
    html = markdown_to_telegram_html(close_dangling_markdown(partial_md))
    if not cursor:
        return truncate_html(html, limit)
    room = limit - utf16_len(cursor)
    if visible_length(html) > room:
        return truncate_html(html, limit)
    return html + escape(cursor)


class StreamPreview:
    """Accumulates streamed deltas and says when an edit is due and what it should show.

    `poll()` returns the preview HTML when at least `min_interval` seconds passed since the last
    edit and the text changed (Telegram rejects edits that change nothing), otherwise None.
    `final_parts()` gives the finished answer, converted and split for sending.
    """

    def __init__(
        self,
        *,
        limit: int = TELEGRAM_LIMIT,
        min_interval: float = 1.0,
        cursor: str = " ▌",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._chunks: list[str] = []
        self._limit = limit
        self._min_interval = min_interval
        self._cursor = cursor
        self._clock = clock
        self._last_shown: str | None = None
        self._last_at: float | None = None

    def feed(self, delta: str) -> None:
        if delta:
            self._chunks.append(delta)

    @property
    def text(self) -> str:
        if len(self._chunks) > 1:
            self._chunks = ["".join(self._chunks)]
        return self._chunks[0] if self._chunks else ""

    def render(self) -> str:
        return preview_html(self.text, self._limit, cursor=self._cursor)

    def poll(self) -> str | None:
        now = self._clock()
        if self._last_at is not None and now - self._last_at < self._min_interval:
            return None
        if not self.text.strip():
            return None
        shown = self.render()
        if shown == self._last_shown:
            return None
        self._last_shown = shown
        self._last_at = now
        return shown

    def final_parts(self) -> list[str]:
        return split_html(markdown_to_telegram_html(self.text), self._limit)
