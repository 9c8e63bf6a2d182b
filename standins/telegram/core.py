"""The fake Bot API without its HTTP layer: state, method dispatch, call log, update queue, waiting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .chats import FakeChat, FakeMessage, FakeUser
from .errors import NOT_FOUND, ApiError, FakeTelegramUsageError
from .limits import Clock, RateLimiter, RateLimits
from .params import Params
from .registry import METHODS
from .state import BotEvent, Call, TelegramState
from .updates import Notifier, UpdateQueue, WebhookDeliverer

ChatRef = int | FakeChat | FakeUser
JsonDict = dict[str, Any]


@dataclass
class InjectedError:
    """`error` instead of the next `count` calls of `method` for `chat_id` (None: any)."""

    error: ApiError
    method: str | None
    chat_id: int | None
    count: int

    def matches(self, method: str, params: Params) -> bool:
        if self.count <= 0 or (self.method is not None and self.method.lower() != method.lower()):
            return False
        return self.chat_id is None or params.raw("chat_id") == self.chat_id


class FakeTelegramCore:
    """State and behaviour of the fake Bot API; `FakeTelegramServer` puts it on HTTP."""

    def __init__(
        self,
        token: str = "123456789:AAFakeTelegramTokenForTests_0123456",
        *,
        bot_username: str = "coinsight_test_bot",
        bot_first_name: str = "Coinsight",
        rate_limits: RateLimits | None = None,
        clock: Clock | None = None,
        wall_clock: Callable[[], float] | None = None,
        privacy_mode: bool = True,
        strict_html_ampersand: bool = False,
        callback_query_timeout: float = 15.0,
        pre_checkout_timeout: float = 10.0,
        webhook_retry_delay: float = 0.05,
        webhook_max_attempts: int = 3,
        require_https_webhook: bool = False,
    ) -> None:
        prefix = token.split(":", 1)[0]
        self.token = token
        self.bot_user = FakeUser(
            int(prefix) if prefix.isdigit() else 777_000_001, bot_first_name, bot_username, is_bot=True
        )
        self.state = TelegramState(self.bot_user)
        self.clock: Clock = clock or time.monotonic
        # Unix time for dates Telegram reports (subscription expiration); tests may move it.
        self.wall_clock: Callable[[], float] = wall_clock or time.time
        self.limiter = RateLimiter(rate_limits or RateLimits(), self.clock)
        self.updates = UpdateQueue()
        self.webhook = WebhookDeliverer(
            self.updates, self._execute_reply, retry_delay=webhook_retry_delay, max_attempts=webhook_max_attempts
        )
        self.calls: list[Call] = []
        self.changed = Notifier()
        self.webhook.on_change = self.changed.notify
        self.privacy_mode = privacy_mode
        self.strict_html_ampersand = strict_html_ampersand
        self.callback_query_timeout = callback_query_timeout
        self.pre_checkout_timeout = pre_checkout_timeout
        self.require_https_webhook = require_https_webhook
        self.running = False
        self.logged_out = False
        self.bot_profile_texts: dict[tuple[str, str], str] = {}
        self._subscribers: list[asyncio.Queue[BotEvent]] = []
        self._injected: list[InjectedError] = []

    # ----------------------------------------------------------------- dispatch and call log
    async def execute(self, method: str, params: Params) -> Call:
        """Run one Bot API method and record it; the Call holds the status and the answer."""
        entry = METHODS.get(method.lower())
        name = entry[0] if entry is not None else method
        try:
            if entry is None:
                raise NOT_FOUND
            self._raise_injected(name, params)
            result = await entry[1](self, params)
        except ApiError as error:
            call = Call(name, params.record(), error.status, error.to_body())
        else:
            call = Call(name, params.record(), 200, result)
        self.record(call)
        return call

    def inject_error(
        self, error: ApiError, *, method: str | None = None, chat_id: int | None = None, count: int = 1
    ) -> None:
        """The next `count` calls (of `method`, for `chat_id`; None: any) fail with `error` instead of
        running: a 5xx, or any answer a test needs at a chosen moment."""
        self._injected.append(InjectedError(error, method, chat_id, count))

    def _raise_injected(self, method: str, params: Params) -> None:
        for injected in self._injected:
            if injected.matches(method, params):
                injected.count -= 1
                raise injected.error

    async def _execute_reply(self, method: str, params: Params) -> None:
        await self.execute(method, params)

    def record(self, call: Call) -> None:
        self.calls.append(call)
        self.changed.notify()

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls of one method (name compared case-insensitively)."""
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    @property
    def count_429(self) -> int:
        """How many times the fake answered 429 Too Many Requests."""
        return sum(1 for call in self.calls if call.status == 429)

    # ----------------------------------------------------------------- events (console mode)
    def subscribe(self) -> asyncio.Queue[BotEvent]:
        """A queue receiving every BotEvent (messages sent/edited/deleted, drafts, answers, actions)."""
        queue: asyncio.Queue[BotEvent] = asyncio.Queue()
        self._subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[BotEvent]) -> None:
        if queue in self._subscribers:
            self._subscribers.remove(queue)

    def emit(self, event: BotEvent) -> None:
        for queue in self._subscribers:
            queue.put_nowait(event)
        self.changed.notify()

    # ----------------------------------------------------------------- updates
    def push_update(self, kind: str, payload: JsonDict) -> JsonDict | None:
        """Queue an update for the bot (getUpdates or webhook); None if filtered by allowed_updates."""
        update = self.updates.push(kind, payload)
        if update is not None:
            self.updates.pushed.append(update)
        self.changed.notify()
        return update

    # ----------------------------------------------------------------- reading what users see
    def chat(self, ref: ChatRef) -> FakeChat:
        chat_id = ref if isinstance(ref, int) else ref.id
        chat = self.state.chats.get(chat_id)
        if chat is None:
            raise FakeTelegramUsageError(f"no chat {chat_id} in the fake")
        return chat

    def user(self, ref: int | FakeUser) -> FakeUser:
        user_id = ref if isinstance(ref, int) else ref.id
        user = self.state.users.get(user_id)
        if user is None:
            raise FakeTelegramUsageError(f"no user {user_id} in the fake")
        return user

    def bot_messages(self, ref: ChatRef, *, include_deleted: bool = False) -> list[FakeMessage]:
        """The bot's messages in a chat, oldest first, in their current state."""
        return [m for m in self.chat(ref).messages if m.from_bot and (include_deleted or not m.deleted)]

    def chat_messages(self, ref: ChatRef, *, include_deleted: bool = False) -> list[FakeMessage]:
        """All messages of a chat (users' and the bot's), oldest first."""
        return [m for m in self.chat(ref).messages if include_deleted or not m.deleted]

    def last_bot_message(self, ref: ChatRef) -> FakeMessage | None:
        messages = self.bot_messages(ref)
        return messages[-1] if messages else None

    def bot_texts(self, ref: ChatRef) -> list[str]:
        """The readable text of each current bot message in a chat."""
        return [m.plain_text for m in self.bot_messages(ref)]

    # ----------------------------------------------------------------- waiting
    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
        """Wait until predicate() holds, re-checked after every call, update and state change."""
        if not await self.changed.wait_until(predicate, timeout):
            recent = ", ".join(f"{c.method}:{c.status}" for c in self.calls[-8:])
            raise TimeoutError(f"fake Telegram: timed out after {timeout}s waiting for {what}; last calls: {recent}")

    async def wait_for(self, predicate: Callable[[list[Call]], bool], timeout: float = 5.0) -> list[Call]:
        """Wait until predicate(all calls so far) is true; returns the call log."""
        await self.wait_until(lambda: predicate(self.calls), timeout, "predicate over calls")
        return self.calls

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        after: int | None = None,
        timeout: float = 5.0,
    ) -> Call:
        """Wait for a call of `method` (recorded at index ≥ `after`, default: any) matching predicate."""
        start = 0 if after is None else after
        wanted = method.lower()

        def find() -> Call | None:
            for call in self.calls[start:]:
                if call.method.lower() == wanted and (predicate is None or predicate(call)):
                    return call
            return None

        await self.wait_until(lambda: find() is not None, timeout, f"a {method} call")
        found = find()
        assert found is not None
        return found

    async def wait_for_messages(self, ref: ChatRef, count: int = 1, timeout: float = 5.0) -> list[FakeMessage]:
        """Wait until the chat shows at least `count` bot messages; returns them (current state)."""
        chat = self.chat(ref)
        await self.wait_until(
            lambda: len(self.bot_messages(chat)) >= count, timeout, f"{count} bot message(s) in chat {chat.id}"
        )
        return self.bot_messages(chat)
