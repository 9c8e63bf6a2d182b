"""services/chat/slots.py: the bound on analyst answers running at once, first come first served."""

from __future__ import annotations

import asyncio

import pytest

from services.chat import AnswerSlots


async def _take(slots: AnswerSlots, name: str, order: list[str]) -> None:
    await slots.acquire()
    order.append(name)


async def test_waiters_get_their_slot_in_arrival_order_and_a_newcomer_does_not_overtake() -> None:
    slots = AnswerSlots(2)
    order: list[str] = []
    await slots.acquire()
    await slots.acquire()
    waiters = [asyncio.create_task(_take(slots, name, order)) for name in ("a", "b", "c")]
    await asyncio.sleep(0)
    assert (slots.active, slots.waiting, order) == (2, 3, [])
    slots.release()  # the slot goes straight to `a`, the longest waiter, before `a` has even run ...
    assert not slots.free()
    # ... so a newcomer arriving now queues behind `b` and `c` instead of taking it.
    waiters.append(asyncio.create_task(_take(slots, "newcomer", order)))
    await asyncio.sleep(0)
    assert (order, slots.active, slots.waiting) == (["a"], 2, 3)
    for _ in range(3):
        slots.release()
        await asyncio.sleep(0)
    await asyncio.gather(*waiters)
    assert order == ["a", "b", "c", "newcomer"]
    assert (slots.active, slots.waiting, slots.peak) == (2, 0, 2)


async def test_a_waiter_cancelled_leaves_the_queue_and_a_slot_handed_to_a_cancelled_waiter_is_passed_on() -> None:
    slots = AnswerSlots(1)
    await slots.acquire()
    first = asyncio.create_task(slots.acquire())
    second = asyncio.create_task(slots.acquire())
    third = asyncio.create_task(slots.acquire())
    await asyncio.sleep(0)
    assert slots.waiting == 3
    first.cancel()  # cancelled while waiting: it simply leaves the queue
    with pytest.raises(asyncio.CancelledError):
        await first
    assert slots.waiting == 2
    slots.release()  # handed to `second` ...
    second.cancel()  # ... which is cancelled before it runs: the slot goes on to `third`
    with pytest.raises(asyncio.CancelledError):
        await second
    await third
    assert (slots.active, slots.waiting) == (1, 0)
    slots.release()
    assert slots.free() and slots.active == 0


def test_the_bound_is_at_least_one() -> None:
    with pytest.raises(ValueError):
        AnswerSlots(0)
