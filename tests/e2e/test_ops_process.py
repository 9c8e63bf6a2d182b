"""Issue 14 end to end: `python -m bot` in long polling with METRICS_PORT and LOG_FORMAT=json."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aiohttp

from standins.telegram import FakeTelegramServer
from tests.backends import POSTGRES_ONLY, Backend
from tests.e2e.conftest import free_port
from tests.flow.ops_helpers import get_json, sample, scrape


@POSTGRES_ONLY  # the production parts (PostgreSQL + Redis); tests/flow/test_ops.py covers both backends
async def test_polling_bot_serves_metrics_and_health_and_writes_json_lines(
    tg: FakeTelegramServer, backend: Backend, bot_process: Callable[..., Any]
) -> None:
    port = free_port()
    proc = await bot_process(METRICS_PORT=str(port), METRICS_HOST="127.0.0.1", LOG_FORMAT="json")
    ann = tg.add_user("Ann", language_code="en")
    await tg.send_command(ann, "/help")
    await tg.wait_for_messages(ann, 1, timeout=20)

    families = await scrape(port)
    assert sample(families["coinsight_updates"], "_total", type="message") == 1
    assert await get_json(port, "/healthz") == (200, {"ok": True})
    status, body = await get_json(port, "/readyz")
    checks = body["checks"]
    parts = {"database", "exchanges", "scheduler"} | ({"redis"} if backend.redis_url else set())
    assert set(checks) == parts  # Redis only when REDIS_URL is set
    assert checks["database"] == {"ok": True} and checks["scheduler"] == {"ok": True}
    assert checks.get("redis", {"ok": True}) == {"ok": True}
    assert status == (200 if all(check["ok"] for check in checks.values()) else 503)
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/hook") as response:
        assert response.status == 404  # polling mode: nothing but the ops endpoints

    assert await proc.stop() == 0
    assert proc.process.stderr is not None
    err = (await proc.process.stderr.read()).decode()
    lines = [json.loads(line) for line in err.splitlines()]
    assert any(line["msg"].startswith("authorised as @") for line in lines)
    assert any(line["msg"] == f"metrics and health on 127.0.0.1:{port}" for line in lines)
    assert tg.token not in err and tg.token.split(":")[1] not in err
