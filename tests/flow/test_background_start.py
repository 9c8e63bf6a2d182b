"""The app's background work (outbox sender, broadcast progress, scheduler, command menu, markets)
starts once the bot serves updates, not before its first poll (bot/factory.py `_start_background`);
a bot stopped before then starts none of it and stops cleanly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bot.runner import prepare
from standins.telegram import FakeTelegramServer


async def test_background_work_waits_for_the_first_poll(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any]
) -> None:
    resources, bot, dp = await prepare(settings_factory())
    resources.serving = serving = asyncio.Event()
    try:
        await dp.emit_startup(bot=bot, **dp.workflow_data)  # as start_polling does
        assert resources.starting is not None and not resources.starting.done()
        assert resources.sender is None and resources.broadcasts is None
        assert tg.calls_to("setMyCommands") == []
        serving.set()  # the first getUpdates went out
        await resources.starting
        assert resources.sender is not None and resources.broadcasts is not None
        assert resources.scheduler is not None and resources.scheduler.apscheduler.running
        await tg.wait_until(lambda: len(tg.calls_to("setMyCommands")) == 2, timeout=10, what="the menus")
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)
        await bot.session.close()
    assert resources.closed


async def test_a_bot_stopped_before_its_first_poll_starts_nothing(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any]
) -> None:
    resources, bot, dp = await prepare(settings_factory())
    resources.serving = asyncio.Event()  # never set
    try:
        await dp.emit_startup(bot=bot, **dp.workflow_data)
        starting = resources.starting
        assert starting is not None
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)
        await bot.session.close()
    assert starting.cancelled() and resources.closed
    assert resources.sender is None and resources.broadcasts is None
    assert resources.scheduler is not None and not resources.scheduler.apscheduler.running
    assert tg.calls_to("setMyCommands") == []
