"""The answer gate's keys carry an owner token: leaving frees only the caller's own turn, on the
in-process store and on Redis (compare-and-delete)."""

from __future__ import annotations

import asyncio

from services.chat.gate import AnswerGate
from services.kv import KeyValueStore, MemoryStore


async def test_delete_if_deletes_only_while_the_value_is_ours(store: KeyValueStore) -> None:
    await store.set("owned", b"mine", ttl=60)
    assert await store.delete_if("owned", b"theirs") is False
    assert await store.get("owned") == b"mine"
    assert await store.delete_if("owned", b"mine") is True
    assert await store.get("owned") is None
    assert await store.delete_if("owned", b"mine") is False  # gone: nothing to delete


async def test_a_second_holders_leave_does_not_free_the_first_ones_turn(store: KeyValueStore) -> None:
    gate = AnswerGate(store)
    first = await gate.try_enter(1)
    assert first is not None
    assert await gate.try_enter(1) is None  # one answer at a time
    await store.delete(first.key)  # the first turn's key expired (a slow answer)…
    second = await gate.try_enter(1)  # …so the next question took the turn
    assert second is not None and second.token != first.token
    assert await gate.leave(first) is False  # the slow answer ends: the second turn stays taken
    assert await gate.try_enter(1) is None
    assert await gate.try_enter(2) is not None  # other users are not affected
    assert await gate.leave(second) is True
    assert await gate.try_enter(1) is not None


async def test_an_expired_turn_cannot_free_the_next_one() -> None:
    now = [0.0]
    gate = AnswerGate(MemoryStore(clock=lambda: now[0]), hold=30.0)
    first = await gate.try_enter(7)
    assert first is not None
    now[0] = 31.0  # the holder outlived its hold
    second = await gate.try_enter(7)
    assert second is not None
    assert await gate.leave(first) is False
    assert await gate.try_enter(7) is None
    assert await gate.leave(second) is True


async def test_the_queued_question_takes_the_turn_and_gives_its_place_back(store: KeyValueStore) -> None:
    gate = AnswerGate(store, poll=0.01)
    running = await gate.try_enter(3)
    queued = await gate.try_queue(3)
    assert running is not None and queued is not None
    assert await gate.try_queue(3) is None  # one question may wait, not two
    waiting = asyncio.create_task(gate.wait_turn(queued))
    assert await gate.leave(running) is True
    turn = await asyncio.wait_for(waiting, 10)
    assert turn is not None and turn.key == running.key and turn.token != running.token
    assert await store.get(queued.key) is None  # the place in the queue is free again
    assert await gate.leave(queued) is False  # already given back by wait_turn
    assert await gate.leave(turn) is True
