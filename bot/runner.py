"""Long polling and webhook runners with clean shutdown on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.factory import AppResources, build_resources, create_bot, create_dispatcher
from bot.health import OpsServer, Readiness, add_ops_routes
from bot.heap import freeze_startup_heap, resume_collection
from bot.settings import Settings, StartupError
from bot.startup import check_schema, check_services
from db.engine import warm_pool
from services.llm import LLMError, LLMService
from services.market.ccxt_loader import load_base as load_ccxt_base
from services.market.indicators import warm_up

logger = logging.getLogger(__name__)


class FirstPoll(BaseRequestMiddleware):
    """Sets `sent` when the bot's first getUpdates goes out: from then on the bot serves updates, and
    the warm-up's threads (importing holds the GIL for most of a second) no longer delay its start."""

    def __init__(self) -> None:
        self.sent = asyncio.Event()

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        if isinstance(method, GetUpdates):
            self.sent.set()
        return await make_request(bot, method)


# PostgreSQL connections opened at start (the outbox sender's claim and records, the first updates):
# a push or a burst right after a start no longer waits for connections opened one by one (~0.8 s
# for the first claims of two replicas in the outbox benchmark). The pool grows past it on demand.
WARM_CONNECTIONS = 4


async def check_token(bot: Bot) -> str:
    try:
        me = await bot.get_me()
    except TelegramUnauthorizedError:
        raise StartupError(
            "BOT_TOKEN was rejected by Telegram (401 Unauthorized): copy the token again from @BotFather."
        ) from None
    except TelegramNetworkError as exc:
        raise StartupError(f"Cannot reach the Telegram Bot API at the TELEGRAM_API_URL: {exc}") from None
    return me.username or str(me.id)


async def prepare(
    settings: Settings, extra_routers: Sequence[Router] = (), *, checked: bool = False
) -> tuple[AppResources, Bot, Dispatcher]:
    """Check what the bot needs, then build it. Never migrates: that is `python -m bot migrate`'s job,
    run once per deploy, so replicas starting together cannot race on the schema.

    Each problem stops the start with a one-line `StartupError`: an unreachable database or Redis, a
    database not at the code's revision, a token Telegram rejects. `checked`: `python -m bot` ran
    the service and schema checks a moment ago (`bot.startup.preflight`), so they are not repeated;
    the token is checked while the database pool warms up.
    """
    if not checked:
        await check_services(settings)
    resources = build_resources(settings)
    bot: Bot | None = None
    try:
        if not checked:
            await check_schema(resources.engine)
        services = resources.services
        bot = create_bot(settings, resources.limiter, rate_limits=services.rate_limits, backlog=services.backlog)
        _, username = await asyncio.gather(
            warm_pool(resources.engine, min(settings.db_pool_size, WARM_CONNECTIONS)), check_token(bot)
        )
    except StartupError:
        if bot is not None:
            await bot.session.close()
        await resources.close()
        raise
    logger.info("authorised as @%s", username)
    dp = create_dispatcher(resources, extra_routers)
    return resources, bot, dp


class WarmUp:
    """Heavy modules loaded in worker threads once the bot is up, so neither the start nor the first
    analysis or question waits for them: TA-Lib, ccxt (the markets' background load,
    `MarketService.start`, needs it at once anyway), and `openai` with the LLM client when one is
    configured. A dispatcher startup hook starts it (aiogram passes the `llm` service); it begins
    when `ready` is set (the first getUpdates, or the webhook registered); the runner stops it. Once
    all of them are loaded the start-up heap is frozen (`freeze_startup_heap`) and the "warmed up"
    log line comes."""

    def __init__(self, ready: asyncio.Event | None = None) -> None:
        self.task: asyncio.Task[None] | None = None
        self.ready = ready

    async def start(self, llm: LLMService | None = None) -> None:
        self.task = asyncio.create_task(self._run(llm, self.ready), name="warm-up")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        resume_collection()  # paused for the start (bot/heap.py): back on even if the warm-up never finished

    @staticmethod
    async def _run(llm: LLMService | None, ready: asyncio.Event | None) -> None:
        if ready is not None:
            await ready.wait()
        began = time.perf_counter()
        try:
            await asyncio.gather(WarmUp._talib(), WarmUp._ccxt(), WarmUp._llm(llm))
        finally:
            freeze_startup_heap()  # whatever happened to the warm-up: the collector is never left off
        logger.info("heavy modules warmed up in %.2f s", time.perf_counter() - began)

    @staticmethod
    async def _talib() -> None:
        try:
            await asyncio.to_thread(warm_up)
        except ImportError as exc:
            logger.error("TA-Lib could not be loaded (analyses will fail): %s", exc)

    @staticmethod
    async def _ccxt() -> None:
        try:
            await asyncio.to_thread(load_ccxt_base)
        except ImportError as exc:
            logger.error("ccxt could not be loaded (market data will fail): %s", exc)

    @staticmethod
    async def _llm(llm: LLMService | None) -> None:
        if llm is None:
            return
        try:
            await llm.warm_up()
        except (ImportError, LLMError) as exc:
            logger.error("the LLM client could not be created (answers will fail): %s", exc)


def ops_server(settings: Settings, resources: AppResources) -> OpsServer | None:
    """Polling mode's /metrics, /healthz and /readyz on METRICS_HOST:METRICS_PORT (0: none)."""
    if not settings.metrics_port:
        return None
    return OpsServer(resources.metrics, Readiness.of(resources), settings.metrics_host, settings.metrics_port)


async def run_polling(settings: Settings, *, checked: bool = False) -> None:
    resources, bot, dp = await prepare(settings, checked=checked)
    await bot.delete_webhook(drop_pending_updates=False)
    first_poll = FirstPoll()
    bot.session.middleware(first_poll)
    resources.serving = first_poll.sent  # the background work starts with the first poll
    warm = WarmUp(first_poll.sent)
    dp.startup.register(warm.start)  # after the app's own startup hooks: the bot serves first
    ops = ops_server(settings, resources)
    if ops is not None:
        try:
            await ops.start()
        except OSError as exc:
            await bot.session.close()
            await resources.close()
            where = f"METRICS_HOST:METRICS_PORT ({settings.metrics_host}:{settings.metrics_port})"
            raise StartupError(f"Cannot serve /metrics on {where}: {exc.strerror or exc}") from None
        logger.info("metrics and health on %s:%s", settings.metrics_host, settings.metrics_port)
    try:
        await dp.start_polling(
            bot,
            allowed_updates=dp.resolve_used_update_types(),
            handle_signals=True,
            tasks_concurrency_limit=settings.updates_concurrency,
        )
    finally:
        await warm.stop()
        if ops is not None:
            await ops.stop()


def webhook_path(url: str) -> str:
    path = urlsplit(url).path
    return path if path and path != "/" else "/webhook"


def build_webhook_app(settings: Settings, bot: Bot, dp: Dispatcher) -> web.Application:
    """Each delivery is answered at once and handled in the background; the dispatcher's in-flight
    middleware lets UPDATES_CONCURRENCY of them run at a time, the rest wait their turn (a burst
    waits longer instead of running thousands of handlers at once). /metrics, /healthz and /readyz
    are served beside the webhook (bot/health.py)."""
    app = web.Application()
    SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=settings.webhook_secret.get_secret_value()).register(
        app, path=webhook_path(settings.webhook_url)
    )
    resources: AppResources = dp["resources"]
    add_ops_routes(app, resources.metrics, Readiness.of(resources))
    setup_application(app, dp, bot=bot)
    return app


async def run_webhook(settings: Settings, stop: asyncio.Event | None = None, *, checked: bool = False) -> None:
    _resources, bot, dp = await prepare(settings, checked=checked)
    registered = asyncio.Event()
    warm = WarmUp(registered)
    dp.startup.register(warm.start)
    app = build_webhook_app(settings, bot, dp)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.web_host, settings.web_port)
    await site.start()
    logger.info("webhook server on %s:%s", settings.web_host, settings.web_port)
    # Registered once we listen, so Telegram's first delivery finds us.
    await bot.set_webhook(
        settings.webhook_url,
        secret_token=settings.webhook_secret.get_secret_value(),
        allowed_updates=dp.resolve_used_update_types(),
    )
    registered.set()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        logger.info("shutting down")
        await warm.stop()
        await runner.cleanup()  # runs the dispatcher's shutdown: drains updates, closes clients
