"""`scheduler_runs`: one row per (job, tick) a replica ran. The UNIQUE(job, tick) key is the claim —
whoever inserts the row runs the tick; anyone else finds it taken and skips."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.market import SchedulerRun
from db.repositories.dialect import dialect_insert

ERROR_LIMIT = 500  # scheduler_runs.error


class SchedulerRunRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, job: str, tick: datetime, owner: str, now: datetime) -> int | None:
        """Insert the (job, tick) row; its id, or None when the tick was claimed before."""
        statement = (
            dialect_insert(self.session, SchedulerRun)
            .values(job=job, tick=tick, owner=owner, started_at=now)
            .on_conflict_do_nothing(index_elements=["job", "tick"])
            .returning(SchedulerRun.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def finish(self, run_id: int, now: datetime, error: str | None) -> None:
        values = {"finished_at": now, "error": None if error is None else error[:ERROR_LIMIT]}
        await self.session.execute(update(SchedulerRun).where(SchedulerRun.id == run_id).values(**values))

    async def prune(self, before: datetime) -> int:
        """Delete the runs of ticks before `before`; how many."""
        statement = delete(SchedulerRun).where(SchedulerRun.tick < before).returning(SchedulerRun.id)
        return len((await self.session.execute(statement)).all())
