"""Two `python -m bot` processes on PostgreSQL + Redis: one scheduler leader runs every job once per
tick; SIGKILL it and the other takes over within a lease; no (job, tick) runs twice.

The hold sweeper runs every second here (HOLD_SWEEP_SECONDS=1) and the lease is 2 s, so the whole
story takes a few seconds; `scheduler_runs` (owner = host:pid:tag) says who ran which tick."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from db.models.market import SchedulerRun
from standins.telegram import FakeTelegramServer
from tests.backends import POSTGRES_ONLY, Backend
from tests.e2e.conftest import BotProcess, bot_env, spawn
from tests.integration.outbox_helpers import Sessions

pytestmark = [pytest.mark.e2e, POSTGRES_ONLY]

LEASE = 2.0
RENEW = 0.5
JOB = "hold-sweeper"
ENV = {
    "HOLD_SWEEP_SECONDS": "1",
    "SCHEDULER_LEASE_SECONDS": str(LEASE),
    "SCHEDULER_RENEW_SECONDS": str(RENEW),
    "PLAN_CHECK_SECONDS": "1",
}


class Replica:
    def __init__(self, process: BotProcess) -> None:
        self.process = process
        self.lines: list[str] = []
        self.started = asyncio.Event()
        self.leading = asyncio.Event()
        self.reader = asyncio.create_task(self._read())

    @property
    def pid(self) -> int:
        return self.process.process.pid

    async def _read(self) -> None:
        stream = self.process.process.stderr
        assert stream is not None
        while line := (await stream.readline()).decode(errors="replace"):
            self.lines.append(line)
            if "scheduler started" in line:
                self.started.set()
            if "scheduler leader (term" in line:
                self.leading.set()


@contextlib.asynccontextmanager
async def replicas(tg: FakeTelegramServer, backend: Backend, cwd: Path, count: int) -> AsyncIterator[list[Replica]]:
    env = bot_env(backend, BOT_TOKEN=tg.token, TELEGRAM_API_URL=tg.base_url, **ENV)
    started = [Replica(await spawn([], env, cwd)) for _ in range(count)]
    try:
        yield started
    finally:
        for replica in started:
            if replica.process.process.returncode is None:
                replica.process.process.kill()
            await replica.process.process.wait()
            await replica.reader


async def runs(sessionmaker: Sessions) -> list[SchedulerRun]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(SchedulerRun).order_by(SchedulerRun.tick, SchedulerRun.id)))


LATE = timedelta(seconds=5)  # how long before the final stop a cancelled run may have started


def owner_pid(run: SchedulerRun) -> int:
    return int(run.owner.split(":")[1])


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 20.0) -> None:
    """Re-check the database until `check` holds (rows other processes write: no event to wait on)."""
    for _ in range(int(timeout / 0.1)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


async def test_one_leader_runs_each_tick_once_and_a_killed_leader_is_replaced(
    tg: FakeTelegramServer, backend: Backend, sessionmaker: Sessions, tmp_path: Path
) -> None:
    async with replicas(tg, backend, tmp_path, 2) as (a, b):
        await asyncio.wait_for(asyncio.gather(a.started.wait(), b.started.wait()), 60)
        both_up = datetime.now().astimezone()
        waiting = {asyncio.ensure_future(replica.leading.wait()): replica for replica in (a, b)}
        done, pending = await asyncio.wait(waiting, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        for future in pending:
            future.cancel()
        assert done, "no scheduler leader"
        leader = waiting[done.pop()]
        follower = b if leader is a else a

        async def ticks_since(moment: datetime, pid: int, count: int) -> bool:
            return (
                sum(1 for r in await runs(sessionmaker) if r.job == JOB and r.tick > moment and owner_pid(r) == pid)
                >= count
            )

        await until(lambda: ticks_since(both_up, leader.pid, 2), "two ticks with both replicas up")
        assert not follower.leading.is_set()

        leader.process.process.send_signal(signal.SIGKILL)
        await leader.process.process.wait()
        killed_at = datetime.now().astimezone()
        await asyncio.wait_for(follower.leading.wait(), LEASE + RENEW + 5)
        await until(lambda: ticks_since(killed_at, follower.pid, 2), "two ticks of the new leader")
        stopping = datetime.now().astimezone()
        assert await follower.process.stop() == 0

    rows = await runs(sessionmaker)
    keys = Counter((r.job, r.tick) for r in rows)
    assert max(keys.values()) == 1  # no (job, tick) twice
    assert {owner_pid(r) for r in rows} == {leader.pid, follower.pid}
    sweeps = [r for r in rows if r.job == JOB]
    old = [r.tick for r in sweeps if owner_pid(r) == leader.pid]
    new = [r.tick for r in sweeps if owner_pid(r) == follower.pid]
    assert max(old) < min(new)  # one leader at a time: the follower ran nothing before the handover
    # Every tick while a leader lived ran, once. A tick the leader's loop was too busy for (a CPU
    # starved CI worker; the minute's risk tick and scans start at the same moment) is coalesced into
    # the next one by design (coalesce=True): a gap of two seconds, never a tick run twice.
    for ticks in (old, new):
        gaps = [later - earlier for earlier, later in itertools.pairwise(ticks)]
        assert all(timedelta(seconds=1) <= gap <= timedelta(seconds=2) for gap in gaps), ticks
    assert min(new) - max(old) <= timedelta(seconds=LEASE + RENEW + 1.5)  # taken over within a lease
    # Runs still going when the last replica stopped are cancelled by its shutdown (and say so).
    failed = [r for r in rows if r.error and not (r.error == "CancelledError" and r.started_at >= stopping - LATE)]
    assert failed == [], [(r.job, r.tick, r.error) for r in failed]
    for job in ("plan-reminders", "plan-downgrades"):  # the other leader-only jobs: the same leader
        assert {owner_pid(r) for r in rows if r.job == job and r.tick < max(old)} <= {leader.pid}
