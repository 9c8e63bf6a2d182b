"""The real openai.AsyncOpenAI client against the local fake OpenAI server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest

from services.llm import (
    LLMAuthError,
    LLMBadRequest,
    LLMError,
    LLMEvent,
    LLMRateLimited,
    LLMService,
    LLMUnavailable,
    TextDelta,
    Usage,
    build_llm_client,
    build_messages,
)
from standins.openai_server import Drop, ErrorReply, FakeOpenAI, Hang, Reply, StreamError, split_text

KEY = "sk-test-123"
MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "BTC?"}]


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(api_key=KEY) as server:
        yield server


@pytest.fixture
async def make_service(fake: FakeOpenAI) -> AsyncIterator[object]:
    clients: list[openai.AsyncOpenAI] = []

    def factory(*, key: str = KEY, timeout: float = 5.0, max_retries: int = 0) -> LLMService:
        client = build_llm_client(key, fake.base_url, timeout=timeout, max_retries=max_retries)
        clients.append(client)
        return LLMService(client)

    yield factory
    for client in clients:
        await client.close()


async def collect(service: LLMService, messages: list[dict[str, str]] = MESSAGES, **kwargs: Any) -> list[LLMEvent]:
    params: dict[str, Any] = {"model": "gpt-test", "max_tokens": 300, "temperature": 0.3} | kwargs
    return [event async for event in service.stream_chat(messages, **params)]


def text_of(events: list[LLMEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def test_streamed_text_is_reassembled_and_ends_with_usage(fake, make_service) -> None:
    answer = "**BTC** holds 67,000; resistance 68,500.\n\n比特币支撑 65,200 🚀"
    fake.script(Reply(answer, chunks=7, usage=(120, 33)))
    events = await collect(make_service())
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) == 7
    assert text_of(events) == answer
    assert events[-1] == Usage(prompt_tokens=120, completion_tokens=33, model="gpt-test", finish_reason="stop")
    assert events[-1].total_tokens == 153
    (request,) = fake.chat_requests
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.body == {
        "model": "gpt-test",
        "messages": MESSAGES,
        "max_tokens": 300,
        "temperature": 0.3,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


async def test_finish_reason_length_is_reported(fake, make_service) -> None:
    fake.script(Reply("cut", finish_reason="length", usage=(10, 1)))
    events = await collect(make_service())
    assert isinstance(events[-1], Usage) and events[-1].finish_reason == "length"


async def test_provider_without_usage_gets_an_estimate(fake, make_service) -> None:
    fake.script(Reply("word " * 40, include_usage=False))
    events = await collect(make_service())
    usage = events[-1]
    assert isinstance(usage, Usage) and usage.estimated
    assert usage.completion_tokens == 50  # 200 chars / 4
    assert usage.prompt_tokens > 0


async def test_500_becomes_unavailable_after_the_clients_retries(fake, make_service) -> None:
    fake.script(*[ErrorReply(500, retry_after_ms=1)] * 3)
    with pytest.raises(LLMUnavailable) as caught:
        await collect(make_service(max_retries=2))
    assert len(fake.chat_requests) == 3
    assert caught.value.status_code == 500
    assert caught.value.after_output is False


async def test_x_should_retry_false_is_honoured(fake, make_service) -> None:
    fake.script(ErrorReply(503, should_retry=False), Reply("never reached"))
    with pytest.raises(LLMUnavailable):
        await collect(make_service(max_retries=2))
    assert len(fake.chat_requests) == 1
    assert fake.pending == 1


async def test_429_then_ok_succeeds(fake, make_service) -> None:
    fake.script(ErrorReply(429, "Rate limit reached", "requests", "rate_limit_exceeded", retry_after_ms=5), Reply("ok"))
    events = await collect(make_service(max_retries=2))
    assert text_of(events) == "ok"
    assert len(fake.chat_requests) == 2


async def test_429_every_time_is_rate_limited(fake, make_service) -> None:
    fake.script(*[ErrorReply(429, "Rate limit reached", "requests", "rate_limit_exceeded", retry_after_ms=20)] * 2)
    with pytest.raises(LLMRateLimited) as caught:
        await collect(make_service(max_retries=1))
    assert len(fake.chat_requests) == 2
    assert caught.value.retry_after == pytest.approx(0.02)
    assert caught.value.code == "rate_limit_exceeded"


async def test_timeout_is_unavailable(fake, make_service) -> None:
    fake.script(Hang(), Hang())  # each would hang for an hour: only the client's timeout ends them
    with pytest.raises(LLMUnavailable) as caught:
        await collect(make_service(timeout=0.3, max_retries=1))
    assert len(fake.chat_requests) == 2  # a timeout is retried once by the client
    assert isinstance(caught.value.__cause__, openai.APITimeoutError)


async def test_stall_mid_stream_is_unavailable_after_output(fake, make_service) -> None:
    fake.script(Hang(text_before="Support at 65"))
    received: list[str] = []
    with pytest.raises(LLMUnavailable) as caught:
        async for event in make_service(timeout=0.3, max_retries=2).stream_chat(
            MESSAGES, model="m", max_tokens=10, temperature=0
        ):
            assert isinstance(event, TextDelta)
            received.append(event.text)
    assert "".join(received) == "Support at 65"
    assert caught.value.after_output is True
    assert len(fake.chat_requests) == 1  # never retried once streaming started


async def test_mid_stream_error_event(fake, make_service) -> None:
    fake.script(StreamError("partial ", message="overloaded", code="server_overloaded"))
    with pytest.raises(LLMError) as caught:
        await collect(make_service())
    assert isinstance(caught.value, LLMUnavailable)
    assert caught.value.after_output is True
    assert caught.value.code == "server_overloaded"
    assert "overloaded" in caught.value.message


async def test_mid_stream_context_error_is_bad_request(fake, make_service) -> None:
    fake.script(StreamError("", message="too long", type="invalid_request_error", code="context_length_exceeded"))
    with pytest.raises(LLMBadRequest) as caught:
        await collect(make_service())
    assert caught.value.after_output is False


async def test_connection_drop_mid_stream(fake, make_service) -> None:
    fake.script(Drop("half an ans"))
    with pytest.raises(LLMUnavailable) as caught:
        await collect(make_service(max_retries=2))
    assert caught.value.after_output is True
    assert len(fake.chat_requests) == 1


async def test_wrong_key_is_an_auth_error_without_retries(fake, make_service) -> None:
    with pytest.raises(LLMAuthError) as caught:
        await collect(make_service(key="sk-wrong", max_retries=2))
    assert isinstance(caught.value, LLMError)
    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"
    assert len(fake.chat_requests) == 1


async def test_bad_request_is_not_retried(fake, make_service) -> None:
    fake.script(ErrorReply(400, "maximum context length exceeded", "invalid_request_error", "context_length_exceeded"))
    with pytest.raises(LLMBadRequest) as caught:
        await collect(make_service(max_retries=2))
    assert caught.value.code == "context_length_exceeded"
    assert len(fake.chat_requests) == 1


async def test_unreachable_provider(make_service) -> None:
    client = build_llm_client(KEY, "http://127.0.0.1:9/v1", timeout=1.0, max_retries=0)
    try:
        with pytest.raises(LLMUnavailable):
            await collect(LLMService(client))
    finally:
        await client.close()


async def test_closing_the_stream_early_is_clean(fake, make_service) -> None:
    fake.script(Reply("a b c d e f g h", chunks=8, delay=0.01), Reply("second"))
    service = make_service()
    stream = service.stream_chat(MESSAGES, model="m", max_tokens=10, temperature=0)
    first = await anext(stream)
    assert first == TextDelta("a ")
    await stream.aclose()
    assert text_of(await collect(service)) == "second"  # the client is still usable


async def test_complete_collects_the_answer(fake, make_service) -> None:
    fake.script(Reply("one two three", chunks=3, usage=(5, 3)))
    text, usage = await make_service().complete(MESSAGES, model="m", max_tokens=10, temperature=0)
    assert text == "one two three"
    assert (usage.prompt_tokens, usage.completion_tokens) == (5, 3)


async def test_prompt_numbers_reach_the_model(fake, make_service) -> None:
    market = "symbol: SOL/USDT\ntimeframe: 4h\nprice: 171.42\nsupport: 165.10\nresistance: 178.90"
    messages = build_messages(
        locale="en", market_block=market, history=[("user", "hi"), ("assistant", "hello")],
        user_text="how does SOL look?", token_budget=4000,
    )  # fmt: skip
    answer = text_of(await collect(make_service(), messages))
    for number in ("171.42", "165.10", "178.90"):
        assert number in answer
    assert "how does SOL look?" in answer
    sent = fake.chat_requests[0].messages
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]


async def test_build_llm_client_settings() -> None:
    client = build_llm_client("sk-x", "http://127.0.0.1:1/v1", timeout=12.5, max_retries=4)
    try:
        assert str(client.base_url).rstrip("/") == "http://127.0.0.1:1/v1"
        assert client.max_retries == 4
        assert client.timeout == 12.5
        assert client.api_key == "sk-x"
    finally:
        await client.close()


async def test_fake_server_non_streaming_and_models(fake) -> None:
    client = openai.AsyncOpenAI(api_key=KEY, base_url=fake.base_url, max_retries=0)
    try:
        fake.script(Reply("plain answer", usage=(7, 2)))
        completion = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
        assert completion.choices[0].message.content == "plain answer"
        assert completion.usage is not None and completion.usage.total_tokens == 9
        models = await client.models.list()
        assert [m.id async for m in models] == ["fake-model"]
    finally:
        await client.close()


def test_split_text_helper() -> None:
    assert split_text("abcdefg", 3) == ["abc", "de", "fg"]
    assert split_text("ab", 5) == ["a", "b"]
    assert split_text("", 3) == []


async def test_observers_see_each_request_once_with_its_outcome(fake, make_service) -> None:
    """What the metrics count: usage of a finished answer, the error class of a failed one, and
    "abandoned" for a stream its reader closed early."""
    from services.llm.client import LLMCall

    fake.script(
        Reply("one two three", chunks=3, usage=(5, 3)),
        ErrorReply(500, retry_after_ms=1),
        Reply("a b c d", chunks=4),
    )
    service = make_service()
    seen: list[LLMCall] = []
    service.observers.append(seen.append)
    ticks = iter(range(100))
    service.timer = lambda: float(next(ticks))
    await service.complete(MESSAGES, model="m", max_tokens=10, temperature=0)
    with pytest.raises(LLMUnavailable):
        await collect(service)
    stream = service.stream_chat(MESSAGES, model="m", max_tokens=10, temperature=0)
    await anext(stream)
    await stream.aclose()

    ok, failed, abandoned = seen
    assert ok.error is None and ok.usage is not None and ok.seconds == 1.0
    assert (ok.usage.prompt_tokens, ok.usage.completion_tokens) == (5, 3)
    assert (failed.error, failed.usage, failed.model) == ("LLMUnavailable", None, "gpt-test")
    assert (abandoned.error, abandoned.usage) == ("abandoned", None)
