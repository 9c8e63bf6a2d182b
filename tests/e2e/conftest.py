"""End-to-end: `python -m bot` as a subprocess, talking only HTTP to local fake servers."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from standins.exchanges import FakeBybit
from standins.telegram import FakeTelegramServer
from tests.backends import Backend

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_env(backend: Backend, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TEST_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=backend.database_url,
        REDIS_URL=backend.redis_url,
        REDIS_PREFIX=backend.redis_prefix or "coinsight:",
        EXCHANGES="bybit",
        # Never the real exchange: a closed local port unless a test points it at a fake.
        EXCHANGE_API_URLS="bybit=http://127.0.0.1:9",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    stderr: list[str]

    async def stop(self, timeout: float = 30.0) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(timeout):
            return await self.process.wait()


async def spawn(args: list[str], env: dict[str, str], cwd: Path, stdin: bytes | None = None) -> BotProcess:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        env=env, cwd=cwd,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    if stdin is not None:
        assert process.stdin is not None
        process.stdin.write(stdin)
        await process.stdin.drain()
        process.stdin.close()
    return BotProcess(process, [])


@pytest.fixture
async def bot_process(
    tg: FakeTelegramServer, backend: Backend, exchange: FakeBybit, tmp_path: Path
) -> AsyncIterator[Callable[..., Any]]:
    """Start `python -m bot` against the fake Telegram server; stopped with SIGTERM afterwards."""
    started: list[BotProcess] = []

    async def start(wait_for: str = "getUpdates", **extra: str) -> BotProcess:
        extra.setdefault("EXCHANGE_API_URLS", f"bybit={exchange.url}")
        env = bot_env(backend, BOT_TOKEN=tg.token, TELEGRAM_API_URL=tg.base_url, **extra)
        proc = await spawn([], env, tmp_path)
        started.append(proc)

        def serving() -> bool:
            # A call is logged when answered: a long poll only when it returns, up to 10 s later.
            if wait_for == "getUpdates" and tg.updates.waiting > 0:
                return True
            return bool(tg.calls_to(wait_for))

        try:
            await tg.wait_until(serving, timeout=60, what=f"the bot's first {wait_for}")
        except TimeoutError:
            proc.process.kill()
            _, err = await proc.process.communicate()
            raise AssertionError(f"bot did not start: {err.decode()[-3000:]}") from None
        return proc

    yield start
    for proc in started:
        code = await proc.stop()
        assert code == 0, f"bot exited with {code}"
