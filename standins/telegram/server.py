"""The fake Bot API on HTTP: `/bot<token>/<method>` and `/file/bot<token>/<path>`, like api.telegram.org."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypedDict, Unpack

from aiohttp import web

from .chats import JsonDict
from .draft_actions import DraftActions
from .errors import UNAUTHORIZED, ApiError
from .limits import Clock, RateLimits
from .params import Params, parse_request
from .state import Call
from .updates import WebhookDelivery

MAX_REQUEST_SIZE = 60 * 1024 * 1024


class ServerOptions(TypedDict, total=False):
    """Behaviour options (see FakeTelegramCore for defaults)."""

    bot_username: str
    bot_first_name: str
    rate_limits: RateLimits | None
    clock: Clock | None
    wall_clock: Callable[[], float] | None
    privacy_mode: bool
    strict_html_ampersand: bool
    callback_query_timeout: float
    pre_checkout_timeout: float
    webhook_retry_delay: float
    webhook_max_attempts: int
    require_https_webhook: bool


class FakeTelegramServer(DraftActions):
    """A local Telegram Bot API server for tests and console mode.

    The real aiogram `Bot` talks to it over HTTP through
    `AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))`; the user side is driven
    through the helpers (`add_user`, `send_message`, `press_button`, ...), and everything the bot
    did is in `calls` and in the chats' messages (`bot_messages`).
    """

    def __init__(
        self,
        token: str = "123456789:AAFakeTelegramTokenForTests_0123456",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        **options: Unpack[ServerOptions],
    ) -> None:
        super().__init__(token, **options)
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self.app = web.Application(client_max_size=MAX_REQUEST_SIZE)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        self.app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)

    @property
    def base_url(self) -> str:
        if self._runner is None:
            raise RuntimeError("the fake Telegram server is not started")
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        if self._runner is not None:
            return
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            await runner.cleanup()
            raise
        self.port = int(sock.getsockname()[1])
        await web.SockSite(runner, sock).start()
        self._runner = runner
        self.updates.closed = False
        self.running = True
        await self.webhook.start()

    async def stop(self) -> None:
        self.running = False
        self.updates.close()  # ends waiting long polls at once
        await self.webhook.stop()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ----------------------------------------------------------------- HTTP handlers
    async def _handle_method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await parse_request(request)
        except ApiError as error:
            call = Call(method, {}, error.status, error.to_body())
            self.record(call)
            return self._respond(call)
        if request.match_info["token"] != self.token:
            call = Call(method, params.record(), UNAUTHORIZED.status, UNAUTHORIZED.to_body())
            self.record(call)
            return self._respond(call)
        return self._respond(await self.execute(method, params))

    @staticmethod
    def _respond(call: Call) -> web.Response:
        body: JsonDict = {"ok": True, "result": call.response} if call.ok else call.response
        return web.json_response(body, status=call.status, dumps=lambda v: json.dumps(v, ensure_ascii=False))

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(UNAUTHORIZED.to_body(), status=401)
        path = request.match_info["path"]
        for stored in self.state.files.values():
            if stored.data is not None and stored.file_path == path:
                return web.Response(body=stored.data, content_type=stored.content_type)
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    # ----------------------------------------------------------------- webhook helpers
    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every webhook delivery attempt, in order (update_id, attempt, HTTP status or error)."""
        return self.webhook.deliveries

    async def post_to_webhook(
        self, update: JsonDict, *, secret: str | None = None, url: str | None = None
    ) -> int | None:
        """POST an update straight to the webhook (or `url`) with this secret header; the HTTP status."""
        target = url or (self.webhook.config.url if self.webhook.config else None)
        if target is None:
            raise RuntimeError("no webhook is set and no url given")
        return await self.webhook.post(target, update, secret)

    async def call(self, method: str, **params: Any) -> Call:
        """Run a Bot API method in-process (as if the bot had called it); for tests of the fake."""
        encoded = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in params.items()}
        return await self.execute(method, Params(encoded))
