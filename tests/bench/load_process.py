"""Bot subprocesses and what the fake Bot API saw of them (tests/bench/bench_load.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from services.i18n import SUPPORTED_LOCALES, Translations
from standins.telegram import Call, FakeTelegramServer

WARMED = "warmed up"  # the bot's log line once its heavy modules are loaded (bot/runner.py)
TICK = os.sysconf("SC_CLK_TCK")
FEEDBACK = {"sendMessage", "editMessageText", "sendChatAction", "sendMessageDraft", "sendPhoto"}
TEXTS = {"sendMessage", "editMessageText"}


# ---------------------------------------------------------------------------- the bot processes
@dataclass
class Process:
    """A bot subprocess; its stderr kept (last lines) to show when something fails."""

    process: asyncio.subprocess.Process
    log: deque[str] = field(default_factory=lambda: deque(maxlen=200))
    warmed: asyncio.Event = field(default_factory=asyncio.Event)
    reader: asyncio.Task[None] | None = None

    @classmethod
    async def spawn(cls, module: str, env: dict[str, str], cwd: Path, profile: str = "") -> Process:
        """`python -m module`; under cProfile when `profile` names a folder (the file is written
        when the process exits)."""
        args = ["-m", module]
        if profile:
            args = ["-m", "cProfile", "-o", str(Path(profile) / f"{module}-{time.time():.0f}.prof"), *args]
        process = await asyncio.create_subprocess_exec(
            sys.executable, *args, env=env, cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        spawned = cls(process)
        spawned.reader = asyncio.create_task(spawned._read(), name=f"{module}-stderr")
        return spawned

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            line = raw.decode(errors="replace").rstrip()
            self.log.append(line)
            if WARMED in line:
                self.warmed.set()

    def cpu(self) -> float:
        """User + system CPU seconds of the process so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15)

    def rss(self) -> float:
        """Resident memory, MB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(30):
                code = await self.process.wait()
        except TimeoutError:
            self.process.kill()
            code = await self.process.wait()
        if self.reader is not None:
            await self.reader
        return code

    def tail(self, lines: int = 15) -> str:
        return "\n".join(list(self.log)[-lines:])


# ---------------------------------------------------------------------------- what the fake saw
class Replies:
    """The bot's answers to a set of chats, read from the fake's call log as it grows."""

    def __init__(self, tg: FakeTelegramServer, chats: set[int], errors: set[str]) -> None:
        self.tg, self.chats, self.errors = tg, chats, errors
        self.seen = len(tg.calls)
        self.calls: dict[int, list[Call]] = {}
        self.error_replies = 0
        self.last = 0.0

    def scan(self) -> None:
        calls = self.tg.calls
        for call in calls[self.seen :]:
            if not call.ok or call.method not in FEEDBACK:
                continue
            chat = int(call.params.get("chat_id", 0))
            if chat in self.chats:
                self.calls.setdefault(chat, []).append(call)
                self.last = max(self.last, call.timestamp)
                self.error_replies += call.params.get("text") in self.errors
        self.seen = len(calls)

    def answered(self, done: Callable[[list[Call]], bool]) -> int:
        self.scan()
        return sum(1 for calls in self.calls.values() if done(calls))


def sent_message(calls: list[Call]) -> bool:
    return any(call.method == "sendMessage" for call in calls)


def error_texts() -> set[str]:
    """What the bot says when an answer fails, in every language."""
    translations = Translations()
    keys = ("error-generic", "chat-answer-failed", "chat-exchange-down")
    return {translations.get(locale)(key) for locale in SUPPORTED_LOCALES for key in keys}
