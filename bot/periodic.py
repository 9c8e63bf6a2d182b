"""Periodic housekeeping until the scheduler (APScheduler, one leader) lands: tracked tasks only."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)


async def every(seconds: float, job: Callable[[], Awaitable[object]], name: str) -> None:
    """Run `job` every `seconds`; a failing run is logged and retried next time."""
    while True:
        await asyncio.sleep(seconds)
        try:
            result = await job()
        except (SQLAlchemyError, RedisError, OSError) as exc:
            log.warning("%s failed: %s", name, exc)
        else:
            if result:
                log.info("%s: %s", name, result)
