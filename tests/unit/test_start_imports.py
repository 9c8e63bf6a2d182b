"""The bot's start path leaves the heavy modules alone: pandas, matplotlib and mplfinance load when the
first chart is drawn, TA-Lib when the runner's warm-up (or the first analysis) needs it, and then
without pandas; ccxt with the first exchange call (the markets' background load), openai with the
warm-up (or the first question), alembic only for `python -m bot migrate`. And the stand-ins stay out
of it: `python -m bot` imports bot.console's module only to call it, and they load on the call.
Checked in one fresh interpreter (a start costs seconds of CPU), since this test process has imported
them all already."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "matplotlib", "mplfinance", "talib")
LATER = ("ccxt", "openai", "alembic")  # not on the start path either

SCRIPT = """
import asyncio, gc, json, sys

import numpy as np

from bot.factory import build_resources, create_dispatcher
from bot.heap import pause_collection
from bot.runner import WarmUp
from bot.settings import load_settings
from services.market.indicators import ta

HEAVY = {heavy!r}
LATER = {later!r}


def loaded(names=HEAVY):
    return [name for name in names if name in sys.modules]


async def main():
    settings = load_settings(
        _env_file=None, bot_token="123456789:AAFakeTelegramTokenForTests_0123456", database_url={database!r},
        redis_url="", openai_api_key="sk-test", openai_base_url="http://127.0.0.1:9/v1", exchanges=["bybit"],
        exchange_api_urls={{"bybit": "http://127.0.0.1:9"}},
    )
    pause_collection()  # as `python -m bot run` does before its imports
    resources = build_resources(settings)
    create_dispatcher(resources)
    built = loaded(HEAVY + LATER)
    ready = asyncio.Event()  # the runner's: the first getUpdates went out
    warm = WarmUp(ready)
    llm = resources.services.llm
    assert llm is not None and not llm.connected
    await warm.start(llm)
    assert warm.task is not None
    for _ in range(20):
        await asyncio.sleep(0)
    waited = loaded() == [] and not warm.task.done()
    paused = not gc.isenabled()
    ready.set()
    await asyncio.wait_for(asyncio.shield(warm.task), 60)
    collecting = gc.isenabled()  # the warm-up's end turned the collector back on
    await warm.stop()
    connected = llm.connected
    later = loaded(LATER)
    await resources.close()
    ema = float(ta().EMA(np.arange(30.0), 10)[-1])
    result = {{
        "paused": paused, "collecting": collecting, "built": built, "waited": waited, "warmed": loaded(),
        "later": later, "connected": connected,
    }}
    # Last: `python -m bot` imports these modules too, and they import alembic for the migrate and demo
    # commands (checked above as not loaded by building and warming up the bot).
    import bot.__main__, bot.console

    result["standins"] = sorted(m for m in sys.modules if m == "standins" or m.startswith("standins."))
    print(json.dumps({{**result, "ema": ema, "frozen": gc.get_freeze_count() > 0}}))


asyncio.run(main())
"""


def test_start_path_leaves_heavy_modules_and_clients_for_later(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TEST_"))}
    env["PYTHONPATH"] = str(ROOT)
    script = SCRIPT.format(heavy=HEAVY, later=LATER, database=f"sqlite+aiosqlite:///{tmp_path / 'start.sqlite3'}")
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["standins"] == [], f"the production path loaded the stand-ins: {result['standins']}"
    assert result["built"] == [], f"imported while building the bot: {result['built']}"
    assert result["waited"], "the warm-up began before the bot was serving"
    assert result["warmed"] == ["talib"], f"after the warm-up: {result['warmed']}"
    assert result["frozen"], "the start-up heap is frozen once warmed up"
    assert result["paused"], "no collections while the bot starts"
    assert result["collecting"], "the collector is back on once the heap is frozen"
    assert result["later"] == ["ccxt", "openai"], f"after the warm-up: {result['later']}"
    assert result["connected"], "the warm-up creates the LLM client"
    assert abs(result["ema"] - 24.5) < 1e-9  # TA-Lib works without pandas: EMA10 of 0..29
