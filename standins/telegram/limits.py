"""Telegram's flood limits for bots, as token buckets with an injectable clock."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Limits on outgoing messages and edits (send*/edit*), per Telegram's bot FAQ.

    - overall: at most `global_capacity` in any `global_capacity / global_per_second` seconds
      (30 in any second);
    - a private chat: about 1 message per second, with a short burst (a token bucket);
    - a group, supergroup or channel: at most `group_capacity` in any
      `group_capacity / group_per_second` seconds (20 in any minute).

    The overall and group limits are sliding windows, the strictest reading of "N per period":
    a bot that sends 30 at the end of one second and 30 at the start of the next gets 429s.
    """

    enabled: bool = True
    global_capacity: float = 30.0
    global_per_second: float = 30.0
    private_capacity: float = 3.0
    private_per_second: float = 1.0
    group_capacity: float = 20.0
    group_per_second: float = 20.0 / 60.0
    paid_per_second: float = 1000.0  # with allow_paid_broadcast, in any second

    @classmethod
    def disabled(cls) -> RateLimits:
        return cls(enabled=False)

    @classmethod
    def scaled(cls, factor: float) -> RateLimits:
        """Every limit × `factor` over the same periods (benchmarks that must finish in a minute)."""
        base = cls()
        return cls(
            global_capacity=base.global_capacity * factor,
            global_per_second=base.global_per_second * factor,
            private_capacity=base.private_capacity * factor,
            private_per_second=base.private_per_second * factor,
            group_capacity=base.group_capacity * factor,
            group_per_second=base.group_per_second * factor,
            paid_per_second=base.paid_per_second * factor,
        )


class ManualClock:
    """A clock for tests: time moves only when `advance` is called."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(slots=True)
class TokenBucket:
    capacity: float
    per_second: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = max(self.updated, now)

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 if available now)."""
        self.refill(now)
        if self.tokens >= 1.0 - 1e-9:
            return 0.0
        return (1.0 - self.tokens) / self.per_second if self.per_second > 0 else math.inf

    def take(self, now: float) -> None:
        self.tokens -= 1.0


@dataclass(slots=True)
class SlidingWindow:
    """At most `limit` events in any `seconds`."""

    limit: int
    seconds: float
    events: deque[float] = field(default_factory=deque)

    def wait_time(self, now: float) -> float:
        while self.events and self.events[0] <= now - self.seconds:
            self.events.popleft()
        if len(self.events) < self.limit:
            return 0.0
        return self.events[0] + self.seconds - now

    def take(self, now: float) -> None:
        self.events.append(now)


Limit = TokenBucket | SlidingWindow


@dataclass(slots=True)
class Injected429:
    """A 429 the test asked for: `count` answers with `retry_after`, for one chat or for all."""

    chat_id: int | None
    retry_after: int
    count: int


@dataclass(slots=True)
class RateLimiter:
    limits: RateLimits
    clock: Clock = time.monotonic
    _global: SlidingWindow | None = None
    _paid: SlidingWindow | None = None
    _chats: dict[int, Limit] = field(default_factory=dict)
    paid_sent: int = 0  # messages sent with allow_paid_broadcast (each costs Stars in Telegram)
    _injected: list[Injected429] = field(default_factory=list)
    _paused_until: dict[int | None, float] = field(default_factory=dict)

    def _window(self, capacity: float, per_second: float) -> SlidingWindow:
        limit = max(1, round(capacity))
        return SlidingWindow(limit, limit / per_second if per_second > 0 else math.inf)

    def _bucket(self, chat_id: int, is_private: bool, now: float) -> Limit:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if is_private:
                capacity, rate = self.limits.private_capacity, self.limits.private_per_second
                bucket = TokenBucket(capacity, rate, capacity, now)
            else:
                bucket = self._window(self.limits.group_capacity, self.limits.group_per_second)
            self._chats[chat_id] = bucket
        return bucket

    def inject_429(self, retry_after: int, *, chat_id: int | None = None, count: int = 1) -> None:
        """Answer the next `count` messages (to `chat_id`, or to any chat) with 429 `retry_after`,
        and keep refusing that scope until `retry_after` has passed, the way Telegram does."""
        self._injected.append(Injected429(chat_id, retry_after, count))

    def _injected_429(self, chat_id: int, now: float) -> int | None:
        for scope in (None, chat_id):
            until = self._paused_until.get(scope)
            if until is not None and now < until:
                return max(1, math.ceil(until - now - 1e-9))
        for injected in self._injected:
            if injected.count > 0 and injected.chat_id in (None, chat_id):
                injected.count -= 1
                self._paused_until[injected.chat_id] = now + injected.retry_after
                return injected.retry_after
        return None

    def acquire(self, chat_id: int, is_private: bool, *, paid: bool = False) -> int | None:
        """Count one outgoing message; None if allowed, else the retry_after (whole seconds ≥ 1).
        A paid broadcast (`allow_paid_broadcast`) counts in the paid window, not the overall one."""
        now = self.clock()
        injected = self._injected_429(chat_id, now)
        if injected is not None:
            return injected
        if not self.limits.enabled:
            self.paid_sent += int(paid)
            return None
        if self._global is None:
            self._global = self._window(self.limits.global_capacity, self.limits.global_per_second)
        if self._paid is None:
            self._paid = self._window(self.limits.paid_per_second, self.limits.paid_per_second)
        overall = self._paid if paid else self._global
        chat = self._bucket(chat_id, is_private, now)
        wait = max(overall.wait_time(now), chat.wait_time(now))
        if wait > 0:
            return max(1, math.ceil(wait - 1e-9)) if math.isfinite(wait) else 3600
        overall.take(now)
        chat.take(now)
        self.paid_sent += int(paid)
        return None

    def reset(self) -> None:
        self._global = None
        self._paid = None
        self.paid_sent = 0
        self._chats.clear()
        self._injected.clear()
        self._paused_until.clear()
