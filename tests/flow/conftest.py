from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from standins.exchanges import FakeBybit
from standins.openai_server import FakeOpenAI
from standins.telegram import FakeTelegramServer
from tests.backends import Backend
from tests.flow.chat_helpers import language_aware_answer
from tests.flow.held_model import HeldModel
from tests.harness import RunningBot, make_settings, running_bot


@pytest.fixture
def settings_factory(tg: FakeTelegramServer, backend: Backend, exchange: FakeBybit) -> Callable[..., Any]:
    return lambda **overrides: make_settings(tg, backend, exchange.url, **overrides)


@pytest.fixture
async def app(tg: FakeTelegramServer, settings_factory: Callable[..., Any]) -> AsyncIterator[RunningBot]:
    async with running_bot(settings_factory(), tg) as running:
        yield running


@pytest.fixture
def llm_timeout() -> float:
    return 3.0


@pytest.fixture
async def app_llm(
    tg: FakeTelegramServer, llm: FakeOpenAI, settings_factory: Callable[..., Any], llm_timeout: float
) -> AsyncIterator[RunningBot]:
    """The bot with the fake LLM behind it (one retry, a short timeout)."""
    settings = settings_factory(
        openai_api_key="sk-test", openai_base_url=llm.base_url, llm_max_retries=1, llm_timeout=llm_timeout
    )
    async with running_bot(settings, tg) as running:
        yield running


@pytest.fixture
async def held() -> AsyncIterator[HeldModel]:
    """The stand-in model, answering only as the test releases its requests (tests/flow/held_model.py)."""
    model = HeldModel(responder=language_aware_answer)
    await model.start()
    try:
        yield model
    finally:
        await model.close()
