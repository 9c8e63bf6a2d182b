from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject


class InFlight(BaseMiddleware):
    """Bounds the updates handled at once and counts those in flight, so shutdown can let them
    finish before closing clients.

    At most `limit` updates are handled at a time; more wait their turn here (counted as in flight,
    not yet `active`). Polling bounds itself as well (aiogram's `tasks_concurrency_limit`); in
    webhook mode each delivery starts its own task, so this is what keeps a burst of 3,000 webhooks
    from running 3,000 handlers at once: they wait a little longer instead of failing."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self._slots = asyncio.Semaphore(limit) if limit is not None else None
        self.count = 0  # in flight: handled or waiting for a slot
        self.active = 0  # being handled
        self.peak = 0  # the most ever handled at once
        self.finished = 0  # updates handled since start
        self._idle = asyncio.Event()
        self._idle.set()
        # Called each time the last update in flight finishes (e.g. to wake a test's waiters).
        self.on_idle: list[Callable[[], object]] = []

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        self.count += 1
        self._idle.clear()
        try:
            if self._slots is None:
                return await self._handle(handler, event, data)
            async with self._slots:
                return await self._handle(handler, event, data)
        finally:
            self.count -= 1
            self.finished += 1
            if self.count == 0:
                self._idle.set()
                for callback in self.on_idle:
                    callback()

    async def _handle(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            return await handler(event, data)
        finally:
            self.active -= 1

    async def drain(self, grace: float) -> bool:
        """Wait until nothing is in flight; False if `grace` seconds passed first."""
        try:
            async with asyncio.timeout(grace):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True
