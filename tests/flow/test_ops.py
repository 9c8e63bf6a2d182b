"""Issue 14, operations: /metrics after updates through the real dispatcher, /readyz following the
database and Redis going away and coming back, log lines that carry the update and user ids and no
secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import Message
from aiohttp import web
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.health import OpsServer, Readiness
from bot.logs import build_handler, secrets_of
from bot.metrics import METRIC_NAMES
from bot.runner import build_webhook_app, prepare, run_polling
from bot.settings import StartupError
from db.engine import create_sessionmaker
from services.market import MarketService
from services.scheduling.jobs import JobRunner
from services.scheduling.leader import LeaderElector, LocalLease
from services.scheduling.scheduler import Scheduler
from standins.openai_server import FakeOpenAI
from standins.telegram import FakeTelegramServer
from tests.backends import POSTGRES_ONLY, Backend
from tests.flow.chat_helpers import ask
from tests.flow.ops_helpers import TcpProxy, get_json, sample, scrape
from tests.harness import RunningBot, running_bot

log = logging.getLogger("tests.ops")


@pytest.fixture
async def ops(app_llm: RunningBot) -> AsyncIterator[OpsServer]:
    """Polling mode's ops server for the running bot, on a port the OS picks."""
    server = OpsServer(app_llm.resources.metrics, Readiness.of(app_llm.resources), "127.0.0.1", 0)
    await server.start()
    yield server
    await server.stop()


async def test_metrics_parse_and_count_what_the_bot_did(
    app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI, ops: OpsServer
) -> None:
    ann = tg.add_user("Ann", language_code="en")
    bob = tg.add_user("Bob", language_code="en")
    await tg.send_command(ann, "/start")
    tg.limiter.inject_429(2, chat_id=bob.id)  # Bob's answer gets one 429 first (the limiter retries it)
    await tg.send_command(bob, "/help")
    await tg.wait_for_messages(ann, 1)
    await tg.wait_for_messages(bob, 1)
    assert tg.count_429 == 1
    await ask(app_llm, tg, ann, "how does SOL look on the 4h?")
    await app_llm.settle()
    scheduler = app_llm.resources.scheduler
    assert scheduler is not None
    (refresh,) = [spec for spec in scheduler.jobs if spec.name == "markets-refresh"]
    await scheduler.runner.run(refresh)  # a per-replica job (every 4 h): runs here whoever leads

    families = await scrape(ops.bound_port)

    assert set(METRIC_NAMES) <= set(families), set(METRIC_NAMES) - set(families)
    for name, kind in METRIC_NAMES.items():
        assert families[name].type == kind, name
    assert sample(families["coinsight_updates"], "_total", type="message") == 3
    assert sample(families["coinsight_update_seconds"], "_count", type="message") == 3
    assert sample(families["coinsight_update_seconds"], "_bucket", type="message", le="+Inf") == 3
    requests = families["coinsight_llm_requests"].samples
    assert [(s.labels["outcome"], s.value) for s in requests if s.name.endswith("_total")] == [("ok", 1.0)]
    model = requests[0].labels["model"]
    assert sample(families["coinsight_llm_request_seconds"], "_count", model=model) == 1
    assert len(llm.chat_requests) == 1
    completion = sample(families["coinsight_llm_tokens"], "_total", model=model, kind="completion")
    assert completion > 0 and sample(families["coinsight_llm_tokens"], "_total", model=model, kind="prompt") > 0
    assert sample(families["coinsight_exchange_calls"], "_total", exchange="bybit") >= 1
    assert sample(families["coinsight_exchange_errors"], "_total", exchange="bybit") == 0
    assert sample(families["coinsight_exchange_circuit_state"], exchange="bybit") == 0
    assert sample(families["coinsight_exchange_markets_loaded"], exchange="bybit") == 1
    assert sample(families["coinsight_telegram_rate_limited"], "_total") == 1
    assert sample(families["coinsight_outbox_backlog"]) == 0
    assert sample(families["coinsight_outbox_oldest_pending_seconds"]) == 0
    assert sample(families["coinsight_scheduler_job_runs"], "_total", name="markets-refresh", outcome="ok") == 1
    assert sample(families["coinsight_scheduler_job_seconds"], "_count", name="markets-refresh") == 1
    assert sample(families["coinsight_active_users"], window="1d") == 2
    assert sample(families["coinsight_updates_in_flight"]) == 0


@POSTGRES_ONLY
async def test_readyz_follows_the_database_and_redis(
    tg: FakeTelegramServer, backend: Backend, settings_factory: Callable[..., Any]
) -> None:
    db_url, redis_url = make_url(backend.database_url), make_url(backend.redis_url)
    database = TcpProxy(db_url.host or "127.0.0.1", db_url.port or 5432)
    redis = TcpProxy(redis_url.host or "127.0.0.1", redis_url.port or 6379)
    await database.start()
    await redis.start()
    settings = settings_factory(
        database_url=db_url.set(host="127.0.0.1", port=database.port).render_as_string(hide_password=False),
        redis_url=str(redis_url.set(host="127.0.0.1", port=redis.port)),
    )
    try:
        async with running_bot(settings, tg) as running:
            resources = running.resources
            await resources.services.market.refresh_markets()
            assert resources.scheduler is not None
            elector = resources.scheduler.elector
            await elector.wait_until(lambda: elector.leader_known)
            server = OpsServer(resources.metrics, Readiness.of(resources, timeout=1.0), "127.0.0.1", 0)
            await server.start()
            try:
                status, body = await get_json(server.bound_port, "/readyz")
                assert (status, body["ready"]) == (200, True), body
                assert set(body["checks"]) == {"database", "redis", "exchanges", "scheduler"}
                await scrape(server.bound_port)  # the database numbers read once

                await redis.stop()
                status, body = await get_json(server.bound_port, "/readyz")
                assert (status, body["ready"]) == (503, False)
                failed = {name for name, check in body["checks"].items() if not check["ok"]}
                assert failed == {"redis"}, body
                assert body["checks"]["redis"]["error"]
                await redis.start()
                status, body = await get_json(server.bound_port, "/readyz")
                assert status == 200, body

                await database.stop()
                status, body = await get_json(server.bound_port, "/readyz")
                assert status == 503
                assert {name for name, check in body["checks"].items() if not check["ok"]} == {"database"}, body
                # /metrics still answers: the database numbers of the last read, and the failed read counted.
                metrics = resources.metrics
                assert metrics is not None
                metrics.refresh_seconds, metrics.timeout = 0.0, 1.0
                families = await scrape(server.bound_port)
                assert sample(families["coinsight_metrics_refresh_failures"], "_total") == 1
                assert sample(families["coinsight_outbox_backlog"]) == 0
                assert sample(families["coinsight_active_users"], window="1d") == 0
                assert (await get_json(server.bound_port, "/healthz")) == (200, {"ok": True})
                await database.start()
                status, body = await get_json(server.bound_port, "/readyz")
                assert status == 200, body
            finally:
                await server.stop()
    finally:
        await database.stop()
        await redis.stop()


async def test_log_lines_of_an_update_carry_its_ids_and_no_secret(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any]
) -> None:
    api_key = "sk-live-0123456789abcdefSECRET"
    settings = settings_factory(openai_api_key=api_key, openai_base_url="http://127.0.0.1:9/v1")
    token = settings.bot_token.get_secret_value()
    router = Router()

    @router.message(Command("boom"))
    async def boom(message: Message, bot: Bot) -> None:
        # What aiogram and aiohttp write when a request fails: the Bot API URL, token included.
        log.warning("request to %s failed", bot.session.api.api_url(token, "getMe"))
        raise RuntimeError(f"upstream said: bad key {api_key}")

    stream = io.StringIO()
    handler = build_handler("json", secrets_of(settings), stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        async with running_bot(settings, tg, [router]) as running:
            ann = tg.add_user("Ann", language_code="en")
            await tg.send_command(ann, "/boom")
            (answer,) = await tg.wait_for_messages(ann, 1)
            assert answer.plain_text.startswith("⚠️ Something went wrong")  # the error handler's generic line
            await running.settle()
            log.warning("after the update")
    finally:
        root.removeHandler(handler)

    text = stream.getvalue()
    assert token not in text and token.split(":")[1] not in text and api_key not in text
    lines = [json.loads(line) for line in text.splitlines()]
    (failing,) = [line for line in lines if line["msg"].startswith("request to ")]
    (error,) = [line for line in lines if line["logger"] == "coinsight.errors"]
    update_id = tg.updates.pushed[-1]["update_id"]
    assert (failing["update_id"], failing["user_id"]) == (update_id, ann.id)
    assert (error["update_id"], error["user_id"]) == (update_id, ann.id)  # outside the handler, inside the update
    assert "/bot***/getMe" in failing["msg"]
    assert "bad key ***" in error["exc"] and error["level"] == "ERROR"
    (after,) = [line for line in lines if line["msg"] == "after the update"]
    assert (after["update_id"], after["user_id"]) == (None, None)


async def test_webhook_mode_serves_metrics_and_health_beside_the_webhook(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any]
) -> None:
    settings = settings_factory(webhook_url="http://127.0.0.1/hook", webhook_secret="s3cret-hook")
    resources, bot, dp = await prepare(settings)
    resources.inflight.on_idle.append(tg.changed.notify)
    runner = web.AppRunner(build_webhook_app(settings, bot, dp), handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = runner.addresses[0][1]
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret-hook")
        ann = tg.add_user("Ann", language_code="en")
        await tg.send_command(ann, "/help")
        await tg.wait_for_messages(ann, 1)
        await RunningBot(settings, resources, bot, dp, tg).settle()
        await resources.services.market.refresh_markets()

        families = await scrape(port)
        assert sample(families["coinsight_updates"], "_total", type="message") == 1
        assert await get_json(port, "/healthz") == (200, {"ok": True})
        assert resources.scheduler is not None
        elector = resources.scheduler.elector
        await elector.wait_until(lambda: elector.leader_known)
        status, body = await get_json(port, "/readyz")
        assert (status, body["ready"]) == (200, True), body
    finally:
        await runner.cleanup()
    assert resources.closed


async def test_readyz_names_a_missing_exchange_and_an_unknown_scheduler_leader(engine: AsyncEngine) -> None:
    """Markets never loaded (no exchange usable) and an elector that never reached its lock: both named."""
    market = MarketService(["bybit", "okx"], api_urls={"bybit": "http://127.0.0.1:9", "okx": "http://127.0.0.1:9"})
    elector = LeaderElector(LocalLease(), lease_seconds=30, renew_seconds=10)
    scheduler = Scheduler(
        [], JobRunner(create_sessionmaker(engine), elector, "replica"), elector, misfire_grace_seconds=60
    )
    try:
        checks = await Readiness(engine, None, market, lambda: scheduler).check()
    finally:
        await market.close()
    assert checks["database"].ok
    assert not checks["exchanges"].ok
    assert checks["exchanges"].error == "no exchange reachable (bybit: markets not loaded, okx: markets not loaded)"
    assert not checks["scheduler"].ok and "leader unknown" in (checks["scheduler"].error or "")
    assert set(checks) == {"database", "exchanges", "scheduler"}


async def test_a_metrics_port_in_use_stops_the_start_with_one_line(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any]
) -> None:
    taken = OpsServer(None, None, "127.0.0.1", 0)
    await taken.start()
    try:
        settings = settings_factory(metrics_port=taken.bound_port, metrics_host="127.0.0.1")
        with pytest.raises(StartupError) as caught:
            await run_polling(settings)
    finally:
        await taken.stop()
    where = f"METRICS_HOST:METRICS_PORT (127.0.0.1:{settings.metrics_port})"
    assert str(caught.value).startswith(f"Cannot serve /metrics on {where}: ")
    assert "\n" not in str(caught.value)
    assert not tg.calls_to("getUpdates")
