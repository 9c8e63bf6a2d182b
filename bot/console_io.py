"""Plumbing of console mode that needs no stand-in: who is typing, where logs go, when the bot has
finished handling a key press, and no flood pacing against the in-process Bot API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from aiogram import BaseMiddleware, Bot
from aiogram.types import TelegramObject, Update

from bot.outgoing import RateLimitMiddleware

DEFAULT_NAME = "Trader"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def console_name(environ: Mapping[str, str]) -> str:
    """The name the bot greets: the login name when there is one, else a sensible default."""
    for variable in ("USER", "LOGNAME", "USERNAME"):
        name = environ.get(variable, "").strip()
        if name:
            return name
    return DEFAULT_NAME


def console_locale(environ: Mapping[str, str]) -> str:
    return "zh" if environ.get("LANG", "").lower().startswith("zh") else "en"


class ProcessedUpdates(BaseMiddleware):
    """Marks each update as done when its handling finished: the console waits on that, not a timer."""

    def __init__(self) -> None:
        self._done: dict[int, asyncio.Event] = {}

    def _event(self, update_id: int) -> asyncio.Event:
        return self._done.setdefault(update_id, asyncio.Event())

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            return await handler(event, data)
        finally:
            if isinstance(event, Update):
                self._event(event.update_id).set()

    async def wait(self, update_id: int, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            await self._event(update_id).wait()
        self._done.pop(update_id, None)


@contextlib.contextmanager
def logs_to_file(path: Path) -> Iterator[None]:
    """Send log records to `path` instead of the terminal, so they never interleave with the chat."""
    root = logging.getLogger()
    terminal = [h for h in root.handlers if type(h) is logging.StreamHandler]
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    for old in terminal:  # the same redaction and update context (bot/logs.py)
        for log_filter in old.filters:
            handler.addFilter(log_filter)
    level = root.level
    for old in terminal:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(min(level, logging.INFO) if level else logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
        for old in terminal:
            root.addHandler(old)
        root.setLevel(level)


def stdin_reader(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None], stream: TextIO) -> None:
    """A daemon thread feeding input lines to the loop (never blocks interpreter exit)."""
    for line in stream:
        loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\n"))
    loop.call_soon_threadsafe(queue.put_nowait, None)


async def set_event(event: asyncio.Event, **_: Any) -> None:
    event.set()


def unpaced(bot: Bot) -> None:
    """The in-process Bot API has no flood limits: pacing would only make the terminal wait."""
    for middleware in list(bot.session.middleware):
        if isinstance(middleware, RateLimitMiddleware):
            bot.session.middleware.unregister(middleware)
