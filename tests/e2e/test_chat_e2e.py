"""Issue 4 end to end: `python -m bot` + fake Bot API + fake exchange + fake OpenAI, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from standins.exchanges import FakeBybit, FakeClock, default_specs
from standins.openai_server import ErrorReply, FakeOpenAI
from standins.telegram import FakeTelegramServer
from tests.backends import SQLITE_ONLY
from tests.flow.chat_helpers import expected_view, key_numbers


@pytest.fixture
async def exchange() -> AsyncIterator[FakeBybit]:
    async with FakeBybit(default_specs(), clock=FakeClock()) as fake:
        yield fake


@SQLITE_ONLY  # the default embedded parts; the chat flow tests run on both backends
async def test_questions_in_english_and_chinese(
    tg: FakeTelegramServer, bot_process: Callable[..., Any], llm: FakeOpenAI, exchange: FakeBybit
) -> None:
    await bot_process(OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=llm.base_url, LLM_MAX_RETRIES="0")
    ann = tg.add_user("Ann", language_code="en")
    li = tg.add_user("Li", language_code="zh-hans")
    await tg.send_message(ann, "how does ETH look on the 1h?")
    en = await tg.wait_for_messages(ann, 2, timeout=60)
    await tg.send_message(li, "以太坊日线怎么样")
    zh = await tg.wait_for_messages(li, 2, timeout=60)
    eth_1h = key_numbers(await expected_view(exchange.url, "ETH", "1h"))
    eth_1d = key_numbers(await expected_view(exchange.url, "ETH", "1d"))
    await tg.wait_until(lambda: en[0].plain_text.startswith("Market analysis") and "▌" not in en[0].plain_text)
    for name, value in eth_1h.items():
        assert f"{name}: {value}" in en[0].plain_text
    await tg.wait_until(lambda: zh[0].plain_text.startswith("行情分析") and "▌" not in zh[0].plain_text)
    assert f"price: {eth_1d['price']}" in zh[0].plain_text
    assert en[1].photo is not None and zh[1].photo is not None
    # The LLM goes down: the answer still comes, from the labelled rule-based analyst.
    llm.script(ErrorReply(503, should_retry=False))
    await tg.send_message(ann, "and the daily?")
    messages = await tg.wait_for_messages(ann, 4, timeout=60)
    await tg.wait_until(lambda: "Not financial advice" in messages[2].plain_text, timeout=20)
    assert messages[2].plain_text.startswith("⚠️ The AI analyst is unavailable right now")
    assert f"{eth_1d['price']}" in messages[2].plain_text
    assert tg.count_429 == 0
