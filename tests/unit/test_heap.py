"""The collector paused for the start (bot/heap.py) is never left off: the warm-up's end turns it back
on with the start-up heap frozen (a warm-up that fails too), and a runner stopped before its warm-up
finished turns it on as well."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest
from openai import AsyncOpenAI

from bot.heap import pause_collection
from bot.runner import WarmUp
from services.llm import LLMService


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


async def test_a_warm_up_that_fails_turns_the_collector_back_on(collector: None) -> None:
    def broken() -> AsyncOpenAI:
        raise RuntimeError("no client")  # an error the warm-up does not expect

    pause_collection()
    ready = asyncio.Event()
    ready.set()
    warm = WarmUp(ready)
    await warm.start(LLMService(connect=broken))
    assert warm.task is not None
    with pytest.raises(RuntimeError, match="no client"):
        await warm.task
    assert gc.isenabled() and gc.get_freeze_count() > 0
