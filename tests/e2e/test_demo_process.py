"""`python -m bot demo` (what `make demo` runs) as a new user runs it: no token, no keys, no internet."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from tests.backends import Backend
from tests.e2e.conftest import bot_env, spawn


async def test_demo_command_shows_a_labelled_analysis_and_a_chart(tmp_path: Path) -> None:
    env = bot_env(Backend("sqlite", "sqlite+aiosqlite:///unused.sqlite3", ""), BOT_TOKEN="", LANG="en_US.UTF-8")
    env.pop("USER", None)
    env.pop("LOGNAME", None)
    # Any proxy or real endpoint in the environment must not matter: the demo talks to 127.0.0.1 only.
    env.update(OPENAI_API_KEY="sk-real-key-unused", EXCHANGE_API_URLS="bybit=http://127.0.0.1:9")
    proc = await spawn(["demo"], env, tmp_path, stdin=b"/start\nBTC 4h\n")
    out, err = await asyncio.wait_for(proc.process.communicate(), 120)
    text, errors = out.decode(), err.decode()
    assert proc.process.returncode == 0, errors[-2000:]
    assert "Traceback" not in errors and "Traceback" not in text
    assert "Hi, Trader!" in text
    assert "bot> 🧪 Demo data — not live market prices\nBTC/USDT · 4h — demo analysis" in text
    assert "[photo saved to console-media/chart-" in text
    assert (tmp_path / "data" / "demo.sqlite3").is_file()
    assert "Start polling" in (tmp_path / "data" / "console.log").read_text(encoding="utf-8")
    assert not (tmp_path / "unused.sqlite3").exists()  # the demo keeps its own database
    assert os.listdir(tmp_path / "console-media")
