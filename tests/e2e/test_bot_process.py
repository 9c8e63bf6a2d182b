"""Issue 2 end to end: the bot process, the fake Bot API, and nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from db import migrate
from standins.telegram import FakeTelegramServer
from tests.backends import POSTGRES_ONLY, SQLITE_ONLY, Backend
from tests.e2e.conftest import bot_env, free_port, spawn

SLOW_DOWN = "⏳ You're sending messages too fast. Please slow down — I'll answer again in a moment."
WELL_FORMED_TOKEN = "999:AAH4x_9-kQmZ0pLr3sTuVwXyZaBcDeFgHiJ"  # Telegram's shape; the stand-in rejects it


# Backend-independent behaviour: run once, on the default embedded parts (flow tests cover both backends).
@SQLITE_ONLY
async def test_language_from_telegram_and_from_choice(tg: FakeTelegramServer, bot_process: Callable[..., Any]) -> None:
    await bot_process()
    ann = tg.add_user("Ann", language_code="en")
    li = tg.add_user("李雷", language_code="zh-hans")
    await tg.send_command(li, "/start")
    await tg.send_command(ann, "/start")
    (zh,) = await tg.wait_for_messages(li, 1, timeout=20)
    (en,) = await tg.wait_for_messages(ann, 1, timeout=20)
    assert zh.plain_text.startswith("👋 你好，李雷！")
    assert en.plain_text.startswith("👋 Hi, Ann!")
    await tg.send_command(ann, "/language")
    await tg.wait_for_messages(ann, 2, timeout=20)
    await tg.press_button(ann, "中文")
    await tg.wait_until(lambda: tg.bot_texts(ann)[-1] == "✅ 语言已切换为中文。", timeout=20, what="language set")
    await tg.send_command(ann, "/help")
    messages = await tg.wait_for_messages(ann, 3, timeout=20)
    assert messages[-1].plain_text.startswith("我能做什么")


async def test_flood_gets_exactly_one_slow_down(tg: FakeTelegramServer, bot_process: Callable[..., Any]) -> None:
    # One command served per minute: the flood's answer is one help and one warning, a chat's burst.
    await bot_process(THROTTLE_RATE="1", THROTTLE_PERIOD="60")
    ann = tg.add_user("Ann", language_code="en")
    for _ in range(30):
        await tg.send_command(ann, "/help")
    await tg.wait_until(
        lambda: not tg.updates.pending and SLOW_DOWN in tg.bot_texts(ann), timeout=20, what="the flood taken, a warning"
    )
    # A second warning would follow the first two messages within a pacing step: wait for it, bounded.
    with pytest.raises(TimeoutError):
        await tg.wait_until(lambda: tg.bot_texts(ann).count(SLOW_DOWN) > 1, timeout=2, what="a second warning")
    assert any(t.startswith("What I can do") for t in tg.bot_texts(ann))
    assert tg.count_429 == 0


def _help_update(update_id: int, user_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 10_000 + update_id,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Ann"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Ann", "language_code": "en"},
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }


@POSTGRES_ONLY  # webhook mode is how replicas run: on the production parts
async def test_webhook_checks_the_secret(tg: FakeTelegramServer, bot_process: Callable[..., Any]) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg/hook"
    await bot_process(
        wait_for="setWebhook", WEBHOOK_URL=url, WEBHOOK_SECRET="right_secret", WEB_HOST="127.0.0.1", WEB_PORT=str(port)
    )
    (registered,) = tg.calls_to("setWebhook")
    assert registered.params["url"] == url and registered.params["secret_token"] == "right_secret"
    ann = tg.add_user("Ann", language_code="en")
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            async with http.post(url, json=_help_update(1, ann.id), headers=headers) as response:
                assert response.status == 401
        async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
            assert response.status == 200 and (await response.json())["ok"] is True
    assert tg.bot_messages(ann) == []
    # Through the fake's own webhook delivery (with the registered secret): processed.
    await tg.send_command(ann, "/help")
    (reply,) = await tg.wait_for_messages(ann, 1, timeout=20)
    assert reply.plain_text.startswith("What I can do")
    assert tg.webhook_deliveries[-1].status == 200
    # Had a refused update been processed too (it was posted first), its answer would come as well.
    with pytest.raises(TimeoutError):
        await tg.wait_for_messages(ann, 2, timeout=1)


@SQLITE_ONLY
async def test_console_mode_answers_start(backend: Backend, tmp_path: Path) -> None:
    env = bot_env(backend, BOT_TOKEN="", LANG="en_US.UTF-8")
    proc = await spawn(["console"], env, tmp_path, stdin=b"/start\n/language\n2\n")
    out, err = await asyncio.wait_for(proc.process.communicate(), 90)
    text = out.decode()
    assert proc.process.returncode == 0, err.decode()[-2000:]
    assert "you> /start" in text
    assert "bot> 👋 Hi," in text and "I'm Coinsight" in text
    assert "[1] English  [2] 中文" in text
    assert "✅ 语言已切换为中文。" in text
    assert "Traceback" not in err.decode()


async def test_missing_token_without_terminal_exits_with_one_line(backend: Backend, tmp_path: Path) -> None:
    proc = await spawn([], bot_env(backend, BOT_TOKEN=""), tmp_path)
    _, err = await asyncio.wait_for(proc.process.communicate(), 60)
    assert proc.process.returncode == 2
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert lines == [lines[0]] and lines[0].startswith("BOT_TOKEN is not set")


async def test_bad_configuration_names_the_variable(backend: Backend, tmp_path: Path) -> None:
    for variable, value in (("DATABASE_URL", "mysql://x@y/z"), ("ADMIN_IDS", "1,two")):
        proc = await spawn([], bot_env(backend, BOT_TOKEN=WELL_FORMED_TOKEN, **{variable: value}), tmp_path)
        _, err = await asyncio.wait_for(proc.process.communicate(), 60)
        assert proc.process.returncode == 2
        assert err.decode().strip().splitlines() == [err.decode().strip()]
        assert err.decode().startswith(f"Invalid {variable}:")


@SQLITE_ONLY
async def test_rejected_token_is_said_plainly(tg: FakeTelegramServer, backend: Backend, tmp_path: Path) -> None:
    env = bot_env(backend, BOT_TOKEN=WELL_FORMED_TOKEN, TELEGRAM_API_URL=tg.base_url)
    proc = await spawn([], env, tmp_path)
    _, err = await asyncio.wait_for(proc.process.communicate(), 60)
    assert proc.process.returncode == 2
    assert "BOT_TOKEN was rejected by Telegram (401 Unauthorized)" in err.decode()
    assert "Traceback" not in err.decode()


async def test_migrate_and_downgrade_commands(backend: Backend, tmp_path: Path) -> None:
    env = bot_env(backend)
    head = migrate.head_revision()
    for args, expected in ((["downgrade", "base"], "revision None"), (["migrate"], f"revision {head}")):
        proc = await spawn(args, env, tmp_path)
        out, err = await asyncio.wait_for(proc.process.communicate(), 60)
        assert proc.process.returncode == 0, err.decode()[-2000:]
        assert expected in out.decode()


async def _fails_with_one_line(args: list[str], env: dict[str, str], cwd: Path) -> str:
    proc = await spawn(args, env, cwd)
    _, err = await asyncio.wait_for(proc.process.communicate(), 60)
    text = err.decode()
    assert proc.process.returncode == 2, text[-2000:]
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text[-2000:]
    return lines[0]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("BOT_TOKEN", "12345:abc", "Invalid BOT_TOKEN: not a bot token"),
        ("LLM_TIMEOUT", "-1", "Invalid LLM_TIMEOUT: input should be greater than 0"),
        ("EXCHANGES", "bybit,nosuchexchange", "Invalid EXCHANGES: unknown exchange id nosuchexchange"),
        ("DATABASE_URL", "postgresql+asyncpg://coinsight@127.0.0.1:{port}/coinsight", "Cannot connect to the database"),
        ("REDIS_URL", "redis://127.0.0.1:{port}/0", "Cannot connect to Redis at REDIS_URL (redis://127.0.0.1:"),
    ],
)
async def test_startup_misconfiguration_is_one_line(tmp_path: Path, variable: str, value: str, expected: str) -> None:
    database = tmp_path / "empty.sqlite3"
    sqlite = Backend("sqlite", f"sqlite+aiosqlite:///{database}", "")
    env = bot_env(sqlite, **{"BOT_TOKEN": WELL_FORMED_TOKEN, variable: value.format(port=free_port())})
    line = await _fails_with_one_line([], env, tmp_path)
    assert line.startswith(expected)
    assert variable in line
    # Stopped before anything else: nothing was migrated.
    if database.exists():
        with contextlib.closing(sqlite3.connect(database)) as db:
            assert db.execute("SELECT name FROM sqlite_master").fetchall() == []


@POSTGRES_ONLY
async def test_missing_postgres_database_is_one_line(backend: Backend, tmp_path: Path) -> None:
    url = make_url(backend.database_url).set(database="coinsight_no_such_db").render_as_string(hide_password=False)
    line = await _fails_with_one_line([], bot_env(backend, BOT_TOKEN=WELL_FORMED_TOKEN, DATABASE_URL=url), tmp_path)
    assert line.startswith("Cannot connect to the database at DATABASE_URL")
    assert 'database "coinsight_no_such_db" does not exist' in line


async def test_a_database_behind_the_code_stops_the_bot(backend: Backend, engine: AsyncEngine, tmp_path: Path) -> None:
    head, previous = migrate.revisions_in_order()[-1], migrate.revisions_in_order()[-2]
    env = bot_env(backend, BOT_TOKEN=WELL_FORMED_TOKEN)
    for target, shown in ((previous, previous), ("base", "none (empty)")):
        await migrate.downgrade(engine, target)
        line = await _fails_with_one_line([], env, tmp_path)
        assert line == f"the database is at revision {shown}, the code needs {head}: run `python -m bot migrate`"
        assert await migrate.current_revision(engine) == (None if target == "base" else target)  # not migrated


async def test_console_mode_migrates_its_own_sqlite_database(tmp_path: Path) -> None:
    database = tmp_path / "fresh" / "console.sqlite3"
    env = bot_env(Backend("sqlite", f"sqlite+aiosqlite:///{database}", ""), BOT_TOKEN="", LANG="en_US.UTF-8")
    proc = await spawn(["console"], env, tmp_path, stdin=b"/start\n")
    out, err = await asyncio.wait_for(proc.process.communicate(), 90)
    assert proc.process.returncode == 0, err.decode()[-2000:]
    assert "bot> 👋 Hi," in out.decode()
    assert "database at revision" not in out.decode()  # stdout is the conversation only


async def test_help_describes_the_commands_and_the_configuration(tmp_path: Path) -> None:
    proc = await spawn(["--help"], bot_env(Backend("sqlite", "sqlite+aiosqlite:///unused.sqlite3", "")), tmp_path)
    out, _ = await asyncio.wait_for(proc.process.communicate(), 60)
    text = out.decode()
    assert proc.process.returncode == 0
    for command in ("run", "console", "demo", "migrate", "downgrade"):
        assert f"\n  {command} " in text
    assert ".env.example" in text and "README.md" in text and "console mode" in text
