"""Telegram's 429s counted per minute in the key-value store: /stats reads the last hour."""

from __future__ import annotations

from services.admin.throttled import RateLimitLog
from services.kv import MemoryStore


class Wall:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


async def test_counts_the_last_sixty_minutes_only() -> None:
    wall = Wall(1_800_000_000.0)
    store = MemoryStore()
    log = RateLimitLog(store, wall)
    for _ in range(3):
        await log.note()
    wall.now += 30 * 60
    await log.note()
    assert await log.last_hour() == 4
    wall.now += 31 * 60  # the first three are now 61 minutes old
    assert await log.last_hour() == 1
    # Another replica sharing the store sees the same count.
    assert await RateLimitLog(store, wall).last_hour() == 1
    assert log.noted == 4  # this process's own count, for /metrics
    await store.close()
