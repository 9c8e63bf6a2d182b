"""APScheduler (AsyncIOScheduler) driving the jobs, with the leader elector beside it.

Every replica runs the same scheduler; `JobRunner` decides per tick whether this replica runs a job
(leader-only jobs: only the leader, and only once per tick across replicas). Each job has
max_instances=1 (a run still going when the next tick comes makes that tick skip, with APScheduler's
warning) and coalesce=True (ticks missed while the loop was busy run once).

`TickExecutor` is APScheduler's asyncio executor with two differences: the job's coroutine gets its
scheduled time (`tick=`, the same on every replica), and a failing run is one log line (the traceback
only at DEBUG) — the job stays scheduled and runs again at its next tick. Runs are tasks tracked here
and cancelled, then awaited, by `stop`.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
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


class TickExecutor(BaseExecutor):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.tasks: set[asyncio.Task[Any]] = set()

    def _do_submit_job(self, job: Job, run_times: Sequence[datetime]) -> None:
        tick = run_times[-1]  # coalesce: one run for every tick missed
        task = asyncio.get_running_loop().create_task(self._run(job, tick), name=f"job {job.id}")
        self.tasks.add(task)
        task.add_done_callback(partial(self._done, job.id, tick))

    @staticmethod
    async def _run(job: Job, tick: datetime) -> object:
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

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


class Scheduler:
    """The jobs on APScheduler plus the elector; `start` in a running loop, `stop` awaits both."""

    def __init__(
        self,
        jobs: Sequence[JobSpec],
        runner: JobRunner,
        elector: LeaderElector,
        *,
        misfire_grace_seconds: float,
    ) -> None:
        self.jobs = list(jobs)
        self.runner = runner
        self.elector = elector
        self.misfire_grace_seconds = misfire_grace_seconds
        self.executor = TickExecutor()
        self.apscheduler = AsyncIOScheduler(executors={"default": self.executor}, timezone=UTC)
        self._elector_task: asyncio.Task[None] | None = None
        self._stopped = False

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

    async def stop(self) -> None:
        """Stop firing, cancel runs in flight, release the leadership. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if self.apscheduler.running:
            self.apscheduler.shutdown(wait=False)
        await self.executor.stop()
        self.elector.stop()
        if self._elector_task is not None:
            await self._elector_task
        await self.elector.lease.close()
