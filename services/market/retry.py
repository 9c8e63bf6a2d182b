"""Bounded async retries with exponential backoff (tenacity), and a per-exchange circuit breaker.

Modelled on freqtrade's `retrier_async`: only *transient* domain errors (`MarketError.retryable`)
are retried; the delay grows exponentially, with extra weight for rate limits; everything is bounded
so that a chat answer never waits long. Delays are parameters so tests run with milliseconds.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential
from tenacity.wait import wait_base

from services.market.errors import MarketError, RateLimited

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3  # total tries, including the first
    base_delay: float = 0.5  # seconds before the second try
    max_delay: float = 4.0
    rate_limit_factor: float = 2.0  # rate-limit errors wait this much longer
    jitter: float = 0.2  # ± fraction of the delay


class _Backoff(wait_base):
    """tenacity wait: base_delay · 2^(retry-1), × rate_limit_factor for rate limits, capped, ± jitter."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._plain = wait_exponential(multiplier=policy.base_delay, max=policy.max_delay)
        self._rate_limited = wait_exponential(
            multiplier=policy.base_delay * policy.rate_limit_factor, max=policy.max_delay
        )
        self._jitter = policy.jitter

    def __call__(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome is not None else None
        delay = (self._rate_limited if isinstance(error, RateLimited) else self._plain)(retry_state)
        if self._jitter:
            delay *= 1 + random.uniform(-self._jitter, self._jitter)
        return max(0.0, delay)


def _retryable(error: BaseException) -> bool:
    return isinstance(error, MarketError) and error.retryable


async def retry_async(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    what: str = "call",
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run `call()`; retry retryable `MarketError`s up to `policy.attempts` tries in total."""

    def log_retry(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        delay = state.upcoming_sleep
        log.info("%s failed (%s); retry %d/%d in %.2fs", what, error, state.attempt_number, policy.attempts - 1, delay)

    retrying = AsyncRetrying(
        sleep=sleep,
        stop=stop_after_attempt(policy.attempts),
        wait=_Backoff(policy),
        retry=retry_if_exception(_retryable),
        before_sleep=log_retry,
        reraise=True,
    )
    try:
        return await retrying(call)
    except MarketError as exc:
        if exc.retryable:
            log.warning("%s failed after %d tries: %s", what, retrying.statistics.get("attempt_number", 1), exc)
        raise


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    failure_threshold: int = 2  # consecutive failed operations (after retries) that open the breaker
    cooldown: float = 60.0  # seconds an open breaker skips the exchange


class CircuitBreaker:
    """closed → (threshold failures) → open for `cooldown` → half-open: one trial decides."""

    def __init__(self, policy: BreakerPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        if self._clock() - self.opened_at < self.policy.cooldown:
            return "open"
        return "half-open"

    def retry_after(self) -> float:
        if self.opened_at is None:
            return 0.0
        return max(0.0, self.policy.cooldown - (self._clock() - self.opened_at))

    def allow(self) -> bool:
        """May a request go to this exchange now? In half-open state only one trial at a time."""
        state = self.state
        if state == "closed":
            return True
        if state == "open" or self._trial_running:
            return False
        self._trial_running = True
        return True

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self._trial_running = False

    def record_failure(self) -> None:
        self._trial_running = False
        self.failures += 1
        if self.opened_at is not None or self.failures >= self.policy.failure_threshold:
            self.opened_at = self._clock()

    def release(self) -> None:
        """A trial ended without telling anything about the exchange (e.g. unknown symbol)."""
        self._trial_running = False
