"""Update delivery: the pending-update queue behind getUpdates, and webhook delivery."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .params import Params, read_parts

JsonDict = dict[str, Any]
# Update types Telegram does not send unless asked for explicitly in allowed_updates.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class Notifier:
    """Wakes every waiter when something changed; waiters re-check their own condition."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float | None) -> bool:
        """Wait until predicate() is true; False if the timeout passed first."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not predicate():
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.add(waiter)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter, remaining)
            finally:
                self._waiters.discard(waiter)
        return True


class UpdateQueue:
    """Pending updates in order, with getUpdates' offset/limit semantics and allowed_updates filtering."""

    def __init__(self, first_update_id: int = 1) -> None:
        self.pending: list[JsonDict] = []
        self.next_update_id = first_update_id
        self.allowed_updates: frozenset[str] | None = None  # None: Telegram's default set
        self.notifier = Notifier()
        self.poll_generation = 0
        self.waiting = 0  # long polls waiting right now
        self.closed = False
        self.pushed: list[JsonDict] = []  # every update ever queued for the bot, in order

    def allows(self, kind: str) -> bool:
        if self.allowed_updates is None:
            return kind not in OPT_IN_UPDATES
        return kind in self.allowed_updates

    def set_allowed(self, value: Any) -> None:
        """Apply an allowed_updates parameter: a list (empty = default), or None to keep the setting."""
        if value is None:
            return
        if isinstance(value, list):
            self.allowed_updates = frozenset(str(kind) for kind in value) if value else None

    def push(self, kind: str, payload: JsonDict) -> JsonDict | None:
        """Queue an update of this kind, or None when the bot did not subscribe to such updates."""
        if not self.allows(kind):
            return None
        update: JsonDict = {"update_id": self.next_update_id, kind: payload}
        self.next_update_id += 1
        self.pending.append(update)
        self.notifier.notify()
        return update

    def confirm(self, offset: int | None) -> None:
        """getUpdates' offset: positive confirms (drops) all updates below it; -N keeps the last N."""
        if offset is None or offset == 0:
            return
        if offset > 0:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        else:
            self.pending = self.pending[offset:]

    def peek(self, limit: int) -> list[JsonDict]:
        return list(self.pending[: max(1, min(100, limit))])

    def discard(self, update_id: int) -> None:
        self.pending = [u for u in self.pending if u["update_id"] != update_id]

    def drop_all(self) -> None:
        self.pending.clear()

    def close(self) -> None:
        self.closed = True
        self.notifier.notify()


@dataclass(slots=True)
class WebhookConfig:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    ip_address: str = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    update_id: int
    attempt: int
    status: int | None  # HTTP status, None when the request failed
    error: str | None
    timestamp: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


ReplyExecutor = Callable[[str, Params], Awaitable[None]]


class WebhookDeliverer:
    """Posts pending updates to the webhook one at a time, in order, retrying failed deliveries."""

    def __init__(
        self,
        queue: UpdateQueue,
        execute_reply: ReplyExecutor,
        *,
        retry_delay: float = 0.05,
        max_attempts: int = 3,
        timeout: float = 10.0,
    ) -> None:
        self.queue = queue
        self.execute_reply = execute_reply
        self.retry_delay = retry_delay
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.config: WebhookConfig | None = None
        self.deliveries: list[WebhookDelivery] = []
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self._task: asyncio.Task[None] | None = None
        self.on_change: Callable[[], None] = lambda: None
        self._session: aiohttp.ClientSession | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def configure(self, config: WebhookConfig | None) -> None:
        """Set (or with None remove) the webhook; delivery follows the new setting at once."""
        self.config = config
        self.queue.notifier.notify()

    async def start(self) -> None:
        if self.running:
            return
        self._task = asyncio.create_task(self._run(), name="fake-telegram-webhook")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _run(self) -> None:
        while True:
            await self.queue.notifier.wait_until(lambda: self.config is not None and bool(self.queue.pending), None)
            config = self.config
            if config is None:
                continue
            update = self.queue.pending[0]
            for attempt in range(1, self.max_attempts + 1):
                status, error, reply = await self._post(config.url, update, config.secret_token)
                self.deliveries.append(WebhookDelivery(update["update_id"], attempt, status, error))
                self.on_change()
                if error is None:
                    self.queue.discard(update["update_id"])
                    if reply is not None:
                        await self.execute_reply(*reply)
                    break
                self.last_error_date = int(time.time())
                self.last_error_message = error
                await asyncio.sleep(self.retry_delay)
                if self.config is not config:
                    break
            else:
                self.queue.discard(update["update_id"])

    async def post(self, url: str, update: JsonDict, secret: str | None) -> int | None:
        """POST one update; the HTTP status, or None when the request could not be made."""
        status, _error, _reply = await self._post(url, update, secret)
        return status

    async def _post(
        self, url: str, update: JsonDict, secret: str | None
    ) -> tuple[int | None, str | None, tuple[str, Params] | None]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        try:
            async with self._session.post(url, data=json.dumps(update), headers=headers) as response:
                if not 200 <= response.status < 300:
                    return (
                        response.status,
                        f"Wrong response from the webhook: {response.status} {response.reason}",
                        None,
                    )
                return response.status, None, await _read_reply(response)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return None, f"Connection failed: {type(exc).__name__}", None


async def _read_reply(response: aiohttp.ClientResponse) -> tuple[str, Params] | None:
    """A method call the webhook answered with (Telegram executes it), if any."""
    values: dict[str, Any] = {}
    files: dict[str, Any] = {}
    if response.content_type == "multipart/form-data":
        values, files = await read_parts(aiohttp.MultipartReader(response.headers, response.content))
    elif response.content_type == "application/json":
        with contextlib.suppress(ValueError, aiohttp.ContentTypeError):
            body = await response.json()
            if isinstance(body, dict):
                values = body
    method = values.pop("method", None)
    if not isinstance(method, str) or not method:
        return None
    return method, Params(values, files)
