"""One answer at a time per user (across replicas when the store is Redis); one more may wait.

if (turn := await gate.try_enter(uid)): answer ...
elif (queued := await gate.try_queue(uid)): say "queued"; if (turn := await gate.wait_turn(queued)): answer ...
else: say "busy"
(always `await gate.leave(turn)` after answering)

Each key holds a random owner token: `leave` deletes a key only while it still holds the caller's
token, so a turn whose key expired (a slow answer) cannot free the turn another question took since.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass

from services.kv import KeyValueStore


@dataclass(frozen=True)
class Ticket:
    """A key this caller set in the store, and the token proving it is still the caller's."""

    user_id: int
    key: str
    token: bytes


class AnswerGate:
    def __init__(self, store: KeyValueStore, hold: float = 180.0, poll: float = 0.1) -> None:
        self.store = store
        self.hold = hold  # a crashed holder's turn expires after this long
        self.poll = poll

    async def _take(self, user_id: int, key: str) -> Ticket | None:
        ticket = Ticket(user_id=user_id, key=key, token=secrets.token_hex(16).encode())
        return ticket if await self.store.set_nx(key, ticket.token, self.hold) else None

    async def try_enter(self, user_id: int) -> Ticket | None:
        """The user's turn to be answered, or None while another answer runs."""
        return await self._take(user_id, f"chat-busy:{user_id}")

    async def try_queue(self, user_id: int) -> Ticket | None:
        """The one place in the queue behind the running answer, or None when it is taken."""
        return await self._take(user_id, f"chat-queued:{user_id}")

    async def wait_turn(self, queued: Ticket) -> Ticket | None:
        """Wait (as the one queued question) for the running answer to finish, then take the turn."""
        try:
            deadline = time.monotonic() + self.hold
            while time.monotonic() < deadline:
                await asyncio.sleep(self.poll)
                turn = await self.try_enter(queued.user_id)
                if turn is not None:
                    return turn
            return None
        finally:
            await self.leave(queued)

    async def leave(self, ticket: Ticket) -> bool:
        """Give the key back if it is still ours; False when it expired (and may be someone else's)."""
        return await self.store.delete_if(ticket.key, ticket.token)
