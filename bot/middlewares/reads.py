"""What every update reads from the key-value store, in one call.

Each update needs its user's and chat's cached views (`services.user_cache.ViewCache`), its flood
counter (`ThrottlingMiddleware`) and, with Redis, its FSM state (aiogram's `FSMContextMiddleware` reads
it before any handler runs). Read one by one, that is three or four Redis round trips per update, and
each costs the bot about as much CPU as the rest of a `/help`. `UpdateReads` reads them with one
`KeyValueStore.read` (one Lua call on Redis) and leaves the results in the update's data, where
`ContextMiddleware`, `ThrottlingMiddleware` and `PrefetchedFSM` take them instead of reading again.

`install` puts it, and `PrefetchedFSM` in place of the dispatcher's FSM middleware, after the update
concurrency bound (`InFlight`): what an update waited for a slot with is read when it gets one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.dispatcher.middlewares.user_context import EVENT_CONTEXT_KEY, EventContext
from aiogram.fsm.context import FSMContext
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.storage.memory import DisabledEventIsolation
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import TelegramObject, Update

from bot.middlewares.throttling import COUNTED, ThrottlingMiddleware
from services.kv import KeyValueStore, RedisStore
from services.user_cache import ViewCache

CACHED_VIEWS = "cached_views"  # (UserView | None, ChatView | None), for ContextMiddleware
_STATE = "prefetched_state"  # (FSMContext, state) read here, for PrefetchedFSM


class UpdateReads(BaseMiddleware):
    def __init__(
        self,
        store: KeyValueStore,
        views: ViewCache,
        fsm: FSMContextMiddleware,
        throttling: ThrottlingMiddleware | None,
    ) -> None:
        self.store = store
        self.views = views
        self.fsm = fsm
        self.throttling = throttling
        # The FSM state is read here only where it lives in this store (RedisStorage over the same
        # Redis, keys under its prefix) and no lock must be taken before reading it.
        self.prefix = store.prefix if isinstance(store, RedisStore) else None
        self.reads_state = (
            self.prefix is not None
            and isinstance(fsm.storage, RedisStorage)
            and isinstance(fsm.events_isolation, DisabledEventIsolation)
        )

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        context = cast(EventContext | None, data.get(EVENT_CONTEXT_KEY))
        user = context.user if context is not None else None
        telegram_id = user.id if user is not None and not user.is_bot else None
        chat_id = context.chat.id if context is not None and context.chat is not None else None
        keys = self.views.keys(telegram_id, chat_id)
        fsm_context, state_key = self._state_key(data) if self.reads_state else (None, None)
        counter = None
        if self.throttling is not None and user is not None and self.throttling.counts(event):
            counter = self.throttling.counter_key(user.id)
        if not keys and state_key is None and counter is None:
            return await handler(event, data)
        period = self.throttling.period if self.throttling is not None else 0.0
        values, count = await self.store.read([*keys, *([state_key] if state_key else [])], counter, period)
        data[CACHED_VIEWS] = self.views.loaded(telegram_id, chat_id, values[: len(keys)])
        if state_key is not None:
            raw = values[len(keys)]
            data[_STATE] = (fsm_context, raw.decode() if raw is not None else None)
        if counter is not None:
            data[COUNTED] = count
        return await handler(event, data)

    def _state_key(self, data: dict[str, Any]) -> tuple[FSMContext | None, str | None]:
        """The update's FSM context (resolved once: `PrefetchedFSM` takes it too) and its state's key."""
        fsm_context = self.fsm.resolve_event_context(cast(Bot, data["bot"]), data)
        if fsm_context is None or self.prefix is None:
            return None, None
        full = cast(RedisStorage, self.fsm.storage).key_builder.build(fsm_context.key, "state")
        return fsm_context, full.removeprefix(self.prefix) if full.startswith(self.prefix) else None


class PrefetchedFSM(FSMContextMiddleware):
    """aiogram's FSM middleware, taking the state `UpdateReads` already read when there is one."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if _STATE not in data:
            return await super().__call__(handler, event, data)
        context, raw_state = data.pop(_STATE)
        data.update({"fsm_storage": self.storage, "state": context, "raw_state": raw_state})
        return await handler(event, data)


def install(
    dp: Dispatcher,
    after: BaseMiddleware,
    store: KeyValueStore,
    views: ViewCache,
    throttling: ThrottlingMiddleware | None,
) -> UpdateReads:
    """Put `UpdateReads` and a `PrefetchedFSM` (in place of `dp.fsm`) right after `after` among the
    update's outer middlewares."""
    fsm = PrefetchedFSM(storage=dp.fsm.storage, events_isolation=dp.fsm.events_isolation, strategy=dp.fsm.strategy)
    reads = UpdateReads(store, views, fsm, throttling)
    manager = dp.update.outer_middleware
    existing = [m for m in manager if m is not dp.fsm]
    for middleware in list(manager):
        manager.unregister(middleware)
    for middleware in existing:
        manager.register(middleware)
        if middleware is after:
            manager.register(reads)
            manager.register(fsm)
    dp.fsm = fsm
    return reads
