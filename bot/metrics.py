"""Prometheus metrics: one registry per app (never prometheus_client's global one, so several
dispatchers in one test process do not clash), built here in the composition root.

Events are counted as they happen through the services' own hooks (`LLMService.observers`,
`JobRunner.observers`, subscribed by `Metrics.of`) and the outermost update middleware
(`UpdateObserver`). What the app already keeps (the market service's `status()`, the outbox
sender's counters, the scheduler's elector, the in-flight count) is read at scrape time by
`StateCollector`. The numbers that need the database (outbox backlog and oldest pending age, active
users) are refreshed by `refresh()`, which `/metrics` awaits before rendering, at most every
`refresh_seconds`.

Every metric's name starts with `coinsight_`; `METRIC_NAMES` lists the families (deploy/alerts.yml
may use only these, a test checks it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy.exc import SQLAlchemyError

from db.models import utcnow
from db.repositories.admin_stats import AdminStatsRepository
from services.delivery.stats import OutboxStats
from services.llm.client import LLMCall
from services.scheduling.jobs import JobRun

if TYPE_CHECKING:
    from bot.factory import AppResources

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BREAKER_STATES = {"closed": 0.0, "half-open": 1.0, "open": 2.0}
UPDATE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
LLM_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0)
ACTIVE_WINDOWS = ("1d", "7d", "30d")

# name (as the text format writes it, without _total/_bucket suffixes) → type
METRIC_NAMES: dict[str, str] = {
    "coinsight_updates": "counter",
    "coinsight_update_seconds": "histogram",
    "coinsight_updates_in_flight": "gauge",
    "coinsight_llm_requests": "counter",
    "coinsight_llm_request_seconds": "histogram",
    "coinsight_llm_tokens": "counter",
    "coinsight_exchange_calls": "counter",
    "coinsight_exchange_errors": "counter",
    "coinsight_exchange_circuit_state": "gauge",
    "coinsight_exchange_markets_loaded": "gauge",
    "coinsight_outbox_backlog": "gauge",
    "coinsight_outbox_oldest_pending_seconds": "gauge",
    "coinsight_outbox_sent": "counter",
    "coinsight_outbox_retried": "counter",
    "coinsight_outbox_rate_limited": "counter",
    "coinsight_outbox_dead": "counter",
    "coinsight_telegram_rate_limited": "counter",
    "coinsight_scheduler_job_runs": "counter",
    "coinsight_scheduler_job_seconds": "histogram",
    "coinsight_scheduler_leader": "gauge",
    "coinsight_scheduler_leader_known": "gauge",
    "coinsight_active_users": "gauge",
    "coinsight_metrics_refresh_failures": "counter",
}


@dataclass
class DatabaseNumbers:
    """What `refresh` read from the database last."""

    outbox: OutboxStats | None = None
    active_users: dict[str, int] | None = None
    refreshed_at: float | None = None
    failures: int = 0


class Metrics:
    """The app's registry and metrics. `observe_*` are the hooks; `render` is /metrics."""

    def __init__(
        self,
        resources: AppResources,
        *,
        refresh_seconds: float = 15.0,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.resources = resources
        self.refresh_seconds = refresh_seconds
        self.timeout = timeout
        self.clock = clock
        self.numbers = DatabaseNumbers()
        self._refreshing = asyncio.Lock()
        self.registry = registry = CollectorRegistry()
        self.updates = Counter("coinsight_updates", "Updates received, by type.", ["type"], registry=registry)
        self.update_seconds = Histogram(
            "coinsight_update_seconds",
            "From an update reaching the dispatcher to the end of its handling (waiting for a slot included).",
            ["type"],
            buckets=UPDATE_BUCKETS,
            registry=registry,
        )
        self.llm_requests = Counter(
            "coinsight_llm_requests",
            "Model requests by model and outcome (ok, abandoned, or the error's class).",
            ["model", "outcome"],
            registry=registry,
        )
        self.llm_seconds = Histogram(
            "coinsight_llm_request_seconds",
            "Duration of model requests (streamed to the end).",
            ["model"],
            buckets=LLM_BUCKETS,
            registry=registry,
        )
        self.llm_tokens = Counter(
            "coinsight_llm_tokens", "Tokens used, by model and kind (prompt, completion).", ["model", "kind"],
            registry=registry,
        )  # fmt: skip
        self.job_runs = Counter(
            "coinsight_scheduler_job_runs",
            "Scheduler job runs on this replica, by job name and outcome (ok, failed).",
            ["name", "outcome"],
            registry=registry,
        )
        self.job_seconds = Histogram(
            "coinsight_scheduler_job_seconds", "Duration of job runs, by job name.", ["name"], buckets=JOB_BUCKETS,
            registry=registry,
        )  # fmt: skip
        registry.register(StateCollector(self))

    @classmethod
    def of(cls, resources: AppResources) -> Metrics:
        """The app's metrics, subscribed to its LLM's and scheduler's events."""
        metrics = cls(resources)
        if resources.services.llm is not None:
            resources.services.llm.observers.append(metrics.observe_llm)
        if resources.scheduler is not None:
            resources.scheduler.runner.observers.append(metrics.observe_job)
        return metrics

    # ------------------------------------------------------------------ events
    def observe_update(self, kind: str, seconds: float) -> None:
        self.updates.labels(kind).inc()
        self.update_seconds.labels(kind).observe(seconds)

    def observe_llm(self, call: LLMCall) -> None:
        self.llm_requests.labels(call.model, call.error or "ok").inc()
        if call.usage is not None:
            self.llm_seconds.labels(call.model).observe(call.seconds)
            self.llm_tokens.labels(call.model, "prompt").inc(call.usage.prompt_tokens)
            self.llm_tokens.labels(call.model, "completion").inc(call.usage.completion_tokens)

    def observe_job(self, run: JobRun) -> None:
        self.job_runs.labels(run.name, "failed" if run.failed else "ok").inc()
        self.job_seconds.labels(run.name).observe(run.seconds)

    # ------------------------------------------------------------------ scrape
    async def refresh(self) -> None:
        """Read the database numbers again if the last read is older than `refresh_seconds`; a failure
        keeps the old numbers (and counts in coinsight_metrics_refresh_failures_total)."""
        async with self._refreshing:
            last = self.numbers.refreshed_at
            if last is not None and self.clock() - last < self.refresh_seconds:
                return
            try:
                async with asyncio.timeout(self.timeout):
                    outbox = await self._outbox()
                    active = await self._active_users()
            except (SQLAlchemyError, OSError, TimeoutError) as exc:
                self.numbers.failures += 1
                log.warning("metrics: database numbers not refreshed: %s", type(exc).__name__)
                return
            self.numbers.outbox, self.numbers.active_users = outbox, active
            self.numbers.refreshed_at = self.clock()

    async def _outbox(self) -> OutboxStats | None:
        sender = self.resources.sender
        return await sender.stats() if sender is not None else None

    async def _active_users(self) -> dict[str, int]:
        now = utcnow()
        async with self.resources.sessionmaker() as session:
            counts = await AdminStatsRepository(session).users(now - timedelta(days=1), now)
        return {"1d": counts.active_1d, "7d": counts.active_7d, "30d": counts.active_30d}

    async def render(self) -> bytes:
        await self.refresh()
        return generate_latest(self.registry)


class StateCollector:
    """What the app already keeps, read at scrape time (nothing here does I/O)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        resources = self.metrics.resources
        yield GaugeMetricFamily(
            "coinsight_updates_in_flight", "Updates being handled or waiting for a slot.", resources.inflight.count
        )
        yield from self._exchanges()
        yield from self._outbox()
        yield from self._scheduler()
        active = GaugeMetricFamily(
            "coinsight_active_users", "Users seen within the window (from the database).", labels=["window"]
        )
        for window, count in (self.metrics.numbers.active_users or {}).items():
            active.add_metric([window], count)
        yield active
        yield CounterMetricFamily(
            "coinsight_metrics_refresh_failures",
            "Scrapes whose database numbers could not be read.",
            self.metrics.numbers.failures,
        )

    def _exchanges(self) -> Iterator[Metric]:
        calls = CounterMetricFamily("coinsight_exchange_calls", "Exchange requests (attempts).", labels=["exchange"])
        errors = CounterMetricFamily("coinsight_exchange_errors", "Failed exchange requests.", labels=["exchange"])
        state = GaugeMetricFamily(
            "coinsight_exchange_circuit_state", "Circuit breaker: 0 closed, 1 half-open, 2 open.", labels=["exchange"]
        )
        loaded = GaugeMetricFamily(
            "coinsight_exchange_markets_loaded", "1 when the exchange's markets are loaded.", labels=["exchange"]
        )
        for status in self.metrics.resources.services.market.status():
            calls.add_metric([status.exchange], status.calls)
            errors.add_metric([status.exchange], status.errors)
            state.add_metric([status.exchange], BREAKER_STATES.get(status.breaker, 2.0))
            loaded.add_metric([status.exchange], 1.0 if status.markets_loaded else 0.0)
        yield from (calls, errors, state, loaded)

    def _outbox(self) -> Iterator[Metric]:
        sender = self.metrics.resources.sender
        stats = self.metrics.numbers.outbox
        backlog = GaugeMetricFamily("coinsight_outbox_backlog", "Deliveries still to send (all replicas).")
        oldest = GaugeMetricFamily(
            "coinsight_outbox_oldest_pending_seconds", "Age of the oldest delivery still to send."
        )
        if stats is not None:
            backlog.add_metric([], stats.backlog)
            oldest.add_metric([], stats.oldest_pending_age)
        yield from (backlog, oldest)
        counters = sender.worker.counters if sender is not None else None
        for name, text, value in (
            ("coinsight_outbox_sent", "Deliveries sent by this replica.", "sent"),
            ("coinsight_outbox_retried", "Delivery attempts to be tried again (429s included).", "retried"),
            ("coinsight_outbox_rate_limited", "429 answers that reached this replica's sender.", "rate_limited"),
            ("coinsight_outbox_dead", "Deliveries given up (a permanent error).", "dead"),
        ):
            yield CounterMetricFamily(name, text, getattr(counters, value) if counters is not None else 0)
        yield CounterMetricFamily(
            "coinsight_telegram_rate_limited",
            "429 answers the outgoing limiter got on this replica (replies and pushes; it retries them).",
            rate_limits.noted if (rate_limits := self.metrics.resources.services.rate_limits) is not None else 0,
        )

    def _scheduler(self) -> Iterator[Metric]:
        scheduler = self.metrics.resources.scheduler
        elector = scheduler.elector if scheduler is not None else None
        leading = elector is not None and elector.is_leader
        known = elector is not None and elector.leader_known
        yield GaugeMetricFamily("coinsight_scheduler_leader", "1 while this replica leads the scheduler.", leading)
        yield GaugeMetricFamily(
            "coinsight_scheduler_leader_known", "1 while this replica knows a scheduler leader exists.", known
        )
