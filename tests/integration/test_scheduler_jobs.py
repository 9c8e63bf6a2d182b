"""Scheduled jobs: claims make a tick run once across schedulers sharing a database; a failing job
runs again at its next tick; a job never overlaps itself; triggers are the same on every replica."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobEvent
from sqlalchemy import select

from db.models.market import SchedulerRun
from services.scheduling.jobs import (
    CANDLE_CRON,
    JobRunner,
    JobSpec,
    Outcome,
    candle_close,
    every,
    market_scan_jobs,
    normalized_tick,
)
from services.scheduling.leader import LeaderElector, LocalLease
from services.scheduling.scheduler import Scheduler
from tests.integration.outbox_helpers import Sessions

TICK = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
FAST = 0.05  # seconds between the ticks of the real-APScheduler tests


class NotLeader:
    is_leader = False


def leader() -> LeaderElector:
    return LeaderElector(LocalLease(), lease_seconds=30, renew_seconds=10)


@contextlib.asynccontextmanager
async def leading() -> AsyncIterator[LeaderElector]:
    """An elector that has taken its (in-process) lease, running until the block ends."""
    elector = leader()
    task = asyncio.create_task(elector.run())
    try:
        await asyncio.wait_for(elector.wait_for(True), 10)
        yield elector
    finally:
        elector.stop()
        await task


async def runs(sessionmaker: Sessions) -> list[SchedulerRun]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(SchedulerRun).order_by(SchedulerRun.id)))


async def test_two_schedulers_sharing_a_database_run_a_tick_once(sessionmaker: Sessions) -> None:
    calls: list[datetime] = []
    entered = asyncio.Event()
    release = asyncio.Event()

    async def job(tick: datetime) -> None:
        calls.append(tick)
        entered.set()
        await release.wait()

    spec = JobSpec("sweep", every(60), job)
    # Both lead (as two replicas may for a moment during a handover): the claim keeps the tick single.
    async with leading() as first, leading() as second:
        await _claims(sessionmaker, spec, first, second, calls, entered, release)


async def _claims(
    sessionmaker: Sessions,
    spec: JobSpec,
    first: LeaderElector,
    second: LeaderElector,
    calls: list[datetime],
    entered: asyncio.Event,
    release: asyncio.Event,
) -> None:
    a = JobRunner(sessionmaker, first, "replica-a")
    b = JobRunner(sessionmaker, second, "replica-b")
    running = asyncio.create_task(a.run(spec, TICK))
    await asyncio.wait_for(entered.wait(), 10)
    assert await b.run(spec, TICK) == Outcome.TAKEN  # claimed while a still runs it
    release.set()
    assert await running == Outcome.RAN
    assert await b.run(spec, TICK + timedelta(microseconds=300)) == Outcome.TAKEN  # float noise: same tick
    assert calls == [TICK]
    (row,) = await runs(sessionmaker)
    assert (row.job, row.tick, row.owner, row.error) == ("sweep", TICK, "replica-a", None)
    assert row.finished_at is not None and row.finished_at >= row.started_at
    # The next tick is b's if b claims it first.
    assert await b.run(spec, TICK + timedelta(minutes=1)) == Outcome.RAN
    assert [r.owner for r in await runs(sessionmaker)] == ["replica-a", "replica-b"]


async def test_only_the_leader_runs_leader_jobs_and_every_replica_runs_its_own(sessionmaker: Sessions) -> None:
    calls: list[str] = []

    async def job(tick: datetime) -> None:
        calls.append(tick.isoformat())

    follower = JobRunner(sessionmaker, NotLeader(), "replica-b")
    assert await follower.run(JobSpec("sweep", every(60), job), TICK) == Outcome.NOT_LEADER
    assert calls == [] and await runs(sessionmaker) == []
    assert await follower.run(JobSpec("flush", every(60), job, leader_only=False), TICK) == Outcome.RAN
    assert calls == [TICK.isoformat()] and await runs(sessionmaker) == []  # process-local: unclaimed


async def test_a_failed_run_is_recorded_and_old_runs_are_pruned(sessionmaker: Sessions) -> None:
    async def broken(tick: datetime) -> None:
        raise OSError("exchange unreachable")

    async with leading() as elector:
        runner = JobRunner(sessionmaker, elector, "replica-a", clock=lambda: TICK)
        with pytest.raises(OSError):
            await runner.run(JobSpec("scan-1h", every(3600), broken), TICK - timedelta(days=3))
    (row,) = await runs(sessionmaker)
    assert row.error == "OSError: exchange unreachable" and row.finished_at == TICK
    assert await runner.prune(timedelta(hours=48)) == 1
    assert await runs(sessionmaker) == []


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_failing_job_logs_one_line_and_runs_again_at_its_next_tick(
    sessionmaker: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    ticks: list[datetime] = []
    again = asyncio.Event()

    async def flaky(tick: datetime) -> None:
        ticks.append(tick)
        if len(ticks) == 1:
            raise OSError("database went away")
        again.set()

    elector = leader()
    scheduler = Scheduler(
        [JobSpec("flaky", every(FAST), flaky)], JobRunner(sessionmaker, elector, "a"), elector, misfire_grace_seconds=5
    )
    with caplog.at_level(logging.INFO):
        await scheduler.start()
        try:
            await asyncio.wait_for(again.wait(), 10)
        finally:
            await scheduler.stop()
    assert ticks[1] > ticks[0]
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING and "flaky" in r.getMessage()]
    assert [r.getMessage().split(") ", 1)[1] for r in failures] == ["failed: OSError: database went away"]
    assert failures[0].exc_info is None  # one line, no traceback
    rows = await runs(sessionmaker)
    assert rows[0].error == "OSError: database went away" and rows[1].error is None


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_job_never_overlaps_itself(sessionmaker: Sessions) -> None:
    running = 0
    most = 0
    started = asyncio.Event()
    release = asyncio.Event()
    ran_again = asyncio.Event()
    calls = 0
    skipped: list[JobEvent] = []
    skipped_twice = asyncio.Event()

    async def slow(tick: datetime) -> None:
        nonlocal running, most, calls
        calls += 1
        if calls == 2:
            ran_again.set()
        running += 1
        most = max(most, running)
        started.set()
        try:
            await release.wait()
        finally:
            running -= 1

    def on_skip(event: JobEvent) -> None:
        skipped.append(event)
        if len(skipped) >= 2:
            skipped_twice.set()

    elector = leader()
    scheduler = Scheduler(
        [JobSpec("slow", every(FAST), slow)], JobRunner(sessionmaker, elector, "a"), elector, misfire_grace_seconds=5
    )
    scheduler.apscheduler.add_listener(on_skip, EVENT_JOB_MAX_INSTANCES)
    await scheduler.start()
    try:
        await asyncio.wait_for(started.wait(), 10)
        await asyncio.wait_for(skipped_twice.wait(), 10)  # two ticks came while the first run went on
        assert most == 1
        release.set()
        await asyncio.wait_for(ran_again.wait(), 10)  # and it runs again once free
    finally:
        await scheduler.stop()
    assert most == 1
    assert all(event.job_id == "slow" for event in skipped)


def _fire_times(trigger: object, start: datetime, count: int) -> list[datetime]:
    times: list[datetime] = []
    previous = None
    now = start
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)  # type: ignore[attr-defined]
        times.append(fire)
        previous = now = fire
    return times


def test_candle_close_triggers_fire_after_each_close_in_utc() -> None:
    start = datetime(2026, 3, 1, 23, 58, 30, tzinfo=UTC)  # a Sunday
    expected = {
        "1m": ["23:59:05", "00:00:05"],
        "5m": ["00:00:05", "00:05:05"],
        "15m": ["00:00:05", "00:15:05"],
        "1h": ["00:00:05", "01:00:05"],
        "4h": ["00:00:05", "04:00:05"],
        "1d": ["00:00:05", "00:00:05"],
        "1w": ["00:00:05", "00:00:05"],
    }
    assert set(expected) == set(CANDLE_CRON)
    for timeframe, times in expected.items():
        fires = _fire_times(candle_close(timeframe, 5), start, 2)
        assert [f.strftime("%H:%M:%S") for f in fires] == times, timeframe
    assert _fire_times(candle_close("1d", 5), start, 2)[1] - _fire_times(candle_close("1d", 5), start, 1)[0] == (
        timedelta(days=1)
    )
    assert [f.date().isoformat() for f in _fire_times(candle_close("1w", 5), start, 2)] == ["2026-03-02", "2026-03-09"]
    with pytest.raises(ValueError):
        candle_close("3m", 5)
    with pytest.raises(ValueError):
        candle_close("1h", 60)


async def test_market_scans_are_one_job_per_timeframe_with_the_tick() -> None:
    scanned: list[tuple[str, datetime]] = []

    async def scan(timeframe: str, tick: datetime) -> None:
        scanned.append((timeframe, tick))

    jobs = market_scan_jobs(scan, ["1h", "4h", "1h"], 5)
    assert [job.name for job in jobs] == ["scan-1h", "scan-4h"]
    for job in jobs:
        await job.func(TICK)
    assert scanned == [("1h", TICK), ("4h", TICK)]


def test_interval_ticks_are_the_same_on_every_replica() -> None:
    # Two replicas started at different moments compute the same ticks (counted from one epoch).
    early = _fire_times(every(0.1), datetime(2026, 3, 2, 8, 0, 0, 123_456, tzinfo=UTC), 40)
    late = _fire_times(every(0.1), datetime(2026, 3, 2, 8, 0, 2, 987_654, tzinfo=UTC), 10)
    assert [normalized_tick(t) for t in late] == [normalized_tick(t) for t in early][28:38]  # 3.0 s … 3.9 s
    assert normalized_tick(early[0]) == datetime(2026, 3, 2, 8, 0, 0, 200_000, tzinfo=UTC)
    assert _fire_times(every(60), TICK + timedelta(seconds=1), 1) == [TICK + timedelta(minutes=1)]


async def test_observers_see_the_runs_this_replica_made_and_not_the_skipped_ticks(sessionmaker: Sessions) -> None:
    from services.scheduling.jobs import JobRun

    async def ok(_tick: datetime) -> None:
        return None

    async def broken(_tick: datetime) -> None:
        raise RuntimeError("no")

    seen: list[JobRun] = []
    async with leading() as elector:
        runner = JobRunner(sessionmaker, elector, "replica-a")
        runner.observers.append(seen.append)
        ticks = iter(range(100))
        runner.timer = lambda: float(next(ticks))
        assert await runner.run(JobSpec("fine", every(60), ok), TICK) is Outcome.RAN
        with pytest.raises(RuntimeError):
            await runner.run(JobSpec("broken", every(60), broken), TICK)
        assert await runner.run(JobSpec("fine", every(60), ok), TICK) is Outcome.TAKEN  # ran before
    follower = JobRunner(sessionmaker, NotLeader(), "replica-b")
    follower.observers.append(seen.append)
    assert await follower.run(JobSpec("fine", every(60), ok), TICK + timedelta(minutes=1)) is Outcome.NOT_LEADER
    assert seen == [JobRun("fine", 1.0, failed=False), JobRun("broken", 1.0, failed=True)]
