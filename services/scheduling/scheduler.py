"""APScheduler (AsyncIOScheduler) driving the jobs, with the leader elector beside it.

Every replica runs the same scheduler; `JobRunner` decides per tick whether this replica runs a job
(leader-only jobs: only the leader, and only once per tick across replicas). Each job has
max_instances=1 (a run still going when the next tick comes makes that tick skip, with APScheduler's
warning) and coalesce=True (ticks missed while the loop was busy run once).

`TickExecutor` is APScheduler's asyncio executor with two differences: the job's coroutine gets its
scheduled time (`tick=`, the same on every replica), and a failing run is one log line (the traceback
only at DEBUG) — the job stays scheduled and runs again at its next tick. Runs are tasks tracked here.

`stop(grace)` (a deploy's SIGTERM) starts no new run from its first step on — a tick submitted
then, or one submitted before whose task has not begun, is skipped — gives the runs in flight up to
`grace` seconds to finish (a risk tick, a scan or a digest half done is worse than one not begun),
then cancels and awaits what is left; only then is the leadership released.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.base import BaseExecutor
from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from db.models import utcnow
from services.scheduling.jobs import JobRunner, JobSpec, describe
from services.scheduling.leader import LeaderElector

log = logging.getLogger(__name__)

MISSED = object()
STOP_GRACE_SECONDS = 10.0  # runs in flight at `stop` finish within this, or are cancelled

Sleep = Callable[[float], Awaitable[object]]


class TickExecutor(BaseExecutor):  # type: ignore[misc]
    def __init__(self, *, sleep: Sleep = asyncio.sleep) -> None:
        super().__init__()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.stopping = False
        self._sleep = sleep  # the grace's timer (tests end it on an event)

    def _do_submit_job(self, job: Job, run_times: Sequence[datetime]) -> None:
        tick = run_times[-1]  # coalesce: one run for every tick missed
        if self.stopping:
            log.info("job %s (%s) not started: the scheduler is stopping", job.id, tick.isoformat())
            return
        task = asyncio.get_running_loop().create_task(self._run(job, tick), name=f"job {job.id}")
        self.tasks.add(task)
        task.add_done_callback(partial(self._done, job.id, tick))

    async def _run(self, job: Job, tick: datetime) -> object:
        if self.stopping:  # submitted just before `stop`, not begun yet: not a run in flight
            log.info("job %s (%s) not started: the scheduler is stopping", job.id, tick.isoformat())
            return MISSED
        late = (utcnow() - tick).total_seconds()
        if job.misfire_grace_time is not None and late > job.misfire_grace_time:
            log.warning("job %s skipped its %s run: %.0f s late", job.id, tick.isoformat(), late)
            return MISSED
        return await job.func(*job.args, tick=tick, **job.kwargs)

    def _done(self, job_id: str, tick: datetime, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        events: list[JobExecutionEvent] = []
        if task.cancelled():
            log.info("job %s (%s) cancelled", job_id, tick.isoformat())
        elif (exc := task.exception()) is not None:
            log.warning("job %s (%s) failed: %s", job_id, tick.isoformat(), describe(exc))
            log.debug("job %s failure", job_id, exc_info=exc)
            events.append(JobExecutionEvent(EVENT_JOB_ERROR, job_id, "default", tick, exception=exc))
        else:
            result = task.result()
            code = EVENT_JOB_MISSED if result is MISSED else EVENT_JOB_EXECUTED
            events.append(JobExecutionEvent(code, job_id, "default", tick, retval=result))
        self._run_job_success(job_id, events)  # counts the instance down and dispatches the events

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Start no new run; let the runs in flight finish for up to `grace` seconds, then cancel and
        await the rest (also when this call itself is cancelled)."""
        self.stopping = True
        try:
            if self.tasks and grace > 0:
                await self._finish_within(grace)
        finally:
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _finish_within(self, grace: float) -> None:
        timer = asyncio.ensure_future(self._sleep(grace))
        try:
            while (running := {task for task in self.tasks if not task.done()}) and not timer.done():
                await asyncio.wait({*running, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            await asyncio.gather(timer, return_exceptions=True)
        if running:
            log.warning("%d job runs still going after %.0f s: cancelled", len(running), grace)


class Scheduler:
    """The jobs on APScheduler plus the elector; `start` in a running loop, `stop` awaits both."""

    def __init__(
        self,
        jobs: Sequence[JobSpec],
        runner: JobRunner,
        elector: LeaderElector,
        *,
        misfire_grace_seconds: float,
        stop_grace_seconds: float = STOP_GRACE_SECONDS,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.jobs = list(jobs)
        self.runner = runner
        self.elector = elector
        self.misfire_grace_seconds = misfire_grace_seconds
        self.stop_grace_seconds = stop_grace_seconds
        self.executor = TickExecutor(sleep=sleep)
        self.apscheduler = AsyncIOScheduler(executors={"default": self.executor}, timezone=UTC)
        self._elector_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._stopped = asyncio.Event()

    def add(self, spec: JobSpec) -> None:
        if self._elector_task is not None:
            raise RuntimeError("add jobs before the scheduler starts")
        if any(job.name == spec.name for job in self.jobs):
            raise ValueError(f"two jobs named {spec.name!r}")
        self.jobs.append(spec)

    @property
    def started(self) -> bool:
        return self._elector_task is not None

    async def start(self) -> None:
        names = [spec.name for spec in self.jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"job names must be unique: {names}")
        for spec in self.jobs:
            self.apscheduler.add_job(
                self.runner.run,
                trigger=spec.trigger,
                args=[spec],
                id=spec.name,
                name=spec.name,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(1, math.ceil(spec.misfire_grace_seconds or self.misfire_grace_seconds)),
            )
        self._elector_task = asyncio.create_task(self.elector.run(), name="scheduler-leader")
        self.apscheduler.start()
        log.info("scheduler started: %s", ", ".join(names) or "no jobs")

    async def stop(self, grace: float | None = None) -> None:
        """Stop firing (no run starts from here on), give the runs in flight `grace` seconds
        (`stop_grace_seconds` by default) to finish, cancel the rest, release the leadership (held
        while they run: another replica must not start the same work meanwhile). Idempotent: a
        second call waits for the first to be done."""
        if self._stopping:
            await self._stopped.wait()
            return
        self._stopping = True
        try:
            self.executor.stopping = True  # before any await: a tick due now does not start
            if self.apscheduler.running:
                self.apscheduler.shutdown(wait=False)
            await self.executor.stop(self.stop_grace_seconds if grace is None else grace)
            self.elector.stop()
            if self._elector_task is not None:
                await self._elector_task
            await self.elector.lease.close()
        finally:
            self._stopped.set()
