"""A local OpenAI-compatible chat-completions server for tests, speaking the real wire format.

    async with FakeOpenAI(api_key="sk-test") as fake:
        fake.script(ErrorReply(429, retry_after_ms=5), Reply("Hello", chunks=3))
        client = AsyncOpenAI(api_key="sk-test", base_url=fake.base_url)
        ...
        assert len(fake.requests) == 2

Wire format (as recorded from the live API): `POST /v1/chat/completions` with `Authorization:
Bearer <key>`; streaming answers are SSE events `data: <chunk json>\\n\\n`: a first chunk with
`delta: {role: "assistant", content: ""}`, content chunks, a chunk with `delta: {}` and the
`finish_reason`, then (if `stream_options.include_usage`) a chunk with `choices: []` and `usage`,
then `data: [DONE]`. Errors are `{"error": {"message", "type", "param", "code"}}` with the status.

Each request takes the next scripted item; with none left, `responder(body)` builds the answer
(by default `echo_answer`, which repeats the market data and question it was sent, so end-to-end
tests can check the prompt's numbers reached the model).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from standins.openai_script import (
    Drop,
    ErrorReply,
    Hang,
    RecordedRequest,
    Reply,
    ScriptItem,
    StreamError,
    echo_answer,
    split_text,
)

__all__ = [
    "Drop",
    "ErrorReply",
    "FakeOpenAI",
    "Hang",
    "RecordedRequest",
    "Reply",
    "ScriptItem",
    "StreamError",
    "echo_answer",
    "split_text",
]


def _error_body(message: str, type_: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class FakeOpenAI:
    """The server. Use as an async context manager, or `await start()` / `await close()`."""

    def __init__(
        self,
        *,
        api_key: str = "sk-test",
        responder: Callable[[dict[str, Any]], str] = echo_answer,
        chunks: int = 4,
    ) -> None:
        self.api_key = api_key
        self.responder = responder
        self.default_chunks = chunks
        self.requests: list[RecordedRequest] = []
        self._script: deque[ScriptItem] = deque()
        self._closing = asyncio.Event()
        self._arrived = asyncio.Event()  # set on every request (see wait_for_chat_requests)
        self._hung_up = asyncio.Event()  # set whenever a client closes a stream early
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._counter = 0

    # ---- lifecycle -----------------------------------------------------------------------
    async def start(self) -> FakeOpenAI:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def close(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenAI:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/v1"

    # ---- scripting -----------------------------------------------------------------------
    def script(self, *items: ScriptItem) -> None:
        """Queue responses; each chat request takes the next one."""
        self._script.extend(items)

    @property
    def pending(self) -> int:
        return len(self._script)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v1/chat/completions"]

    async def wait_for_chat_requests(self, count: int = 1, timeout: float = 30.0) -> list[RecordedRequest]:
        """Wait until `count` chat requests have arrived (the model is being asked); returns them."""
        async with asyncio.timeout(timeout):
            while len(self.chat_requests) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.chat_requests

    async def wait_disconnected(self, record: RecordedRequest, timeout: float = 30.0) -> None:
        """Wait until the client closed `record`'s connection before its answer ended."""
        async with asyncio.timeout(timeout):
            while not record.disconnected:
                self._hung_up.clear()
                await self._hung_up.wait()

    # ---- handlers ------------------------------------------------------------------------
    async def _models(self, request: web.Request) -> web.Response:
        self.requests.append(RecordedRequest(request.method, request.path, dict(request.headers), None))
        if not self._authorised(request):
            return self._unauthorised()
        return web.json_response({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.api_key}"

    @staticmethod
    def _unauthorised() -> web.Response:
        return web.json_response(
            _error_body("Incorrect API key provided.", "invalid_request_error", None, "invalid_api_key"),
            status=401,
        )

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        record = RecordedRequest(
            request.method, request.path, dict(request.headers), body if isinstance(body, dict) else None
        )
        self.requests.append(record)
        self._arrived.set()
        if not self._authorised(request):
            return self._unauthorised()
        if not isinstance(body, dict):
            return web.json_response(
                _error_body("We could not parse the JSON body of your request.", "invalid_request_error", None, None),
                status=400,
            )
        for name in ("model", "messages"):
            if not body.get(name):
                message = f"Missing required parameter: '{name}'."
                return web.json_response(
                    _error_body(message, "invalid_request_error", name, "missing_required_parameter"), status=400
                )
        item: ScriptItem = self._script.popleft() if self._script else Reply(self.responder(body), self.default_chunks)
        if isinstance(item, ErrorReply):
            return self._error(item)
        if isinstance(item, Hang) and not item.text_before:
            await self._wait(item.seconds)
            return web.json_response(_error_body("hang ended", "server_error", None, None), status=504)
        if not body.get("stream"):
            if isinstance(item, Reply):
                return web.json_response(self._completion(body, item))
            return self._error(ErrorReply(500))
        return await self._stream(request, body, item, record)

    def _error(self, item: ErrorReply) -> web.Response:
        headers = {}
        if item.retry_after_ms is not None:
            headers["retry-after-ms"] = str(item.retry_after_ms)
        if item.retry_after is not None:
            headers["retry-after"] = item.retry_after
        if item.should_retry is not None:
            headers["x-should-retry"] = "true" if item.should_retry else "false"
        return web.json_response(
            _error_body(item.message, item.type, item.param, item.code), status=item.status, headers=headers
        )

    async def _until_hung_up(self, request: web.Request, waiting: Awaitable[object]) -> None:
        """Await `waiting`, or raise ConnectionResetError as soon as the client closes the
        connection (looked at every 10 ms: aiohttp tells a handler only when it writes)."""
        task = asyncio.ensure_future(waiting)
        try:
            while not task.done():
                transport = request.transport
                if transport is None or transport.is_closing():
                    raise ConnectionResetError("the client closed the connection")
                await asyncio.wait({task}, timeout=0.01)
        finally:
            task.cancel()
        task.result()

    def _hang_up(self, record: RecordedRequest) -> None:
        record.disconnected = True
        self._hung_up.set()

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    def _next_id(self) -> str:
        self._counter += 1
        return f"chatcmpl-fake{self._counter:06d}"

    @staticmethod
    def _usage(body: dict[str, Any], text: str, usage: tuple[int, int] | None) -> dict[str, Any]:
        if usage is None:
            prompt = sum(len(str(m.get("content", "")).split()) + 4 for m in body.get("messages") or [])
            usage = (prompt, len(text.split()))
        return {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": usage[0] + usage[1],
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        }

    def _completion(self, body: dict[str, Any], item: Reply) -> dict[str, Any]:
        return {
            "id": self._next_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": item.model or body["model"],
            "system_fingerprint": "fp_fake",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": item.text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": item.finish_reason,
                }
            ],
            "usage": self._usage(body, item.text, item.usage),
        }

    async def _stream(
        self,
        request: web.Request,
        body: dict[str, Any],
        item: Reply | Hang | StreamError | Drop,
        record: RecordedRequest,
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            status=200, headers={"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        chunk_id, created = self._next_id(), int(time.time())
        model = item.model if isinstance(item, Reply) and item.model else body["model"]

        async def send(payload: dict[str, Any] | str) -> None:
            data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
            await response.write(f"data: {data}\n\n".encode())

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": chunk_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }

        try:
            await send(chunk({"role": "assistant", "content": "", "refusal": None}))
            text = item.text if isinstance(item, Reply) else item.text_before
            pieces = split_text(text, item.chunks if isinstance(item, Reply) else 2)
            if isinstance(item, Reply) and item.hold is not None and pieces:
                await self._until_hung_up(request, item.hold.wait())
            if isinstance(item, Reply) and item.first_delay and pieces:
                await self._until_hung_up(request, asyncio.sleep(item.first_delay))
            for piece in pieces:
                if isinstance(item, Reply) and item.delay:
                    await self._until_hung_up(request, asyncio.sleep(item.delay))
                await send(chunk({"content": piece}))
                record.last_chunk_time = time.time()
                record.first_chunk_time = record.first_chunk_time or record.last_chunk_time
            if isinstance(item, Hang):
                await self._until_hung_up(request, self._wait(item.seconds))
                return response
            if isinstance(item, StreamError):
                await send(_error_body(item.message, item.type, None, item.code))
                await response.write_eof()
                return response
            if isinstance(item, Drop):
                if request.transport is not None:
                    request.transport.abort()
                return response
        except ConnectionResetError:
            self._hang_up(record)
            return response
        assert isinstance(item, Reply)
        await send(chunk({}, item.finish_reason))
        stream_options = body.get("stream_options") or {}
        wants_usage = bool(stream_options.get("include_usage")) if item.include_usage is None else item.include_usage
        if wants_usage:
            usage_chunk = chunk({})
            usage_chunk["choices"] = []
            usage_chunk["usage"] = self._usage(body, item.text, item.usage)
            await send(usage_chunk)
        await send("[DONE]")
        await response.write_eof()
        return response


async def _serve_forever(api_key: str) -> None:
    async with FakeOpenAI(api_key=api_key) as fake:
        print(f"OPENAI_BASE_URL={fake.base_url}", flush=True)
        await asyncio.Event().wait()


def main() -> None:
    """`python -m standins.openai_server [api_key]`: serve the echo answer until interrupted."""
    import sys

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(sys.argv[1] if len(sys.argv) > 1 else "sk-test"))


if __name__ == "__main__":
    main()
