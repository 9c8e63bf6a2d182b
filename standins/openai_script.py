"""What the OpenAI stand-in answers (script items) and what it records (requests); see
standins.openai_server, which re-exports these names."""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reply:
    """A normal answer, streamed in `chunks` pieces (or whole when the request is not streaming)."""

    text: str
    chunks: int = 4
    delay: float = 0.0  # seconds before each content chunk
    finish_reason: str = "stop"
    usage: tuple[int, int] | None = None  # (prompt, completion); default: word counts
    include_usage: bool | None = None  # None: as the request asks; False: a provider that ignores it
    model: str | None = None  # default: the requested model
    # Holds the first content chunk until set (the role chunk is sent at once): a test proves what
    # the bot did before the model's first token without relying on timing.
    hold: asyncio.Event | None = None
    first_delay: float = 0.0  # seconds before the first content chunk (the model's time to first token)


@dataclass(frozen=True)
class ErrorReply:
    """An HTTP error with OpenAI's error envelope (before any streaming)."""

    status: int
    message: str = "The server had an error while processing your request."
    type: str = "server_error"
    code: str | None = None
    param: str | None = None
    retry_after_ms: int | None = None
    retry_after: str | None = None
    should_retry: bool | None = None  # sets x-should-retry: true/false


@dataclass(frozen=True)
class Hang:
    """Send nothing for `seconds` (or until the server closes); with `text_before`, stall mid-stream."""

    seconds: float = 3600.0
    text_before: str = ""


@dataclass(frozen=True)
class StreamError:
    """Stream some text, then a `data: {"error": …}` event, then end the body."""

    text_before: str = ""
    message: str = "The server had an error while processing your request."
    type: str = "server_error"
    code: str | None = None


@dataclass(frozen=True)
class Drop:
    """Stream some text, then cut the TCP connection (no finish, no [DONE])."""

    text_before: str = ""


ScriptItem = Reply | ErrorReply | Hang | StreamError | Drop


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    at: float = field(default_factory=time.monotonic)
    arrived: float = field(default_factory=time.time)  # the same moment in wall-clock time
    # Wall-clock time (time.time, like the Bot API stand-in's call log) the last content chunk of a
    # streamed answer was written: when the model's last token left the server.
    last_chunk_time: float | None = None
    first_chunk_time: float | None = None  # the same for the first content chunk (the first token)
    disconnected: bool = False  # the client closed the connection before the answer ended

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages") or [])

    @property
    def model(self) -> str | None:
        return (self.body or {}).get("model")

    @property
    def stream(self) -> bool:
        return bool((self.body or {}).get("stream"))


def split_text(text: str, parts: int) -> list[str]:
    """`text` in `parts` roughly equal pieces (never empty pieces; "".join gives `text` back)."""
    if not text:
        return []
    parts = max(1, min(parts, len(text)))
    size, extra = divmod(len(text), parts)
    pieces, pos = [], 0
    for i in range(parts):
        step = size + (1 if i < extra else 0)
        pieces.append(text[pos : pos + step])
        pos += step
    return pieces


_BLOCK = re.compile(r"<(market_data|user_message)>\s*(.*?)\s*</\1>", re.DOTALL)


def echo_answer(body: dict[str, Any]) -> str:
    """A deterministic Markdown answer built from the last user message of the request."""
    messages = body.get("messages") or []
    last = next((m for m in reversed(messages) if m.get("role") == "user"), {"content": ""})
    content = last.get("content")
    if not isinstance(content, str):
        content = json.dumps(content)
    blocks = {name: text for name, text in _BLOCK.findall(content)}
    data = blocks.get("market_data", "")
    question = blocks.get("user_message", content)
    lines = ["## Fake analysis", ""]
    if data:
        lines += ["**Data seen:**", *[f"- {line.strip()}" for line in data.splitlines() if line.strip()], ""]
    lines += [f"**Question:** {question.strip()}", "", "_Risk note: not financial advice._"]
    return "\n".join(lines)
