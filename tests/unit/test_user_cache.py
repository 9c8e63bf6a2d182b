"""The compact serialization of cached user and chat views, their expiry, and entries that cannot be read."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from services.kv import MemoryStore
from services.user_cache import ViewCache, dump_chat, dump_user, load_chat, load_user
from services.users import ChatView, UserView

ANN = UserView(
    id=7,
    telegram_id=123_456_789,
    username=None,
    first_name='李雷 "Ann"',
    language_code="zh-hans",
    locale="zh",
    plan="pro",
    plan_expires_at=datetime(2030, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC),
    invite_code="abcd2345",
    banned=True,
    bot_blocked=False,
)
GROUP = ChatView(id=-100_123, type="supergroup", title=None, locale="en", active=False)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_views_survive_the_round_trip_compactly() -> None:
    assert load_user(dump_user(ANN)) == ANN
    assert load_chat(dump_chat(GROUP)) == GROUP
    free = replace(ANN, plan_expires_at=None, banned=False)
    assert load_user(dump_user(free)) == free
    assert len(dump_user(ANN)) < 120 and b" " not in dump_chat(GROUP)


async def test_views_expire_after_the_ttl() -> None:
    clock = Clock()
    cache = ViewCache(MemoryStore(clock), ttl=60)
    await cache.keep(ANN, GROUP)
    clock.now = 59.9
    assert await cache.user(ANN.telegram_id) == ANN and await cache.chat(GROUP.id) == GROUP
    clock.now = 60.0
    assert await cache.user(ANN.telegram_id) is None and await cache.chat(GROUP.id) is None


async def test_a_ttl_of_zero_turns_the_cache_off() -> None:
    store = MemoryStore()
    cache = ViewCache(store, ttl=0)
    await cache.keep(ANN, GROUP)
    assert await store.get(f"uv1:{ANN.telegram_id}") is None
    await ViewCache(store, ttl=60).keep(ANN, GROUP)
    assert await cache.user(ANN.telegram_id) is None and await cache.chat(GROUP.id) is None


async def test_an_unreadable_entry_is_a_miss() -> None:
    store = MemoryStore()
    cache = ViewCache(store, ttl=60)
    await store.set(f"uv1:{ANN.telegram_id}", b"[1,2,3]")
    await store.set(f"cv1:{GROUP.id}", b"not json")
    assert await cache.user(ANN.telegram_id) is None and await cache.chat(GROUP.id) is None
