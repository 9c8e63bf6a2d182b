from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.fake_telegram import FakeTelegramServer
from tests.backends import Backend
from tests.fakes.exchanges import FakeBybit, FakeClock, default_specs
from tests.harness import RunningBot, make_settings, running_bot


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(bot_username="coinsight_bot", bot_first_name="Coinsight") as server:
        yield server


@pytest.fixture
async def exchange() -> AsyncIterator[FakeBybit]:
    """A fake Bybit (v5 REST) with seeded markets; its clock follows real time."""
    fake = FakeBybit(default_specs(), clock=FakeClock(frozen=False))
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
def settings_factory(tg: FakeTelegramServer, backend: Backend, exchange: FakeBybit) -> Callable[..., Any]:
    return lambda **overrides: make_settings(tg, backend, exchange.url, **overrides)


@pytest.fixture
async def app(tg: FakeTelegramServer, settings_factory: Callable[..., Any]) -> AsyncIterator[RunningBot]:
    async with running_bot(settings_factory(), tg) as running:
        yield running
