"""A sender process for the crash test: `python -m tests.e2e.outbox_sender_process`.

The production wiring (settings from the environment, `create_bot`, `OutboxSender.from_settings`)
drains the outbox and exits 0 once nothing is left. OUTBOX_CLOCK_OFFSET (seconds) runs its clock
ahead: a process restarted after a crash sees the dead process's leases as already expired.
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime, timedelta

from bot.factory import create_bot
from bot.sender import OutboxSender
from bot.settings import load_settings
from db.engine import create_engine, create_sessionmaker
from db.models import utcnow


async def drain() -> None:
    settings = load_settings()
    offset = timedelta(seconds=float(os.environ.get("OUTBOX_CLOCK_OFFSET", "0")))

    def clock() -> datetime:
        return utcnow() + offset

    engine = create_engine(settings.database_url)
    bot = create_bot(settings)
    sender = OutboxSender.from_settings(bot, create_sessionmaker(engine), settings, clock=clock)
    task = asyncio.create_task(sender.run())
    try:
        while True:
            seen = sender.recorded  # read before the backlog: a result recorded in between ends the wait
            if not (await sender.stats()).backlog:
                break
            await sender.wait_recorded(seen + 1)
    finally:
        await sender.stop()
        await task
        await bot.session.close()
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(drain())
