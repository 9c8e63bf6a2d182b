"""`/healthz` (the process answers), `/readyz` (it can serve) and `/metrics`, on one aiohttp app:
the webhook server's in webhook mode, a small server of their own on METRICS_HOST:METRICS_PORT in
polling mode (`OpsServer`; METRICS_PORT=0 serves nothing).

Readiness (`Readiness.check`) looks at four parts, each answered within `timeout`:
* database: `SELECT 1` on the app's engine;
* redis: PING on the app's Redis (only when REDIS_URL is set);
* exchanges: at least one exchange has its markets loaded and its circuit breaker not open — the
  market service's own state, no request to an exchange per probe;
* scheduler: the leader is known (this replica leads, or the lock answered within a lease period).
200 `{"ready": true, "checks": {...}}` when all pass, else 503 with the failing parts' errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.metrics import CONTENT_TYPE, Metrics
from services.kv import RedisStore
from services.market import MarketService
from services.scheduling.scheduler import Scheduler

if TYPE_CHECKING:
    from bot.factory import AppResources

PROBE_TIMEOUT = 2.0


@dataclass(frozen=True)
class Check:
    ok: bool
    error: str | None = None

    def json(self) -> dict[str, Any]:
        return {"ok": True} if self.ok else {"ok": False, "error": self.error}


def _error(exc: BaseException) -> str:
    """The failure's class and first line (never a URL with a password: drivers name host and port)."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}"[:200] if lines else type(exc).__name__


class Readiness:
    def __init__(
        self,
        engine: AsyncEngine,
        redis: Redis | None,
        market: MarketService,
        scheduler: Callable[[], Scheduler | None],
        *,
        timeout: float = PROBE_TIMEOUT,
    ) -> None:
        self.engine = engine
        self.redis = redis
        self.market = market
        self.scheduler = scheduler
        self.timeout = timeout

    @classmethod
    def of(cls, resources: AppResources, *, timeout: float = PROBE_TIMEOUT) -> Readiness:
        store = resources.store
        redis = store.redis if isinstance(store, RedisStore) else None
        return cls(resources.engine, redis, resources.services.market, lambda: resources.scheduler, timeout=timeout)

    async def check(self) -> dict[str, Check]:
        probes: dict[str, Awaitable[Check]] = {"database": self._probe(self._database())}
        if self.redis is not None:
            probes["redis"] = self._probe(self._redis(self.redis))
        results = await asyncio.gather(*probes.values())
        checks = dict(zip(probes, results, strict=True))
        checks["exchanges"] = self._exchanges()
        checks["scheduler"] = self._scheduler()
        return checks

    async def _probe(self, probe: Awaitable[None]) -> Check:
        try:
            async with asyncio.timeout(self.timeout):
                await probe
        except TimeoutError:
            return Check(False, f"no answer within {self.timeout:g} s")
        except (SQLAlchemyError, RedisError, OSError) as exc:
            return Check(False, _error(exc))
        return Check(True)

    async def _database(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    @staticmethod
    async def _redis(redis: Redis) -> None:
        await redis.ping()

    def _exchanges(self) -> Check:
        statuses = self.market.status()
        if any(s.markets_loaded and s.breaker != "open" for s in statuses):
            return Check(True)
        states = ", ".join(
            f"{s.exchange}: {'circuit open' if s.breaker == 'open' else 'markets not loaded'}" for s in statuses
        )
        return Check(False, f"no exchange reachable ({states})")

    def _scheduler(self) -> Check:
        scheduler = self.scheduler()
        if scheduler is None:
            return Check(True)  # no scheduler in this app: nothing to wait for
        if scheduler.elector.leader_known:
            return Check(True)
        return Check(False, "scheduler leader unknown (the lock has not answered)")


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def add_ops_routes(app: web.Application, metrics: Metrics | None, readiness: Readiness | None) -> None:
    """GET /healthz always; /readyz and /metrics when given."""
    app.router.add_get("/healthz", healthz)
    if readiness is not None:

        async def readyz(_request: web.Request) -> web.Response:
            checks = await readiness.check()
            ready = all(check.ok for check in checks.values())
            body = {"ready": ready, "checks": {name: check.json() for name, check in checks.items()}}
            return web.json_response(body, status=200 if ready else 503)

        app.router.add_get("/readyz", readyz)
    if metrics is not None:

        async def scrape(_request: web.Request) -> web.Response:
            return web.Response(body=await metrics.render(), headers={"Content-Type": CONTENT_TYPE})

        app.router.add_get("/metrics", scrape)


class OpsServer:
    """/metrics, /healthz and /readyz on a port of their own (polling mode)."""

    def __init__(self, metrics: Metrics | None, readiness: Readiness | None, host: str, port: int) -> None:
        self.app = web.Application()
        add_ops_routes(self.app, metrics, readiness)
        self.host, self.port = host, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()

    @property
    def bound_port(self) -> int:
        """The port actually listened on (METRICS_PORT, or the one the OS chose for a test's port 0)."""
        assert self._runner is not None
        for address in self._runner.addresses:
            return int(address[1])
        raise RuntimeError("the ops server is not listening")

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
