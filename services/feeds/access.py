"""Who may change a group's or channel's feeds: its administrators, as Telegram says
(getChatMember, asked by the handler), remembered briefly so a series of button taps costs one
request. A demoted admin keeps the right for at most `ttl` seconds."""

from __future__ import annotations

from services.kv import KeyValueStore

ADMIN_STATUSES = frozenset({"creator", "administrator"})


class AdminCache:
    def __init__(self, store: KeyValueStore, ttl: float) -> None:
        self.store = store
        self.ttl = ttl

    @staticmethod
    def _key(chat_id: int, user_id: int) -> str:
        return f"feeds:admin:{chat_id}:{user_id}"

    async def get(self, chat_id: int, user_id: int) -> bool | None:
        """The remembered answer, None when there is none (ask Telegram)."""
        value = await self.store.get(self._key(chat_id, user_id))
        return None if value is None else value == b"1"

    async def put(self, chat_id: int, user_id: int, is_admin: bool) -> None:
        if self.ttl > 0:
            await self.store.set(self._key(chat_id, user_id), b"1" if is_admin else b"0", self.ttl)

    async def forget(self, chat_id: int, user_id: int) -> None:
        await self.store.delete(self._key(chat_id, user_id))
