"""Jobs and their runs.

A job is a `JobSpec(name, trigger, func)`; `func(tick)` gets the time the run was scheduled for (the
tick), the same on every replica because the triggers are aligned: cron triggers on UTC fields, and
`every(seconds)` counted from a fixed epoch, never from the moment a process started.

`JobRunner.run` is what the scheduler calls for each tick. A leader-only job runs only while this
replica leads, and only after claiming its (job, tick) row in `scheduler_runs`: the row's UNIQUE key
means a tick runs at most once even while leadership changes hands (the old leader may still think it
leads for up to a renewal period). A claimed run whose process died stays unfinished and is not run
again. Per-replica jobs (process-local work: reloading this process's exchange markets, flushing its
batched writes) run everywhere, unclaimed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import utcnow
from db.repositories.scheduler import ERROR_LIMIT, SchedulerRunRepository

log = logging.getLogger(__name__)

JobFunc = Callable[[datetime], Awaitable[object]]
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # `every` counts its ticks from here, on every replica alike

# Candle boundaries (UTC) as cron fields; the least significant field given is `second` (the delay).
CANDLE_CRON: dict[str, dict[str, str]] = {
    "1m": {},
    "5m": {"minute": "*/5"},
    "15m": {"minute": "*/15"},
    "1h": {"minute": "0"},
    "4h": {"hour": "*/4", "minute": "0"},
    "1d": {"hour": "0", "minute": "0"},
    "1w": {"day_of_week": "mon", "hour": "0", "minute": "0"},
}


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job. `func(tick)` runs at each fire time of `trigger` (aligned: see `every`,
    `candle_close`). `leader_only=False`: every replica runs it (process-local work), unclaimed.
    `misfire_grace_seconds`: a run this late (a busy loop, a suspended process) is skipped; None uses
    the scheduler's default."""

    name: str
    trigger: BaseTrigger
    func: JobFunc
    leader_only: bool = True
    misfire_grace_seconds: float | None = None


def every(seconds: float) -> IntervalTrigger:
    """Every `seconds`, at multiples of `seconds` since `EPOCH` (the same ticks on every replica)."""
    return IntervalTrigger(seconds=seconds, start_date=EPOCH, timezone=UTC)


def candle_close(timeframe: str, delay_seconds: int = 0) -> CronTrigger:
    """Fires `delay_seconds` (0-59) after each close of a `timeframe` candle (UTC boundaries)."""
    if timeframe not in CANDLE_CRON:
        raise ValueError(f"no candle schedule for timeframe {timeframe!r} (one of {', '.join(CANDLE_CRON)})")
    if not 0 <= delay_seconds <= 59:
        raise ValueError("the delay after a candle close is 0-59 seconds")
    return CronTrigger(second=str(delay_seconds), timezone=UTC, **CANDLE_CRON[timeframe])


def market_scan_jobs(
    scan: Callable[[str, datetime], Awaitable[object]], timeframes: Iterable[str], delay_seconds: int
) -> list[JobSpec]:
    """One job per timeframe, `scan(timeframe, tick)` shortly after each of its candle closes (the
    tick is the close plus the delay)."""

    def for_timeframe(timeframe: str) -> JobFunc:
        async def run(tick: datetime) -> object:
            return await scan(timeframe, tick)

        return run

    return [
        JobSpec(f"scan-{timeframe}", candle_close(timeframe, delay_seconds), for_timeframe(timeframe))
        for timeframe in dict.fromkeys(timeframes)
    ]


def ignoring_tick(func: Callable[[], Awaitable[object]]) -> JobFunc:
    """A job body that does not need its tick (a sweep of whatever is due now)."""

    async def run(_tick: datetime) -> object:
        return await func()

    return run


def normalized_tick(tick: datetime) -> datetime:
    """The tick in UTC, to the millisecond: float arithmetic in interval triggers must not make two
    replicas' ticks differ by a microsecond (their claims would then both succeed)."""
    millis = round(tick.timestamp() * 1000)
    return datetime.fromtimestamp(millis // 1000, UTC).replace(microsecond=millis % 1000 * 1000)


def describe(exc: BaseException) -> str:
    text = str(exc)
    return (f"{type(exc).__name__}: {text}" if text else type(exc).__name__)[:ERROR_LIMIT]


class Leadership(Protocol):
    @property
    def is_leader(self) -> bool: ...


class Outcome(StrEnum):
    RAN = "ran"
    NOT_LEADER = "not leader"  # another replica runs the leader-only jobs
    TAKEN = "taken"  # this (job, tick) was claimed before: it ran, or runs, elsewhere


@dataclass(frozen=True)
class JobRun:
    """A run of a job on this replica, as `JobRunner`'s observers (the metrics) see it."""

    name: str
    seconds: float
    failed: bool


class JobRunner:
    """Runs one tick of a job: leadership check, claim, the job, the run recorded. A failing job's
    exception propagates (the scheduler logs it in one line; the job runs again at its next tick)
    after its row records the error. Each run this replica made (not a skipped tick) ends with a
    `JobRun` to the `observers`."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        leadership: Leadership,
        owner: str,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.leadership = leadership
        self.owner = owner[:64]
        self.clock = clock
        self.observers: list[Callable[[JobRun], None]] = []
        self.timer: Callable[[], float] = time.perf_counter

    async def run(self, spec: JobSpec, tick: datetime | None = None) -> Outcome:
        """Run `spec` for `tick` (default: now). The scheduler passes the scheduled time."""
        tick = normalized_tick(tick or self.clock())
        if not spec.leader_only:
            await self._call(spec, tick)
            return Outcome.RAN
        if not self.leadership.is_leader:
            return Outcome.NOT_LEADER
        async with self.sessionmaker() as session:
            run_id = await SchedulerRunRepository(session).claim(spec.name, tick, self.owner, self.clock())
            await session.commit()
        if run_id is None:
            log.debug("%s at %s ran elsewhere", spec.name, tick.isoformat())
            return Outcome.TAKEN
        try:
            await self._call(spec, tick)
        except BaseException as exc:
            await self._finish(run_id, describe(exc))
            raise
        await self._finish(run_id, None)
        return Outcome.RAN

    async def _call(self, spec: JobSpec, tick: datetime) -> None:
        started = self.timer()
        failed = True
        try:
            result = await spec.func(tick)
            failed = False
        except asyncio.CancelledError:  # stopped at shutdown: not a failure of the job
            failed = False
            raise
        finally:
            run = JobRun(spec.name, self.timer() - started, failed)
            for observe in self.observers:
                observe(run)
        if result:
            log.info("%s: %s", spec.name, result)

    async def _finish(self, run_id: int, error: str | None) -> None:
        async with self.sessionmaker() as session:
            await SchedulerRunRepository(session).finish(run_id, self.clock(), error)
            await session.commit()

    async def prune(self, keep: timedelta, tick: datetime | None = None) -> int:
        """Forget the runs of ticks older than `keep` (a job of its own); how many rows went."""
        async with self.sessionmaker() as session:
            pruned = await SchedulerRunRepository(session).prune((tick or self.clock()) - keep)
            await session.commit()
        return pruned
