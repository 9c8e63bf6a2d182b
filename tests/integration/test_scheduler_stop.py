"""Stopping the scheduler (a deploy's SIGTERM): no run starts once `stop` began; runs in flight get the
grace to finish and are cancelled only after it; `stop` is idempotent. The grace's timer is injected
(it ends when the test says), so nothing here waits for real time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import select

from db.models import utcnow
from db.models.market import SchedulerRun
from services.scheduling.jobs import JobRunner, JobSpec
from services.scheduling.leader import LeaderElector, LocalLease
from services.scheduling.scheduler import Scheduler
from tests.integration.outbox_helpers import Sessions

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

NEVER = DateTrigger(datetime(2100, 1, 1, tzinfo=UTC))  # runs come only from `submit` below
GRACE = 7.0


@dataclass
class Grace:
    """The injected sleep of the grace: records what it was asked for and ends on `over`."""

    asked: list[float] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    over: asyncio.Event = field(default_factory=asyncio.Event)

    async def sleep(self, seconds: float) -> None:
        self.asked.append(seconds)
        self.started.set()
        await self.over.wait()


@dataclass
class Body:
    """A job body that says when it entered and holds until released (or cancelled)."""

    entered: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    calls: list[datetime] = field(default_factory=list)
    finished: bool = False
    cancelled: bool = False

    async def __call__(self, tick: datetime) -> None:
        self.calls.append(tick)
        self.entered.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        self.finished = True


def submit(scheduler: Scheduler, name: str) -> None:
    """What APScheduler does at a tick, now."""
    scheduler.executor.submit_job(scheduler.apscheduler.get_job(name), [utcnow()])


@pytest.fixture
def grace() -> Grace:
    return Grace()


async def started(sessionmaker: Sessions, grace: Grace, bodies: dict[str, Body]) -> Scheduler:
    elector = LeaderElector(LocalLease(), lease_seconds=30, renew_seconds=10)
    jobs = [JobSpec(name, NEVER, body) for name, body in bodies.items()]
    runner = JobRunner(sessionmaker, elector, "replica-a")
    scheduler = Scheduler(jobs, runner, elector, misfire_grace_seconds=60, stop_grace_seconds=GRACE, sleep=grace.sleep)
    await scheduler.start()
    await asyncio.wait_for(elector.wait_for(True), 10)
    return scheduler


@pytest.fixture
async def stopped_at_the_end(grace: Grace) -> AsyncIterator[list[Scheduler]]:
    """Stops what a failed test left running (the grace ends at once)."""
    made: list[Scheduler] = []
    yield made
    grace.over.set()
    for scheduler in made:
        await asyncio.wait_for(scheduler.stop(0), 10)


async def in_flight(sessionmaker: Sessions, grace: Grace, made: list[Scheduler], name: str) -> tuple[Scheduler, Body]:
    """A started scheduler (stopped at the end) with one job, `name`, whose run is in flight."""
    body = Body()
    scheduler = await started(sessionmaker, grace, {name: body})
    made.append(scheduler)
    submit(scheduler, name)
    await asyncio.wait_for(body.entered.wait(), 10)
    return scheduler, body


async def runs(sessionmaker: Sessions) -> list[SchedulerRun]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(SchedulerRun).order_by(SchedulerRun.id)))


async def test_a_run_in_flight_finishes_within_the_grace(
    sessionmaker: Sessions, grace: Grace, stopped_at_the_end: list[Scheduler]
) -> None:
    scheduler, body = await in_flight(sessionmaker, grace, stopped_at_the_end, "risk")
    stopping = asyncio.create_task(scheduler.stop())
    await asyncio.wait_for(grace.started.wait(), 10)
    assert grace.asked == [GRACE] and not stopping.done()
    assert scheduler.elector.is_leader  # held while the run goes on: no other replica starts the work
    body.release.set()  # the run ends before the grace does
    await asyncio.wait_for(stopping, 10)
    assert body.finished and not body.cancelled
    (row,) = await runs(sessionmaker)
    assert row.job == "risk" and row.error is None and row.finished_at is not None
    assert not scheduler.elector.holding  # released once the run was done


async def test_a_run_longer_than_the_grace_is_cancelled_after_it(
    sessionmaker: Sessions, grace: Grace, stopped_at_the_end: list[Scheduler]
) -> None:
    scheduler, body = await in_flight(sessionmaker, grace, stopped_at_the_end, "scan-1h")
    stopping = asyncio.create_task(scheduler.stop(3.0))  # the shutdown's own bound wins
    await asyncio.wait_for(grace.started.wait(), 10)
    for _ in range(20):  # the loop turns; the grace has not ended, so the run is left alone
        await asyncio.sleep(0)
    assert grace.asked == [3.0] and not body.cancelled and not stopping.done()
    grace.over.set()
    await asyncio.wait_for(stopping, 10)
    assert body.cancelled and not body.finished
    assert not scheduler.executor.tasks
    (row,) = await runs(sessionmaker)
    assert row.error == "CancelledError" and row.finished_at is not None


async def test_no_run_starts_once_stop_began(
    sessionmaker: Sessions, grace: Grace, stopped_at_the_end: list[Scheduler]
) -> None:
    busy, queued, late = Body(), Body(), Body()
    scheduler = await started(sessionmaker, grace, {"busy": busy, "queued": queued, "late": late})
    stopped_at_the_end.append(scheduler)
    submit(scheduler, "busy")
    await asyncio.wait_for(busy.entered.wait(), 10)
    late_job = scheduler.apscheduler.get_job("late")
    stopping = asyncio.create_task(scheduler.stop())
    submit(scheduler, "queued")  # submitted before stop's first step, its task begins after it
    await asyncio.wait_for(grace.started.wait(), 10)
    assert not scheduler.apscheduler.running  # no tick fires any more
    scheduler.executor.submit_job(late_job, [utcnow()])  # a tick submitted while stopping: no task at all
    assert {task.get_name() for task in scheduler.executor.tasks} == {"job busy"}
    busy.release.set()
    await asyncio.wait_for(stopping, 10)
    assert queued.calls == [] and late.calls == []
    assert busy.finished
    assert [row.job for row in await runs(sessionmaker)] == ["busy"]  # the others not even claimed


async def test_stop_is_idempotent_and_a_second_call_waits_for_the_first(
    sessionmaker: Sessions, grace: Grace, stopped_at_the_end: list[Scheduler]
) -> None:
    scheduler, body = await in_flight(sessionmaker, grace, stopped_at_the_end, "digest")
    first = asyncio.create_task(scheduler.stop())
    second = asyncio.create_task(scheduler.stop())
    await asyncio.wait_for(grace.started.wait(), 10)
    for _ in range(20):
        await asyncio.sleep(0)
    assert not second.done()  # the run is still in flight: the caller must not close what it uses
    body.release.set()
    await asyncio.wait_for(asyncio.gather(first, second), 10)
    await asyncio.wait_for(scheduler.stop(), 10)  # and once more: nothing left to do
    assert grace.asked == [GRACE] and body.calls and body.finished


async def test_stop_without_runs_in_flight_does_not_wait(sessionmaker: Sessions, grace: Grace) -> None:
    scheduler = await started(sessionmaker, grace, {"idle": Body()})
    await asyncio.wait_for(scheduler.stop(), 10)
    assert grace.asked == []
    elector = LeaderElector(LocalLease(), lease_seconds=30, renew_seconds=10)
    never_started = Scheduler([], JobRunner(sessionmaker, elector, "b"), elector, misfire_grace_seconds=60)
    await asyncio.wait_for(never_started.stop(), 10)
    await asyncio.wait_for(never_started.stop(), 10)
