from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiogram import BaseMiddleware
from aiogram.dispatcher.middlewares.manager import MiddlewareManager
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.types import TelegramObject, Update
from aiogram.types.update import UpdateTypeLookupError

from bot.logs import UpdateContext, update_context


class UpdateMetrics(Protocol):
    def observe_update(self, kind: str, seconds: float) -> None: ...


class UpdateObserver(BaseMiddleware):
    """The outermost update middleware (`install_outermost`): sets the update and user ids every log
    line written while the update is handled carries (`bot.logs.update_context`, the error handler's
    lines included), and gives the metrics each update's type and how long it took from reaching the
    dispatcher to the end of its handling (waiting for a slot among UPDATES_CONCURRENCY included)."""

    def __init__(self, metrics: UpdateMetrics | None = None, timer: Callable[[], float] = time.perf_counter) -> None:
        self.metrics = metrics
        self.timer = timer

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        user = UserContextMiddleware.resolve_event_context(event).user
        token = update_context.set(UpdateContext(event.update_id, user.id if user is not None else None))
        started = self.timer()
        try:
            return await handler(event, data)
        finally:
            if self.metrics is not None:
                self.metrics.observe_update(_kind(event), self.timer() - started)
            update_context.reset(token)


def _kind(update: Update) -> str:
    try:
        return update.event_type
    except UpdateTypeLookupError:  # a type newer than this aiogram: counted, not lost
        return "unknown"


def install_outermost(manager: MiddlewareManager, middleware: UpdateObserver) -> None:
    """Register `middleware` outside every middleware already there (aiogram's own errors middleware
    included, so the error handler's log lines carry the update's ids too)."""
    existing = list(manager)
    for other in existing:
        manager.unregister(other)
    manager.register(middleware)
    for other in existing:
        manager.register(other)
