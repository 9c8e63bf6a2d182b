"""The collector paused for the start (bot/heap.py) is never left off: the warm-up's end turns it back
on with the start-up heap frozen, and a runner stopped before its warm-up finished turns it on too."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from bot.heap import pause_collection
from bot.runner import WarmUp


@pytest.fixture
def collector() -> Iterator[None]:
    yield
    gc.enable()  # whatever a failing test left


async def test_a_runner_stopped_before_its_warm_up_turns_the_collector_back_on(collector: None) -> None:
    pause_collection()
    warm = WarmUp(asyncio.Event())  # never ready: the bot stopped before its first poll
    await warm.start(None)
    await asyncio.sleep(0)
    assert not gc.isenabled()
    await warm.stop()
    assert warm.task is not None and warm.task.cancelled()
    assert gc.isenabled()
