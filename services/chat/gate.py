"""One answer at a time per user (across replicas when the store is Redis); one more may wait.

if await gate.try_enter(uid): answer ...
elif await gate.try_queue(uid): say "queued"; if await gate.wait_turn(uid): answer ...
else: say "busy"
(always `await gate.leave(uid)` after answering)
"""

from __future__ import annotations

import asyncio
import time

from services.kv import KeyValueStore


class AnswerGate:
    def __init__(self, store: KeyValueStore, hold: float = 180.0, poll: float = 0.1) -> None:
        self.store = store
        self.hold = hold  # a crashed holder's turn expires after this long
        self.poll = poll

    async def try_enter(self, user_id: int) -> bool:
        return await self.store.set_nx(f"chat-busy:{user_id}", b"1", self.hold)

    async def try_queue(self, user_id: int) -> bool:
        return await self.store.set_nx(f"chat-queued:{user_id}", b"1", self.hold)

    async def wait_turn(self, user_id: int) -> bool:
        """Wait (as the one queued question) for the running answer to finish, then take the turn."""
        try:
            deadline = time.monotonic() + self.hold
            while time.monotonic() < deadline:
                await asyncio.sleep(self.poll)
                if await self.try_enter(user_id):
                    return True
            return False
        finally:
            await self.store.delete(f"chat-queued:{user_id}")

    async def leave(self, user_id: int) -> None:
        await self.store.delete(f"chat-busy:{user_id}")
