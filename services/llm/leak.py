"""Prompt-leak guard (OWASP LLM07: system prompt leakage).

The system prompt carries a random canary token, made once per process (`prompts.canary`). Every streamed
answer passes a `LeakGuard` before any of it is shown: text is released only once it cannot be the
start of a leak, so a model that reproduces the canary, or any stretch of `MIN_LEAK_CHARS` characters
or more of the system prompt, is stopped before the user sees a character of that stretch — also when
the stretch is split over many chunks, and whether or not the question looked like an attack.

The comparison ignores case, runs of whitespace and Markdown emphasis/quote marks (`*`, `_`, `` ` ``,
`#`, `>`), so re-wrapping or bolding the prompt does not hide it. What the guard holds back at any
moment is the answer's longest tail that also occurs in the prompt (at most `MIN_LEAK_CHARS - 1`
characters, usually a few): the preview lags by that much, the final answer is whole.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from functools import lru_cache

from services.llm.client import LLMEvent, TextDelta
from services.llm.prompts import canary

__all__ = ["MIN_LEAK_CHARS", "LeakGuard", "PromptLeak", "canary", "guarded"]

MIN_LEAK_CHARS = 50
_IGNORED = frozenset("*_`#>")


class PromptLeak(Exception):
    """The model's output reproduced the canary or a stretch of the system prompt."""

    def __init__(self, what: str, shown_chars: int) -> None:
        super().__init__(what)
        self.what = what  # "canary" or "prompt"
        self.shown_chars = shown_chars  # characters of the answer released before the leak


@lru_cache(maxsize=16)
def _normalised(text: str) -> str:
    """Lower case, one space for any run of whitespace, Markdown marks dropped. Cached: the system
    prompt is the same for every answer in a language (~6 ms of CPU per answer otherwise)."""
    out: list[str] = []
    for char in text:
        if char.isspace():
            if out and out[-1] != " ":
                out.append(" ")
        elif char not in _IGNORED:
            out.append(char.lower())
    return "".join(out)


class LeakGuard:
    """Feed the answer's chunks in order; each `feed` returns the text now safe to show."""

    def __init__(self, protected: str, token: str, *, min_chars: int = MIN_LEAK_CHARS) -> None:
        self._prompt = _normalised(protected)
        self._canary = _normalised(token)
        self._min = min_chars
        self._norm: list[str] = []  # the answer, normalised
        self._origin: list[int] = []  # for each normalised character, where it starts in `_raw`
        self._raw: list[str] = []
        self._released = 0  # raw characters handed out
        self._match = 0  # length of the longest normalised tail found in the prompt
        self.leak: str | None = None

    def _push(self, char: str, position: int) -> None:
        if char.isspace():
            if not self._norm or self._norm[-1] == " ":
                return
            char = " "
        elif char in _IGNORED:
            return
        for piece in char.lower():
            self._norm.append(piece)
            self._origin.append(position)
            length = self._match + 1
            while length and "".join(self._norm[-length:]) not in self._prompt:
                length -= 1
            self._match = length
            if length >= self._min:
                self.leak = "prompt"
            elif self._canary and "".join(self._norm[-len(self._canary) :]) == self._canary:
                self.leak = "canary"

    def feed(self, text: str) -> str:
        """Add a chunk. Returns what may be shown now ("" while a possible leak is held back); once
        `leak` is set, returns "" for good."""
        if self.leak is not None:
            return ""
        for char in text:
            self._raw.append(char)
            self._push(char, len(self._raw) - 1)
            if self.leak is not None:
                return ""
        held_from = self._origin[len(self._norm) - self._match] if self._match else len(self._raw)
        return self._release(held_from)

    def flush(self) -> str:
        """The answer ended without a leak: the rest of it."""
        return "" if self.leak is not None else self._release(len(self._raw))

    def _release(self, until: int) -> str:
        if until <= self._released:
            return ""
        piece = "".join(self._raw[self._released : until])
        self._released = until
        return piece

    @property
    def released(self) -> int:
        return self._released


async def guarded(events: AsyncIterator[LLMEvent], guard: LeakGuard) -> AsyncGenerator[LLMEvent, None]:
    """The model's events with text released through `guard`. On a leak the model's stream is
    closed at once (the HTTP request ends) and `PromptLeak` is raised; nothing of the leak was
    yielded."""
    try:
        async for event in events:
            if isinstance(event, TextDelta):
                safe = guard.feed(event.text)
                if guard.leak is not None:
                    raise PromptLeak(guard.leak, guard.released)
                if safe:
                    yield TextDelta(safe)
            else:
                rest = guard.flush()
                if rest:
                    yield TextDelta(rest)
                yield event
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()
