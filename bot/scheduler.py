"""The scheduler's wiring: its lease (which lock elects the leader) and the job registry.

Every job is a `JobSpec(name, trigger, func)` where `func(tick)` is awaited at each tick (the
scheduled time, the same on every replica). Leader-only jobs run on one replica and once per tick;
`leader_only=False` jobs (this process's own upkeep) run on every replica. `build_jobs` is the
registry: add a job there, in one line.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from handlers.callbacks import BuyCallback
from services.container import Services
from services.credits.holds import sweep_expired_holds
from services.credits.payments import ProductKind
from services.kv import KeyValueStore, RedisStore
from services.market import MarketService
from services.scheduling.jobs import JobRunner, JobSpec, candle_close, every, ignoring_tick, market_scan_jobs
from services.scheduling.leader import LeaderElector, Lease, LocalLease, PostgresLease, RedisLease
from services.scheduling.plan_expiry import PlanExpiry
from services.scheduling.scheduler import Scheduler
from services.signals.digest import run_digests
from services.signals.outcomes import CostTable
from services.signals.tracker import OutcomeTracker
from services.user_cache import LastSeen

Wake = Callable[[], None]


def scheduler_owner() -> str:
    """Who claims a run in `scheduler_runs`: host, pid and a random tag (≤ 64 characters)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def build_lease(settings: Settings, store: KeyValueStore, owner: str) -> Lease:
    if isinstance(store, RedisStore):
        return RedisLease(store.redis, store.prefix + "scheduler:leader", owner, settings.scheduler_lease_seconds)
    if make_url(settings.database_url).get_backend_name() == "postgresql":
        return PostgresLease(settings.database_url)
    return LocalLease()


def renew_plan_callback(plan_code: str) -> str:
    """The "renew" button of plan reminders: the /buy plan button (handlers/payments.py)."""
    return BuyCallback(kind=ProductKind.PLAN, code=plan_code).pack()


async def _refresh_markets(market: MarketService) -> dict[str, str]:
    """Reload this process's exchange markets; the failures (exchange → error) are what gets logged."""
    return {exchange: error for exchange, error in (await market.refresh_markets()).items() if error}


def _waking(func: Callable[[], Awaitable[int]], wake: Wake) -> Callable[[datetime], Awaitable[object]]:
    """A job that enqueues deliveries, then wakes this process's outbox sender if it did."""

    async def run(_tick: datetime) -> object:
        enqueued = await func()
        if enqueued:
            wake()
        return enqueued

    return run


def build_jobs(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    services: Services,
    last_seen: LastSeen,
    runner: JobRunner,
    wake: Wake,
) -> list[JobSpec]:
    """The job registry."""
    expiry = PlanExpiry(
        sessionmaker=sessionmaker, translations=services.translations, renew_callback=renew_plan_callback
    )
    keep = timedelta(hours=settings.scheduler_runs_keep_hours)
    sweep = ignoring_tick(partial(sweep_expired_holds, sessionmaker))
    refresh = ignoring_tick(partial(_refresh_markets, services.market))
    outcomes = OutcomeTracker(
        sessionmaker,
        services.market,
        services.translations,
        CostTable(fees=dict(settings.signal_fees), slippage_pct=settings.signal_slippage_pct),
        on_enqueued=wake,
    )
    return [
        # Holds and free-quota slots a crash left behind (answer never settled), released once expired.
        JobSpec("hold-sweeper", every(settings.hold_sweep_seconds), sweep),
        JobSpec("plan-reminders", every(settings.plan_check_seconds), _waking(expiry.remind, wake)),
        JobSpec("plan-downgrades", every(settings.plan_check_seconds), _waking(expiry.downgrade, wake)),
        JobSpec("scheduler-prune", every(3600), partial(runner.prune, keep)),
        # This process's own upkeep, on every replica: new exchange listings, batched last_seen_at.
        JobSpec("markets-refresh", every(settings.markets_refresh_hours * 3600), refresh, leader_only=False),
        JobSpec(
            "last-seen", every(settings.last_seen_flush_seconds), ignoring_tick(last_seen.flush), leader_only=False
        ),
        # Risk: armed alerts and open positions against one ticker batch per exchange, every minute
        # (the fired ones go through the outbox, which the engine wakes itself).
        JobSpec("risk-tick", candle_close("1m", settings.scan_delay_seconds), services.risk.tick),
        # Signal outcomes: open signals graded at each 5-minute close (the shortest signal timeframe;
        # an expiry is seen within 5 minutes), each chat told once, in reply to its signal.
        JobSpec("signal-outcomes", candle_close("5m", settings.scan_delay_seconds), outcomes.run),
        # Market scans at candle closes for what feeds, alerts and positions need: snapshots, candle
        # highs/lows for alerts (RISK_CANDLE_TIMEFRAME), market risk for risk feeds, then the signals
        # strategy for what signals feeds follow.
        *market_scan_jobs(_scan(services), scan_timeframes(settings), settings.scan_delay_seconds),
        # The weekly track-record digest for signals feeds with `digest` on, at each weekly close.
        JobSpec("signals-digest", candle_close("1w", settings.scan_delay_seconds), _digest(sessionmaker, services)),
    ]


def scan_timeframes(settings: Settings) -> list[str]:
    """SCAN_TIMEFRAMES plus the timeframe whose candles the alerts are checked against."""
    return list(dict.fromkeys([*settings.scan_timeframes, settings.risk_candle_timeframe]))


def _scan(services: Services) -> Callable[[str, datetime], Awaitable[object]]:
    """Risk first (snapshots, alerts, market risk), then signals: the candles the risk scan fetched
    are in the market cache, so the signals engine's requests for the same coins are cache hits."""

    async def scan(timeframe: str, tick: datetime) -> object:
        risk = await services.risk.scan(tick, timeframe)
        signals = await services.signals.scan(tick, timeframe)
        return (risk, signals) if signals else risk

    return scan


def _digest(
    sessionmaker: async_sessionmaker[AsyncSession], services: Services
) -> Callable[[datetime], Awaitable[object]]:
    async def digest(tick: datetime) -> object:
        return await run_digests(
            sessionmaker,
            services.translations,
            tick,
            min_signals=services.performance_min_signals,
            wake=services.outbox_wake,
        )

    return digest


def build_scheduler(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    services: Services,
    last_seen: LastSeen,
    wake: Wake,
) -> Scheduler:
    """Built with the app's resources (nothing connects yet); started by the dispatcher's startup."""
    owner = scheduler_owner()
    elector = LeaderElector(
        build_lease(settings, services.store, owner),
        lease_seconds=settings.scheduler_lease_seconds,
        renew_seconds=settings.scheduler_renew_seconds,
    )
    runner = JobRunner(sessionmaker, elector, owner)
    jobs = build_jobs(settings, sessionmaker, services, last_seen, runner, wake)
    return Scheduler(
        jobs,
        runner,
        elector,
        misfire_grace_seconds=settings.scheduler_misfire_seconds,
        stop_grace_seconds=settings.scheduler_stop_grace_seconds,
    )
