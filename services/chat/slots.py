"""How many analyst answers (the model's stream, the paced delivery, the chart) run at once in this
process. More wait their turn, first come first served: a burst of questions waits a little longer,
nobody gets an error and nobody is overtaken.

    async with slots.take():
        ... stream, deliver, send the chart ...

Updates in flight have a bound of their own (UPDATES_CONCURRENCY, much larger): a question holds an
update slot only while it is prepared and while it waits here, so other updates (/help, prices) are
handled at once during a burst of questions, and the memory an answer needs is bounded by this.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class AnswerSlots:
    """A FIFO bound: a slot freed goes straight to the longest waiter (a newcomer cannot take it first)."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be >= 1")
        self.limit = limit
        self.active = 0  # answers running
        self.peak = 0  # the most ever running at once
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())

    def free(self) -> bool:
        """A slot could be taken now without waiting."""
        return self.active < self.limit and not self._waiters

    async def acquire(self) -> None:
        if self.free():
            self._enter()
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # resolved by `release`, which has counted this caller as running
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot as it was cancelled: pass it on
            raise
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def release(self) -> None:
        self.active -= 1
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._enter()
                waiter.set_result(None)
                return

    def _enter(self) -> None:
        self.active += 1
        self.peak = max(self.peak, self.active)

    @asynccontextmanager
    async def take(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()
