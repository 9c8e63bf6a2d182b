"""Telegram's flood limits for bots, as token buckets with an injectable clock."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Limits on outgoing messages and edits (send*/edit*), per Telegram's bot FAQ.

    - overall: about 30 messages per second;
    - a private chat: about 1 message per second, with a short burst allowed;
    - a group, supergroup or channel: 20 messages per minute.
    """

    enabled: bool = True
    global_capacity: float = 30.0
    global_per_second: float = 30.0
    private_capacity: float = 3.0
    private_per_second: float = 1.0
    group_capacity: float = 20.0
    group_per_second: float = 20.0 / 60.0

    @classmethod
    def disabled(cls) -> RateLimits:
        return cls(enabled=False)


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

    def take(self) -> None:
        self.tokens -= 1.0


@dataclass(slots=True)
class RateLimiter:
    limits: RateLimits
    clock: Clock = time.monotonic
    _global: TokenBucket | None = None
    _chats: dict[int, TokenBucket] = field(default_factory=dict)

    def _bucket(self, chat_id: int, is_private: bool, now: float) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if is_private:
                capacity, rate = self.limits.private_capacity, self.limits.private_per_second
            else:
                capacity, rate = self.limits.group_capacity, self.limits.group_per_second
            bucket = TokenBucket(capacity, rate, capacity, now)
            self._chats[chat_id] = bucket
        return bucket

    def acquire(self, chat_id: int, is_private: bool) -> int | None:
        """Count one outgoing message; None if allowed, else the retry_after (whole seconds ≥ 1)."""
        if not self.limits.enabled:
            return None
        now = self.clock()
        if self._global is None:
            self._global = TokenBucket(
                self.limits.global_capacity, self.limits.global_per_second, self.limits.global_capacity, now
            )
        chat = self._bucket(chat_id, is_private, now)
        wait = max(self._global.wait_time(now), chat.wait_time(now))
        if wait > 0:
            return max(1, math.ceil(wait - 1e-9)) if math.isfinite(wait) else 3600
        self._global.take()
        chat.take()
        return None

    def reset(self) -> None:
        self._global = None
        self._chats.clear()
