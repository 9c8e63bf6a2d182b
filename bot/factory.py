"""Factories that build the app-wide resources, the Bot and the Dispatcher.

`python -m bot`, console mode and the tests all use these, so tests run the production wiring.
Resources are created here (never at import time), put in the dispatcher's workflow data, and
closed by the dispatcher's shutdown hook.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import BotCommand
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.broadcasts import BroadcastProgress
from bot.configs import build_limiter, outgoing_limits, risk_config_from, signals_config_from
from bot.metrics import Metrics
from bot.middlewares import BannedNotice, ContextMiddleware, DbSessionMiddleware, InFlight, ThrottlingMiddleware
from bot.middlewares.observe import UpdateObserver, install_outermost
from bot.middlewares.reads import install as install_reads
from bot.outgoing import BotSession, RateLimitMiddleware
from bot.scheduler import build_scheduler
from bot.sender import OutboxSender
from bot.settings import Settings
from db.engine import create_engine, create_sessionmaker
from handlers import setup_routers
from handlers.callbacks import AlertAction, AlertCallback
from services.admin.prices import ModelPrice
from services.admin.throttled import RateLimitLog
from services.chat import AnswerGate, AnswerSlots, ChatService
from services.container import Services
from services.credits.charging import CreditsPolicy
from services.credits.config import CreditsConfig, answer_hold_ttl
from services.delivery import OutboxWake
from services.feeds.access import AdminCache
from services.i18n import SUPPORTED_LOCALES, Translations
from services.kv import KeyValueStore, RedisStore, build_store
from services.llm import LLMService
from services.market import MarketService
from services.market.chart_cache import ChartCache
from services.market.charts import CHART_STYLE, render_view
from services.market.retry import RetryPolicy
from services.ratelimit import (
    Backlog,
    LimiterBackend,
    MemoryLimiterBackend,
)
from services.risk import RiskEngine
from services.scheduling.scheduler import Scheduler
from services.signals.chart import render_signal_chart_async
from services.signals.engine import SignalEngine
from services.user_cache import LastSeen, Registrar, ViewCache

logger = logging.getLogger(__name__)

MENU_COMMANDS = (
    "start",
    "help",
    "new",
    "price",
    "chart",
    "balance",
    "history",
    "buy",
    "plan",
    "invite",
    "alert",
    "alerts",
    "position",
    "positions",
    "feeds",
    "subscribe",
    "unsubscribe",
    "linkchannel",
    "unlinkchannel",
    "performance",
    "paysupport",
    "language",
    "settings",
)


@dataclass(kw_only=True)
class AppResources:
    """Everything app-scoped: built once per process, closed once on shutdown."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    services: Services
    limiter: LimiterBackend
    registrar: Registrar  # the user and chat behind each update (cached views, batched last_seen)
    inflight: InFlight = field(default_factory=InFlight)
    sender: OutboxSender | None = None  # the outbox sender, started with the dispatcher
    broadcasts: BroadcastProgress | None = None  # edits /broadcast progress messages, started with the dispatcher
    scheduler: Scheduler | None = None  # the jobs (one leader across replicas), started with the dispatcher
    metrics: Metrics | None = None  # this app's Prometheus registry (bot/metrics.py)
    # Set once the bot serves updates (its first getUpdates): the background work below starts then,
    # so none of it delays the start. None: start it with the dispatcher (webhook mode, tests).
    serving: asyncio.Event | None = None
    starting: asyncio.Task[Any] | None = None  # the background start, waiting for `serving`
    background: set[asyncio.Task[Any]] = field(default_factory=set)
    closed: bool = False

    @property
    def store(self) -> KeyValueStore:
        return self.services.store

    @property
    def translations(self) -> Translations:
        return self.services.translations

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run app-scoped background work; tracked here (a failure is logged) and cancelled on close."""
        task = asyncio.create_task(coro, name=name)
        self.background.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task %s failed", task.get_name(), exc_info=task.exception())

    def workflow_data(self) -> dict[str, Any]:
        """What handlers and middlewares may ask for by name: the services (typed) and the resources
        object for the composition root's own hooks. Never the settings: handlers get what they need
        of the configuration through `Services`."""
        return {
            "resources": self,
            "sessionmaker": self.sessionmaker,
            "scheduler": self.scheduler,
            **self.services.workflow_data(),
        }

    def wake_sender(self) -> None:
        if self.sender is not None:
            self.sender.wake()

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.scheduler is not None:
            await self.scheduler.stop()
        for task in list(self.background):
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)
        await self.services.market.close()
        await self.services.chart_cache.close()
        if self.services.llm is not None:
            await self.services.llm.close()
        await self.services.store.close()
        await self.engine.dispose()


def build_resources(settings: Settings) -> AppResources:
    """Build (not start) every app-wide client. Nothing here talks to the network yet."""
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
    )
    store = build_store(settings.redis_url, settings.redis_prefix, max_connections=settings.redis_max_connections)
    # A reservation outlives the longest answer: every LLM attempt timing out, plus a margin.
    hold_ttl = answer_hold_ttl(settings.llm_timeout, settings.llm_max_retries, settings.hold_margin_seconds)
    credits_config = CreditsConfig(hold_ttl=hold_ttl)
    market = MarketService(
        settings.exchanges,
        api_urls=settings.exchange_api_urls,
        timeout_ms=settings.exchange_timeout_ms,
        store=store,
        retry=RetryPolicy(attempts=settings.exchange_attempts, base_delay=settings.exchange_retry_seconds),
    )
    llm: LLMService | None = None
    if settings.openai_api_key.get_secret_value():
        # Its client (and `openai`, ~0.6 s of imports) comes with the warm-up or the first question.
        llm = LLMService.configured(
            settings.openai_api_key.get_secret_value(),
            settings.openai_base_url or None,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
        )
    translations = Translations(settings.default_locale)
    chat_service = ChatService(
        market=market,
        llm=llm,
        charge=CreditsPolicy(credits_config),
        model=settings.llm_model,
        idle=timedelta(hours=settings.conversation_idle_hours),
        translations=translations,
    )
    chart_cache = ChartCache.threaded(
        store,
        render_view,
        workers=settings.chart_render_workers,
        style=CHART_STYLE,
        max_entries=settings.chart_cache_size,
        ttl=settings.chart_cache_ttl,
    )
    # Commits that change a user or chat drop its cached view.
    views = ViewCache(store, settings.user_cache_seconds)
    sessionmaker = create_sessionmaker(engine, views)
    risk_config = risk_config_from(settings)
    outbox_wake = OutboxWake()  # set after commits that enqueued deliveries; the sender waits on it
    services = Services(
        translations=translations,
        store=store,
        market=market,
        chart_cache=chart_cache,
        llm=llm,
        chat_service=chat_service,
        answer_gate=AnswerGate(store),
        answer_slots=AnswerSlots(settings.answer_concurrency),
        credits_config=credits_config,
        admin_ids=frozenset(settings.admin_ids),
        llm_prices={model: ModelPrice(*price) for model, price in settings.llm_prices.items()},
        rate_limits=RateLimitLog(store),
        backlog=Backlog(limit=settings.outgoing_per_second),
        feed_admins=AdminCache(store, settings.feeds_admin_cache_seconds),
        risk_config=risk_config,
        risk=RiskEngine(
            sessionmaker,
            market,
            translations,
            risk_config,
            on_enqueued=outbox_wake.set,
            rearm_callback=rearm_alert_callback,
        ),
        signals=SignalEngine(
            sessionmaker,
            market,
            translations,
            config=signals_config_from(settings),
            llm=llm,
            render_chart=partial(render_signal_chart_async, executor=chart_cache.executor),
            on_enqueued=outbox_wake.set,
        ),
        outbox_wake=outbox_wake,
        performance_min_signals=settings.performance_min_signals,
    )
    resources = AppResources(
        settings=settings,
        engine=engine,
        sessionmaker=sessionmaker,
        registrar=Registrar(cache=views, last_seen=LastSeen(sessionmaker)),
        inflight=InFlight(settings.updates_concurrency),
        services=services,
        limiter=build_limiter(settings, store),
    )
    last_seen = resources.registrar.last_seen
    resources.scheduler = build_scheduler(settings, sessionmaker, services, last_seen, outbox_wake.set)
    resources.metrics = Metrics.of(resources)
    return resources


def rearm_alert_callback(alert_id: int) -> str:
    """The "re-arm" button under a fired alert's message (handled by handlers/alerts.py)."""
    return AlertCallback(action=AlertAction.REARM_PUSHED, id=alert_id).pack()


def create_bot(
    settings: Settings,
    limiter: LimiterBackend | None = None,
    token: str | None = None,
    rate_limits: RateLimitLog | None = None,
    backlog: Backlog | None = None,
) -> Bot:
    """The Bot, with every Bot API call going through the one outgoing limiter (which counts the
    429s it gets in `rate_limits`, for /stats)."""
    session = BotSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    backend = limiter or MemoryLimiterBackend(limits=outgoing_limits(settings))
    on_429 = rate_limits.note if rate_limits is not None else None
    session.middleware(RateLimitMiddleware(backend, on_429=on_429, backlog=backlog))
    return Bot(
        token or settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def _fsm_storage(store: KeyValueStore) -> BaseStorage:
    if isinstance(store, RedisStore):
        return RedisStorage(store.redis, key_builder=DefaultKeyBuilder(prefix=store.prefix + "fsm"))
    return MemoryStorage()


def create_dispatcher(resources: AppResources, extra_routers: Sequence[Router] = ()) -> Dispatcher:
    settings = resources.settings
    dp = Dispatcher(storage=_fsm_storage(resources.store), **resources.workflow_data())
    install_outermost(dp.update.outer_middleware, UpdateObserver(resources.metrics))  # log ids, update metrics
    dp.update.outer_middleware(resources.inflight)
    dp.update.outer_middleware(DbSessionMiddleware(resources.sessionmaker))
    banned = BannedNotice(resources.store)
    dp.update.outer_middleware(ContextMiddleware(resources.translations, resources.registrar, banned))
    throttling = None
    if settings.throttle_enabled:
        throttling = ThrottlingMiddleware(resources.store, settings.throttle_rate, settings.throttle_period)
        dp.message.outer_middleware(throttling)
        dp.callback_query.outer_middleware(throttling)
    # The cached views, the flood counter and the FSM state: one store call per update.
    install_reads(dp, resources.inflight, resources.store, resources.registrar.cache, throttling)
    dp.include_router(setup_routers(extra_routers))
    dp.startup.register(_on_startup)
    dp.shutdown.register(_on_shutdown)
    return dp


async def set_commands(bot: Bot, translations: Translations) -> None:
    """The command menu in every language, the languages at once."""

    async def one(locale: str) -> None:
        t = translations.get(locale)
        commands = [BotCommand(command=name, description=t(f"cmd-{name}")) for name in MENU_COMMANDS]
        language = None if locale == translations.default_locale else locale
        await bot.set_my_commands(commands, language_code=language)

    await asyncio.gather(*(one(locale) for locale in SUPPORTED_LOCALES))


async def _on_startup(bot: Bot, translations: Translations, market: MarketService, resources: AppResources) -> None:
    if resources.serving is None:
        await _start_background(bot, translations, market, resources)
        return
    resources.starting = resources.spawn(_start_background(bot, translations, market, resources), "background-start")


async def _start_background(
    bot: Bot, translations: Translations, market: MarketService, resources: AppResources
) -> None:
    """The app's background work: the command menu, the markets, the outbox sender, broadcast
    progress and the scheduler. With `resources.serving`, once the first updates are being served:
    their first queries and calls (~0.5-1 s of CPU on PostgreSQL) no longer come before the first poll."""
    if resources.serving is not None:
        await resources.serving.wait()
    # The command menu is Telegram's to show, not something the first updates wait for.
    resources.spawn(set_commands(bot, translations), "set-commands")
    # Markets load in the background: a slow or unreachable exchange must not delay serving users
    # (market calls load them on demand as well); the scheduler reloads them every few hours.
    resources.spawn(market.start(), "load-markets")
    # Pushes (signals, alerts, broadcasts) waiting in the outbox, and those enqueued from now on.
    resources.sender = OutboxSender.from_settings(
        bot, resources.sessionmaker, resources.settings, wake=resources.services.outbox_wake
    )
    resources.spawn(resources.sender.run(), "outbox-sender")
    # Operators' /broadcast progress messages, edited from the outbox's counts until the summary.
    resources.broadcasts = BroadcastProgress(
        bot, resources.sessionmaker, resources.store, translations, resources.settings.broadcast_progress_seconds
    )
    resources.spawn(resources.broadcasts.run(), "broadcast-progress")
    # The jobs (bot/scheduler.py): hold sweeper, plan expiry, markets refresh, last_seen_at flushes, …
    if resources.scheduler is not None:
        await resources.scheduler.start()


SHUTDOWN_GRACE_SECONDS = 20.0
SENDER_GRACE_SECONDS = 10.0  # sends in flight finish and are recorded; later ones wait for a replica


async def _stop_sender(resources: AppResources) -> None:
    if resources.sender is not None:
        await resources.sender.stop(SENDER_GRACE_SECONDS)


async def _stop_scheduler(resources: AppResources) -> None:
    if resources.scheduler is not None:  # no new runs; runs in flight get their grace, then leadership goes
        await resources.scheduler.stop(min(resources.scheduler.stop_grace_seconds, SHUTDOWN_GRACE_SECONDS))


async def _on_shutdown(resources: AppResources) -> None:
    if resources.starting is not None:  # stopped before (or while) the background work started
        resources.starting.cancel()
        await asyncio.gather(resources.starting, return_exceptions=True)
    # The three side by side: the shutdown stays bounded by SHUTDOWN_GRACE_SECONDS, not their sum.
    drained, _, _ = await asyncio.gather(
        resources.inflight.drain(SHUTDOWN_GRACE_SECONDS), _stop_sender(resources), _stop_scheduler(resources)
    )
    if not drained:
        logger.warning("%d updates still in flight at shutdown", resources.inflight.count)
    try:
        await resources.registrar.last_seen.flush()
    except (SQLAlchemyError, OSError) as exc:
        logger.warning("last_seen_at of %d users not written: %s", resources.registrar.last_seen.pending, exc)
    await resources.close()
