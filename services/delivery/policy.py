"""When a failed delivery is tried again: exponential backoff with jitter, and when it gives up."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt n (1-based) that failed waits a random time in [d/2, d], d = min(cap, base · 2^(n-1)):
    retries spread out instead of arriving together. After `max_attempts` attempts the row is dead."""

    base_seconds: float = 5.0
    cap_seconds: float = 600.0
    max_attempts: int = 12
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.base_seconds <= 0 or self.cap_seconds < self.base_seconds or self.max_attempts < 1:
            raise ValueError("need 0 < base_seconds <= cap_seconds and max_attempts >= 1")

    def delay(self, attempt: int) -> float:
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** min(max(attempt, 1) - 1, 62))
        return self.rng.uniform(ceiling / 2, ceiling)

    def exhausted(self, attempt: int) -> bool:
        return attempt >= self.max_attempts
