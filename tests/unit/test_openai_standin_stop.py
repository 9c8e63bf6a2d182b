"""The OpenAI stand-in sees a client hang up mid-answer, and can hold the first token back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from services.llm import LLMService, TextDelta, build_llm_client
from standins.openai_server import FakeOpenAI, Hang, Reply

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "BTC?"}]


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def service(fake: FakeOpenAI) -> AsyncIterator[LLMService]:
    client = build_llm_client("sk-test", fake.base_url, timeout=5.0, max_retries=0)
    yield LLMService(client)
    await client.close()


@pytest.mark.parametrize("item", [Reply("one two three four five six", chunks=6, delay=0.05), Hang(text_before="ab")])
async def test_closing_the_stream_is_seen_as_a_hang_up(
    fake: FakeOpenAI, service: LLMService, item: Reply | Hang
) -> None:
    fake.script(item)
    events = service.stream_chat(MESSAGES, model="m", max_tokens=50, temperature=0)
    first = await anext(events)
    assert isinstance(first, TextDelta)
    (record,) = fake.chat_requests
    assert not record.disconnected
    await events.aclose()  # type: ignore[attr-defined]
    await fake.wait_disconnected(record, timeout=5)
    assert record.disconnected


async def test_a_held_reply_sends_no_token_until_released(fake: FakeOpenAI, service: LLMService) -> None:
    hold = asyncio.Event()
    fake.script(Reply("held answer", chunks=2, hold=hold))
    events = service.stream_chat(MESSAGES, model="m", max_tokens=50, temperature=0)
    pending = asyncio.ensure_future(anext(events))
    await fake.wait_for_chat_requests(1)
    done, _ = await asyncio.wait({pending}, timeout=0.2)
    assert not done and fake.chat_requests[0].first_chunk_time is None
    hold.set()
    first = await pending
    assert isinstance(first, TextDelta) and fake.chat_requests[0].first_chunk_time is not None
    rest = [e.text async for e in events if isinstance(e, TextDelta)]
    assert first.text + "".join(rest) == "held answer"
    assert not fake.chat_requests[0].disconnected
