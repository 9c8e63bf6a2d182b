"""Split or truncate Telegram HTML by visible length (UTF-16 code units), keeping every part balanced."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from services.text.html import CloseTag, OpenTag, Text, escape, sanitize_tokens, tokenize

__all__ = ["TELEGRAM_LIMIT", "split_html", "split_text", "truncate_html"]

TELEGRAM_LIMIT = 4096
_ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class _Run:
    start: int  # index into the visible text
    end: int
    stack: tuple[OpenTag, ...]


class _Document:
    """Visible text plus, for each stretch of it, the tags that are open there."""

    def __init__(self, html: str) -> None:
        runs: list[_Run] = []
        chunks: list[str] = []
        stack: list[OpenTag] = []
        pos = 0
        for token in sanitize_tokens(tokenize(html)):
            if isinstance(token, Text):
                runs.append(_Run(start=pos, end=pos + len(token.text), stack=tuple(stack)))
                chunks.append(token.text)
                pos += len(token.text)
            elif isinstance(token, OpenTag):
                stack.append(token)
            elif isinstance(token, CloseTag) and stack:
                stack.pop()
        self.text = "".join(chunks)
        self.runs = runs
        # prefix[i] = UTF-16 length of text[:i]
        prefix = [0] * (len(self.text) + 1)
        total = 0
        for i, ch in enumerate(self.text):
            total += 2 if ord(ch) > 0xFFFF else 1
            prefix[i + 1] = total
        self.prefix = prefix

    def fit(self, start: int, budget: int) -> int:
        """The largest end such that text[start:end] is at most `budget` UTF-16 units."""
        target = self.prefix[start] + budget
        lo, hi = start, len(self.text)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.prefix[mid] <= target:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def render(self, start: int, end: int) -> str:
        """Balanced HTML for text[start:end]: tags open at `start` are reopened, open at `end` closed."""
        out: list[str] = []
        current: tuple[OpenTag, ...] = ()
        for run in self._runs_between(start, end):
            common = 0
            while common < min(len(current), len(run.stack)) and current[common] is run.stack[common]:
                common += 1
            out.extend(f"</{tag.name}>" for tag in reversed(current[common:]))
            out.extend(tag.html for tag in run.stack[common:])
            current = run.stack
            out.append(escape(self.text[max(start, run.start) : min(end, run.end)]))
        out.extend(f"</{tag.name}>" for tag in reversed(current))
        return "".join(out)

    def _runs_between(self, start: int, end: int) -> Iterator[_Run]:
        # Binary search for the first run that ends after `start`.
        lo, hi = 0, len(self.runs)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.runs[mid].end <= start:
                lo = mid + 1
            else:
                hi = mid
        for run in self.runs[lo:]:
            if run.start >= end:
                break
            if run.end > run.start:
                yield run


def _find_cut(text: str, start: int, end: int) -> tuple[int, int]:
    """Where to cut text[start:end] (end < len(text)): (end of this part, start of the next).

    Prefers a paragraph break, then a line break, then a space, each only if it keeps the part at
    least half full; otherwise the best of those anywhere; otherwise a hard cut.
    """
    half = start + (end - start) // 2
    candidates: list[tuple[int, str]] = []
    for sep in ("\n\n", "\n", " "):
        # A separator starting at idx <= end leaves text[start:idx] within the budget.
        idx = text.rfind(sep, start + 1, end + len(sep))
        if idx != -1:
            candidates.append((idx, sep))
    for idx, sep in candidates:
        if idx >= half:
            return _cut_at(text, idx, sep)
    if candidates:
        idx, sep = max(candidates)
        return _cut_at(text, idx, sep)
    hard = end
    # Do not separate a character from what joins or modifies it (accents, ZWJ emoji, skin tones).
    while hard > start + 1 and (_is_joiner(text[hard]) or text[hard - 1] == "\u200d"):
        hard -= 1
    return (hard, hard) if hard > start + 1 else (end, end)


def _is_joiner(ch: str) -> bool:
    code = ord(ch)
    return (
        unicodedata.combining(ch) != 0
        or code == 0x200D
        or 0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def _cut_at(text: str, idx: int, sep: str) -> tuple[int, int]:
    skip = " \t" if sep == " " else "\n\r"
    nxt = idx
    while nxt < len(text) and text[nxt] in skip:
        nxt += 1
    return idx, nxt


def _trim_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in " \t\n\r":
        end -= 1
    return end


def split_html(html: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split Telegram HTML into balanced parts, each at most `limit` visible UTF-16 units.

    Cuts at paragraph boundaries, then lines, then words, then anywhere. Tags open at a cut are
    closed at the end of one part and reopened at the start of the next. Whitespace at the cuts is
    dropped; parts that would be blank are omitted.
    """
    if limit < 2:
        raise ValueError("limit must be at least 2")
    doc = _Document(html)
    text = doc.text
    parts: list[str] = []
    start = 0
    while start < len(text) and text[start] in " \t\n\r":
        start += 1
    while start < len(text):
        end = doc.fit(start, limit)
        if end >= len(text):
            cut, nxt = len(text), len(text)
        else:
            cut, nxt = _find_cut(text, start, end)
        stop = _trim_end(text, start, cut)
        if stop > start:
            parts.append(doc.render(start, stop))
        start = max(nxt, start + 1)
    return parts


def split_text(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split plain text (no parse mode) the same way as `split_html`."""
    from services.text.html import html_to_plain

    return [html_to_plain(part) for part in split_html(escape(text), limit)]


def truncate_html(html: str, limit: int = TELEGRAM_LIMIT, ellipsis: str = _ELLIPSIS) -> str:
    """The start of `html` that fits in `limit` visible units, ending with `ellipsis` if cut."""
    doc = _Document(html)
    text = doc.text
    if doc.prefix[-1] <= limit:
        return doc.render(0, len(text))
    room = limit - sum(2 if ord(ch) > 0xFFFF else 1 for ch in ellipsis)
    if room <= 0:
        return escape(ellipsis[: max(limit, 0)])
    end = doc.fit(0, room)
    space = text.rfind(" ", 0, end + 1)
    newline = text.rfind("\n", 0, end + 1)
    best = max(space, newline)
    if best >= end * 4 // 5:
        end = best
    end = _trim_end(text, 0, end)
    return doc.render(0, end) + escape(ellipsis)
