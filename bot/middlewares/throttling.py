from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeGuard

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User

from services.kv import KeyValueStore

WARNING_QUIET_SECONDS = 10.0
COUNTED = "throttle_count"  # the update's count, when `UpdateReads` already took it


class ThrottlingMiddleware(BaseMiddleware):
    """Per-user flood control: at most `rate` updates per window of `period` seconds.

    Past the limit the user is told once to slow down (again only after a quiet spell of
    `WARNING_QUIET_SECONDS`), and the flood is dropped instead of processed. The counters live in
    the key-value store, so replicas sharing Redis share them; the windows are cut from `clock`
    (wall time, the same on every replica; injectable for tests).
    """

    def __init__(
        self, store: KeyValueStore, rate: int, period: float, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.rate = rate
        self.period = period
        self.clock = clock

    def counter_key(self, user_id: int) -> str:
        """The store key counting this user's updates in the current window."""
        return f"throttle:{user_id}:{int(self.clock() // self.period)}"

    def counts(self, update: Update) -> bool:
        """Whether this middleware counts the update (a message or a button press that is not a payment)."""
        return _counted(update.message or update.callback_query)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or not _counted(event):
            return await handler(event, data)
        count: int | None = data.get(COUNTED)  # counted with the update's other reads (bot/middlewares/reads.py)
        if count is None:
            count = await self.store.incr(self.counter_key(user.id), self.period)
        if count <= self.rate:
            return await handler(event, data)
        # Keep the "warned" mark alive while the flood goes on, so one flood gets one warning.
        first = await self.store.set_nx(f"throttle-warned:{user.id}", b"1", WARNING_QUIET_SECONDS)
        if not first:
            await self.store.set(f"throttle-warned:{user.id}", b"1", WARNING_QUIET_SECONDS)
            if isinstance(event, CallbackQuery):
                await event.answer()
            return None
        text = data["t"]("throttled")
        if isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=False)
        else:
            await event.answer(text)
        return None


def _counted(event: TelegramObject | None) -> TypeGuard[Message | CallbackQuery]:
    """A message or a button press, but not one of Telegram's payment service messages: those record
    money already moved and are never dropped as flood."""
    if isinstance(event, Message):
        return event.successful_payment is None and event.refunded_payment is None
    return isinstance(event, CallbackQuery)
