from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject


class InFlight(BaseMiddleware):
    """Counts updates being processed, so shutdown can let them finish before closing clients."""

    def __init__(self) -> None:
        self.count = 0
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
            return await handler(event, data)
        finally:
            self.count -= 1
            self.finished += 1
            if self.count == 0:
                self._idle.set()
                for callback in self.on_idle:
                    callback()

    async def drain(self, grace: float) -> bool:
        """Wait until nothing is in flight; False if `grace` seconds passed first."""
        try:
            async with asyncio.timeout(grace):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True
