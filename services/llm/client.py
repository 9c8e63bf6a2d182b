"""Streaming chat completions from any OpenAI-compatible provider, as domain events and errors.

Retries on 408/409/429/5xx (honouring `retry-after-ms` / `retry-after` / `x-should-retry`) are the
openai client's own (`max_retries`); this module never retries a request that may already have
streamed text to the user. Nothing is created at import time, and `openai` (~0.6 s of imports) stays
off the bot's start path: the app's `LLMService.configured` builds its client on first use or in the
runner's background warm-up (`warm_up`), and `close()` closes it on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from types import ModuleType
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    import openai
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletionMessageParam

from services.llm.errors import LLMAuthError, LLMBadRequest, LLMError, LLMRateLimited, LLMUnavailable
from services.llm.prompts import estimate_messages_tokens, estimate_tokens

__all__ = [
    "LLMCall",
    "LLMEvent",
    "LLMService",
    "TextDelta",
    "Usage",
    "build_llm_client",
    "map_openai_error",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer, in order."""

    text: str


@dataclass(frozen=True, slots=True)
class Usage:
    """Always the last event of a successful stream."""

    prompt_tokens: int
    completion_tokens: int
    model: str
    finish_reason: str | None = None  # "stop"; "length" means the answer hit max_tokens
    estimated: bool = False  # the provider sent no usage; counts are `estimate_tokens` guesses

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


LLMEvent = TextDelta | Usage


@dataclass(frozen=True, slots=True)
class LLMCall:
    """One request as its observers see it (for metrics): how long it took, what it used, how it ended.
    `error` is the `LLMError` subclass's name, "abandoned" when the caller stopped reading, or None."""

    model: str
    seconds: float
    usage: Usage | None
    error: str | None


def load_openai() -> ModuleType:
    """The `openai` package, imported on first use (never on the start path)."""
    import openai

    return openai


def build_llm_client(
    api_key: str,
    base_url: str | None = None,
    timeout: float = 60.0,
    max_retries: int = 2,
) -> AsyncOpenAI:
    """The app's single OpenAI-compatible client. `timeout` bounds connecting and each read.

    Call `await client.close()` on shutdown.
    """
    from openai import AsyncOpenAI  # here, not at the top: off the start path

    return AsyncOpenAI(api_key=api_key, base_url=base_url or None, timeout=timeout, max_retries=max_retries)


def _retry_after(response: object) -> float | None:
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return float(value) / divisor
        except ValueError:
            continue
    return None


def map_openai_error(exc: openai.APIError, *, after_output: bool = False) -> LLMError:
    """The domain error for an openai exception (raised after the client's own retries)."""
    import openai  # loaded already: `exc` came from it

    code = exc.code
    if isinstance(exc, openai.APITimeoutError):
        return LLMUnavailable("the model did not answer in time", after_output=after_output)
    if isinstance(exc, openai.APIConnectionError):
        return LLMUnavailable(f"cannot reach the model provider: {exc.message}", after_output=after_output)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        message = f"HTTP {status}: {exc.message}"
        if isinstance(exc, openai.RateLimitError) or status == 429:
            return LLMRateLimited(
                message,
                retry_after=_retry_after(exc.response),
                status_code=status,
                code=code,
                after_output=after_output,
            )
        if status in (401, 403):
            return LLMAuthError(message, status_code=status, code=code, after_output=after_output)
        if status >= 500 or status == 408:
            return LLMUnavailable(message, status_code=status, code=code, after_output=after_output)
        return LLMBadRequest(message, status_code=status, code=code, after_output=after_output)
    # An error event inside the stream: no HTTP status, classify by the provider's error body.
    kind = (exc.type or "").lower()
    message = f"stream error: {exc.message}"
    if code in ("rate_limit_exceeded", "insufficient_quota") or kind in ("rate_limit_error", "tokens", "requests"):
        return LLMRateLimited(message, status_code=None, code=code, after_output=after_output)
    if kind == "invalid_request_error" or code in ("context_length_exceeded", "invalid_request_error"):
        return LLMBadRequest(message, code=code, after_output=after_output)
    return LLMUnavailable(message, code=code, after_output=after_output)


class LLMService:
    """Chat completions streamed as `TextDelta`s followed by one `Usage`; failures as `LLMError`s.

    Given a client, uses it (its owner closes it). Built with `configured`, it creates its own client
    on first use (`openai` imported in a worker thread, so the event loop keeps serving) or in
    `warm_up`, and closes it in `close`.
    """

    def __init__(self, client: AsyncOpenAI | None = None, *, connect: Callable[[], AsyncOpenAI] | None = None) -> None:
        if (client is None) == (connect is None):
            raise ValueError("give either a client or a way to connect one")
        self._client = client
        self._connect = connect
        self._closed = False
        # Called with an `LLMCall` after each request (the composition root's metrics); never raise.
        self.observers: list[Callable[[LLMCall], None]] = []
        self.timer: Callable[[], float] = time.perf_counter

    @classmethod
    def configured(
        cls, api_key: str, base_url: str | None = None, *, timeout: float = 60.0, max_retries: int = 2
    ) -> LLMService:
        """The app's service: its client (`build_llm_client` with these settings) made on first use."""
        return cls(connect=partial(build_llm_client, api_key, base_url, timeout=timeout, max_retries=max_retries))

    @property
    def connected(self) -> bool:
        return self._client is not None

    async def warm_up(self) -> None:
        """Import `openai` in a worker thread and create the client, ahead of the first question."""
        await self._get_client()

    async def _get_client(self) -> AsyncOpenAI:
        if self._client is not None:
            return self._client
        if self._closed or self._connect is None:
            raise LLMUnavailable("the model client is closed")
        await asyncio.to_thread(load_openai)
        if self._client is None:  # another caller may have created it meanwhile
            if self._closed:
                raise LLMUnavailable("the model client is closed")
            self._client = self._connect()
        return self._client

    async def close(self) -> None:
        """Close the client this service created (one given to it is its owner's to close)."""
        self._closed = True
        if self._connect is None or self._client is None:
            return
        client, self._client = self._client, None
        await client.close()

    async def stream_chat(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        model: str,
        max_tokens: int,
        temperature: float,
    ) -> AsyncIterator[LLMEvent]:
        """Stream one answer. Closing the iterator early closes the HTTP response.

        Raises `LLMError` subclasses; `after_output` on the error says whether deltas were yielded.
        Each request ends with an `LLMCall` to the observers.
        """
        started = self.timer()
        usage: Usage | None = None
        error: str | None = "abandoned"
        try:
            async with contextlib.aclosing(
                self._stream(messages, model=model, max_tokens=max_tokens, temperature=temperature)
            ) as events:
                async for event in events:
                    if isinstance(event, Usage):
                        usage, error = event, None
                    yield event
        except LLMError as exc:
            error = type(exc).__name__
            raise
        finally:
            if self.observers:
                call = LLMCall(usage.model if usage else model, self.timer() - started, usage, error)
                for observe in self.observers:
                    observe(call)

    async def _stream(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        model: str,
        max_tokens: int,
        temperature: float,
    ) -> AsyncGenerator[LLMEvent, None]:
        emitted: list[str] = []
        usage_seen: Usage | None = None
        finish_reason: str | None = None
        model_seen = model
        client = await self._get_client()
        import openai  # loaded by `_get_client`

        try:
            stream = await client.chat.completions.create(
                model=model,
                messages=cast("list[ChatCompletionMessageParam]", [dict(m) for m in messages]),
                max_tokens=max_tokens,
                temperature=temperature,
                stream=True,
                stream_options={"include_usage": True},
            )
            async with stream:
                async for chunk in stream:
                    model_seen = chunk.model or model_seen
                    if chunk.usage is not None:
                        usage_seen = Usage(
                            prompt_tokens=chunk.usage.prompt_tokens,
                            completion_tokens=chunk.usage.completion_tokens,
                            model=model_seen,
                        )
                    for choice in chunk.choices:
                        if choice.index != 0:
                            continue
                        finish_reason = choice.finish_reason or finish_reason
                        content = choice.delta.content if choice.delta is not None else None
                        if content:
                            emitted.append(content)
                            yield TextDelta(content)
        except openai.APIError as exc:
            error = map_openai_error(exc, after_output=bool(emitted))
            log.warning("LLM request failed: %r", error)
            raise error from exc
        except json.JSONDecodeError as exc:
            log.warning("LLM stream had malformed data: %s", exc)
            raise LLMUnavailable("malformed data in the model's stream", after_output=bool(emitted)) from exc
        if finish_reason is None and usage_seen is None:
            # The body ended without a finish reason or usage: the answer is cut off.
            log.warning("LLM stream ended early after %d deltas", len(emitted))
            raise LLMUnavailable("the model's stream ended early", after_output=bool(emitted))
        if usage_seen is None:
            yield Usage(
                prompt_tokens=estimate_messages_tokens(messages),
                completion_tokens=estimate_tokens("".join(emitted)),
                model=model_seen,
                finish_reason=finish_reason,
                estimated=True,
            )
        else:
            yield Usage(
                prompt_tokens=usage_seen.prompt_tokens,
                completion_tokens=usage_seen.completion_tokens,
                model=usage_seen.model,
                finish_reason=finish_reason,
            )

    async def complete(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        model: str,
        max_tokens: int,
        temperature: float,
    ) -> tuple[str, Usage]:
        """The whole answer at once (same request as `stream_chat`)."""
        parts: list[str] = []
        usage: Usage | None = None
        async for event in self.stream_chat(messages, model=model, max_tokens=max_tokens, temperature=temperature):
            if isinstance(event, TextDelta):
                parts.append(event.text)
            else:
                usage = event
        if usage is None:  # pragma: no cover - stream_chat always ends with Usage or raises
            raise LLMUnavailable("no usage from the model")
        return "".join(parts), usage
