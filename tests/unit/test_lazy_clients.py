"""The exchange and model clients are created by their first use (or the warm-up), not when the bot is
built, and whatever was created is closed on shutdown; a client closed before use creates nothing."""

from __future__ import annotations

import pytest

from services.llm import LLMService, LLMUnavailable
from services.market.errors import ExchangeUnavailable
from services.market.exchanges import ExchangeClient
from standins.exchanges import market_env
from standins.openai_server import FakeOpenAI, Reply

KEY = "sk-test-lazy"
MESSAGES = [{"role": "user", "content": "BTC?"}]


async def test_an_exchange_client_is_created_by_its_first_call_and_closed_with_it() -> None:
    async with market_env(start=False) as env:
        client = ExchangeClient("bybit", api_url=env.bybit.url, timeout_ms=3000, close_grace_ms=0)
        assert not client.created
        index = await client.load_markets()
        assert client.created and index.lookup("BTC", "USDT") is not None
        await client.close()
        assert client.raw.session is None
        with pytest.raises(ExchangeUnavailable, match="closed"):
            await client.load_markets()


async def test_an_exchange_client_closed_before_use_creates_nothing() -> None:
    client = ExchangeClient("bybit", api_url="http://127.0.0.1:9")
    await client.close()
    with pytest.raises(ExchangeUnavailable, match="closed"):
        await client.fetch_ticker("BTC/USDT")
    assert not client.created


async def test_the_configured_model_client_comes_with_the_first_question_and_goes_with_close() -> None:
    async with FakeOpenAI(api_key=KEY) as fake:
        fake.script(Reply("one two", chunks=2))
        llm = LLMService.configured(KEY, fake.base_url, timeout=5.0, max_retries=0)
        assert not llm.connected
        text, _usage = await llm.complete(MESSAGES, model="m", max_tokens=10, temperature=0)
        assert text == "one two" and llm.connected
        await llm.close()
        assert not llm.connected
        with pytest.raises(LLMUnavailable, match="closed"):
            await llm.complete(MESSAGES, model="m", max_tokens=10, temperature=0)
    assert len(fake.chat_requests) == 1


async def test_the_warm_up_connects_and_a_service_closed_first_never_does() -> None:
    llm = LLMService.configured(KEY, "http://127.0.0.1:9/v1")
    await llm.warm_up()
    assert llm.connected
    await llm.close()
    unused = LLMService.configured(KEY, "http://127.0.0.1:9/v1")
    await unused.close()
    with pytest.raises(LLMUnavailable, match="closed"):
        await unused.warm_up()
    assert not unused.connected


def test_a_service_needs_a_client_or_a_way_to_connect_one() -> None:
    with pytest.raises(ValueError, match="either"):
        LLMService()
