"""Run the production bot (same factories as `python -m bot`) against local fake servers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher, Router

from bot.factory import AppResources
from bot.runner import prepare
from bot.settings import Settings, load_settings
from standins.telegram import FakeTelegramServer
from tests.backends import Backend


@dataclass
class RunningBot:
    settings: Settings
    resources: AppResources
    bot: Bot
    dp: Dispatcher
    tg: FakeTelegramServer


def make_settings(tg: FakeTelegramServer, backend: Backend, exchange_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "_env_file": None,
        "bot_token": tg.token,
        "telegram_api_url": tg.base_url,
        "database_url": backend.database_url,
        "redis_url": backend.redis_url,
        # Every test has its own Redis namespace: flood counters and caches never leak between tests.
        "redis_prefix": backend.redis_prefix or "coinsight:",
        "openai_api_key": "",
        "exchanges": ["bybit"],
        "exchange_api_urls": {"bybit": exchange_url},
    }
    values.update(overrides)
    return load_settings(**values)


@contextlib.asynccontextmanager
async def running_bot(
    settings: Settings, tg: FakeTelegramServer, extra_routers: Sequence[Router] = ()
) -> AsyncIterator[RunningBot]:
    """`python -m bot`'s polling path (prepare → start_polling) as a task; stopped cleanly after."""
    resources, bot, dp = await prepare(settings, extra_routers)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        # Serving once the first long poll is waiting (a call is logged only when answered, 1 s later).
        await tg.wait_until(
            lambda: tg.updates.waiting > 0 or bool(tg.calls_to("getUpdates")), timeout=10, what="the first getUpdates"
        )
        yield RunningBot(settings, resources, bot, dp, tg)
    finally:
        with contextlib.suppress(RuntimeError):
            await dp.stop_polling()
        await polling
    assert resources.closed, "shutdown did not close the app resources"
