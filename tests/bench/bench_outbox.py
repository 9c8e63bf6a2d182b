"""Outbox benchmark: a 10,000-chat push at Telegram's limit, with users' replies going first.

Run: `python -m tests.bench.bench_outbox` (exit status 1 when a correctness target fails: a 429, a
duplicate, a lost row or a failed reply; a rate or a latency short of its target prints FAIL only).
BENCH_OUTBOX_SCALE and BENCH_OUTBOX_CONCURRENCY change the scale (10) and OUTBOX_CONCURRENCY (unset:
the bot's default, sized from the rate).

Telegram's limits (the stand-in's) and the bot's OUTGOING_* settings are both scaled ×`SCALE` over the
same periods, so the push takes about 40 s instead of six minutes; OUTBOX_CONCURRENCY's default grows
with OUTGOING_PER_SECOND. Like `python -m bot` (bot/runner.py), the bot's side freezes its startup heap
before the push. The stand-in Bot API runs in a process of its own (it is Telegram, not the bot: its
CPU and its pauses are not the bot's) and judges every call with sliding windows. Scenarios:
* one bot process-equivalent (a Bot with the RateLimitMiddleware on the in-process limiter, and an
  OutboxSender) on a migrated SQLite file, draining 10,000 rows (private chats and groups mixed, one
  message each); while it runs, `INTERACTIVE` plain `bot.send_message` calls (the interactive lane)
  to other private chats, one every `INTERACTIVE_GAP` s;
* the same with two replicas (two Bots, two senders) sharing one budget in Redis (RedisLimiterBackend,
  same prefix) and one outbox in a scratch PostgreSQL database; skipped, with the reason, when either
  service is unreachable (TEST_REDIS_URL / TEST_DATABASE_URL, or the local defaults).
Measured on the stand-in: achieved rate = messages it accepted (push and replies: both count against
the overall limit) / the time from its first to its last, over the configured overall limit (target
≥ 0.95), also apart for the time while replies go out (bulk keeps to OUTGOING_BULK_SHARE of the window
only while a reply waits for its slot, so the ceiling is the same) and the rest; 429s, duplicates
(messages per chat) and rows not delivered (target 0). On the bot's side: each reply's latency, call →
answer (target p95 ≤ 2 s), CPU per message, and its garbage collections (the event loop stands still
during each).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from bot.configs import outgoing_limits
from bot.factory import create_bot
from bot.heap import freeze_startup_heap
from bot.sender import OutboxSender
from bot.settings import Settings, load_settings
from db import migrate
from db.engine import DEFAULT_POOL_SIZE, create_engine, create_sessionmaker, warm_pool
from services.delivery import OutboxMessage, enqueue
from services.ratelimit import LimiterBackend, MemoryLimiterBackend, OutgoingLimits
from services.ratelimit_redis import RedisLimiterBackend
from standins.telegram import FakeTelegramServer, RateLimits
from tests.backends import flush_prefix

SCALE = int(os.environ.get("BENCH_OUTBOX_SCALE", "10"))
CONCURRENCY = int(os.environ.get("BENCH_OUTBOX_CONCURRENCY", "0")) or None  # OUTBOX_CONCURRENCY per sender
PRIVATE_CHATS, GROUP_CHATS = 9_000, 1_000
INTERACTIVE, INTERACTIVE_GAP = 100, 0.05  # replies during the push, one every 50 ms of real time
INTERACTIVE_AFTER = 0.2  # share of the rows recorded before the first reply: the push is in full swing
RATE_TARGET, P95_TARGET = 0.95, 2.0  # achieved rate / limit; seconds
SCENARIO_TIMEOUT = 180.0  # seconds for a push to drain, whatever happens
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
Sessions = async_sessionmaker[AsyncSession]


# ---------------------------------------------------------------------------- the stand-in's process
@dataclass(frozen=True)
class Chats:
    token: str
    base_url: str
    private: list[int]
    groups: list[int]
    interactive: list[int]

    @property
    def pushed(self) -> list[int]:
        """Private chats and groups mixed (a fixed shuffle): both kinds all along the push."""
        ids = self.private + self.groups
        random.Random(9).shuffle(ids)
        return ids


@dataclass(frozen=True)
class Seen:
    """What the stand-in saw: messages per chat, every accepted message (time, chat), 429s."""

    per_chat: dict[int, int]
    accepted: list[tuple[float, int]]
    count_429: int
    cpu_seconds: float

    def rate(self, start: float = -math.inf, end: float = math.inf) -> float:
        """Messages per second accepted within [start, end], clipped to the first and the last."""
        if not self.accepted:
            return 0.0
        start, end = max(start, self.accepted[0][0]), min(end, self.accepted[-1][0])
        count = sum(1 for at, _ in self.accepted if start <= at <= end)
        return count / (end - start) if end > start else 0.0


def _standin_process(conn: Connection, scale: int) -> None:
    asyncio.run(_serve(conn, scale))


async def _serve(conn: Connection, scale: int) -> None:
    async with FakeTelegramServer(rate_limits=RateLimits.scaled(scale)) as tg:
        owner = tg.add_user("Owner")
        chats = Chats(
            token=tg.token,
            base_url=tg.base_url,
            private=[tg.add_user(f"P{i}").id for i in range(PRIVATE_CHATS)],
            groups=[tg.add_group(f"G{i}", owner).id for i in range(GROUP_CHATS)],
            interactive=[tg.add_user(f"I{i}").id for i in range(INTERACTIVE)],
        )
        gc.freeze()  # Telegram does not stop for a full collection of its 10,000 chats: nor does this
        cpu = time.process_time()
        conn.send(chats)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # "report"
        accepted = [(c.timestamp, int(c.params["chat_id"])) for c in tg.calls if c.ok and c.method == "sendMessage"]
        every = chats.private + chats.groups + chats.interactive
        conn.send(
            Seen(
                per_chat={chat_id: len(tg.bot_messages(chat_id)) for chat_id in every},
                accepted=sorted(accepted),
                count_429=tg.count_429,
                cpu_seconds=time.process_time() - cpu,
            )
        )


class Standin:
    """The stand-in Bot API in a child process, reached over HTTP; `seen()` ends it."""

    def __init__(self, scale: int = SCALE) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_standin_process, args=(child, scale), daemon=True)

    async def start(self) -> Chats:
        self._process.start()
        chats = await self._receive(60)
        assert isinstance(chats, Chats), chats
        return chats

    async def seen(self) -> Seen:
        self._conn.send("report")
        seen = await self._receive(60)
        assert isinstance(seen, Seen), seen
        return seen

    async def _receive(self, timeout: float) -> object:
        if not await asyncio.get_running_loop().run_in_executor(None, self._conn.poll, timeout):
            raise TimeoutError("the stand-in Bot API did not answer")
        return self._conn.recv()

    def close(self) -> None:
        self._process.join(10)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5)


# ---------------------------------------------------------------------------- the bot's side
def bench_settings(chats: Chats, database_url: str) -> Settings:
    return load_settings(
        _env_file=None,
        bot_token=chats.token,
        telegram_api_url=chats.base_url,
        database_url=database_url,
        redis_url="",
        openai_api_key="",
        exchanges=["bybit"],
        exchange_api_urls={"bybit": "http://127.0.0.1:9"},
        outgoing_per_second=30 * SCALE,
        outgoing_private_per_second=1.0 * SCALE,
        outgoing_private_burst=3 * SCALE,
        outgoing_group_per_minute=20 * SCALE,
        outbox_concurrency=CONCURRENCY,
    )


def bench_limits() -> OutgoingLimits:
    return outgoing_limits(bench_settings(Chats("", "", [], [], []), "sqlite+aiosqlite://"))


@dataclass
class Push:
    rows: int
    backlog: int = -1
    dead: int = 0
    shares: list[int] = field(default_factory=list)  # rows sent by each replica
    latencies: list[float] = field(default_factory=list)
    reply_errors: list[str] = field(default_factory=list)
    cpu_seconds: float = 0.0
    load: float = 0.0  # the machine's 1-minute load average at the end (other work shares its cores)
    timed_out: bool = False
    collections: list[tuple[int, float]] = field(default_factory=list)  # (generation, seconds) of each


async def _reply(bot: Bot, chat_id: int, push: Push) -> None:
    started = time.perf_counter()
    try:
        await bot.send_message(chat_id, "Your answer.")
    except TelegramAPIError as exc:
        push.reply_errors.append(f"{type(exc).__name__}: {exc.message}")
        return
    push.latencies.append(time.perf_counter() - started)


async def _interactive(bots: list[Bot], senders: list[OutboxSender], chats: Chats, push: Push) -> None:
    """Replies in the interactive lane (no `use_lane`), one every INTERACTIVE_GAP s of real time,
    from INTERACTIVE_AFTER of the push on; each bot sends its share."""
    await senders[0].wait_recorded(math.ceil(push.rows * INTERACTIVE_AFTER / len(senders)))
    replies = []
    for i, chat_id in enumerate(chats.interactive):
        replies.append(asyncio.create_task(_reply(bots[i % len(bots)], chat_id, push)))
        await asyncio.sleep(INTERACTIVE_GAP)
    await asyncio.gather(*replies)


async def _drained(senders: list[OutboxSender], rows: int) -> None:
    """Until every row has a recorded result and none is open. The senders share the rows in any
    way, so this looks at their total ten times a second (nothing next to a push's own work)."""
    while sum(sender.recorded for sender in senders) < rows or (await senders[0].stats()).backlog:  # noqa: ASYNC110
        await asyncio.sleep(0.1)


@contextlib.contextmanager
def collections_timed(push: Push) -> Iterator[None]:
    """Each garbage collection's generation and pause, into `push.collections`."""
    started: list[float] = []

    def timing(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            push.collections.append((info["generation"], time.perf_counter() - started.pop()))

    gc.callbacks.append(timing)
    try:
        yield
    finally:
        gc.callbacks.remove(timing)


async def run_push(chats: Chats, sessionmaker: Sessions, settings: Settings, limiters: list[LimiterBackend]) -> Push:
    """Enqueue one message for every pushed chat, then drain the outbox with one sender per limiter."""
    async with sessionmaker() as session:
        payload = OutboxMessage.build(text="BTC broke out of its range.")
        rows = await enqueue(session, kind="signal", ref_id="bench", chat_ids=chats.pushed, payload=payload)
        await session.commit()
    push = Push(rows=rows)
    bots = [create_bot(settings, limiter) for limiter in limiters]
    senders = [OutboxSender.from_settings(bot, sessionmaker, settings) for bot in bots]
    freeze_startup_heap()  # what bot/runner.py does once the bot is wired
    cpu = time.process_time()
    tasks = [asyncio.create_task(sender.run(), name=f"bench-sender-{i}") for i, sender in enumerate(senders)]
    try:
        for sender in senders:
            sender.wake()
        with collections_timed(push):
            async with asyncio.timeout(SCENARIO_TIMEOUT):
                await asyncio.gather(_interactive(bots, senders, chats, push), _drained(senders, rows))
    except TimeoutError:
        push.timed_out = True
    finally:
        push.cpu_seconds, push.load = time.process_time() - cpu, os.getloadavg()[0]
        await asyncio.gather(*(sender.stop(grace=10) for sender in senders))
        await asyncio.gather(*tasks)
        for bot in bots:
            await bot.session.close()
    stats = await senders[0].stats()
    push.backlog, push.dead = stats.backlog, stats.dead_total
    push.shares = [sender.worker.counters.sent for sender in senders]
    return push


# ---------------------------------------------------------------------------- scenarios
@dataclass
class Result:
    name: str
    push: Push | None = None
    seen: Seen | None = None
    chats: Chats | None = None
    skipped: str = ""


@contextlib.asynccontextmanager
async def sqlite_database() -> AsyncIterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
        engine = create_engine(url)
        await migrate.upgrade(engine)
        await engine.dispose()
        yield url


@contextlib.asynccontextmanager
async def postgres_database(admin_url: str) -> AsyncIterator[str]:
    """A scratch database, migrated; dropped afterwards."""
    name = f"coinsight_bench_{os.getpid()}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        engine = create_engine(url)
        await migrate.upgrade(engine)
        await engine.dispose()
        yield url
    finally:
        with contextlib.suppress(SQLAlchemyError, OSError):  # unreachable from the start: nothing to drop
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def scenario(name: str, database_url: str, limiters: list[LimiterBackend] | None = None) -> Result:
    """A push through one sender per limiter (one in-process limiter by default)."""
    standin = Standin()
    try:
        chats = await standin.start()
        settings = bench_settings(chats, database_url)
        engine = create_engine(database_url)
        try:
            await warm_pool(engine, DEFAULT_POOL_SIZE)  # what bot/runner.py does at start
            limiters = limiters or [MemoryLimiterBackend(limits=outgoing_limits(settings))]
            push = await run_push(chats, create_sessionmaker(engine), settings, limiters)
        finally:
            await engine.dispose()
        return Result(name, push, await standin.seen(), chats)
    finally:
        standin.close()


async def replicas() -> Result:
    name = "2 replicas: Redis limiter (shared) + PostgreSQL outbox"
    redis_url = os.environ.get("TEST_REDIS_URL") or DEFAULT_REDIS
    postgres_url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_POSTGRES
    redis = Redis.from_url(redis_url, socket_connect_timeout=3)
    prefix = f"bench:{uuid.uuid4().hex[:12]}:"
    try:
        try:
            await redis.ping()
        except (RedisError, OSError) as exc:
            return Result(name, skipped=f"Redis unreachable at {redis_url}: {exc}")
        # Both limiters on the same prefix: one budget for the two bots, as for replicas of one bot.
        shared: list[LimiterBackend] = [RedisLimiterBackend(redis, bench_limits(), prefix=prefix) for _ in range(2)]
        try:
            async with postgres_database(postgres_url) as url:
                return await scenario(name, url, shared)
        except (SQLAlchemyError, OSError) as exc:
            return Result(name, skipped=f"PostgreSQL unreachable at {postgres_url}: {type(exc).__name__}: {exc}")
    finally:
        await redis.aclose()
        with contextlib.suppress(RedisError, OSError):
            await flush_prefix(redis_url, prefix)


# ---------------------------------------------------------------------------- the table
def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _ok(good: bool) -> str:
    return "✓" if good else "FAIL"


def report(result: Result) -> bool:
    """Print the scenario's table; False when a correctness target failed."""
    print(f"\n{result.name}")
    if result.skipped:
        print(f"  SKIPPED: {result.skipped}")
        return True
    push, seen, chats = result.push, result.seen, result.chats
    assert push is not None and seen is not None and chats is not None
    if not seen.accepted:
        print("  FAIL: the stand-in accepted no message")
        return False
    limit, limits = 30 * SCALE, bench_limits()
    # The most the limiter lets through: its windows are OUTGOING_SAFETY longer than Telegram's. Bulk
    # keeps to OUTGOING_BULK_SHARE only while a reply waits for a slot, which a reply fills.
    ceiling = 1 / (1 + limits.safety)
    most = f"≤ {ceiling:.3f}"
    first, last = seen.accepted[0][0], seen.accepted[-1][0]
    repliers = set(chats.interactive)
    replies = [at for at, chat_id in seen.accepted if chat_id in repliers]
    # Users wait from their first reply until a window after the last: bulk keeps to its share.
    busy_from, busy_to = (replies[0], replies[-1] + 1.0) if replies else (last, last)
    busy_seconds = busy_to - busy_from
    quiet_seconds = (busy_from - first) + max(0.0, last - busy_to)
    quiet_count = sum(1 for at, _ in seen.accepted if not busy_from <= at <= busy_to)
    rate, busy, quiet = seen.rate(), seen.rate(busy_from, busy_to), quiet_count / max(quiet_seconds, 1e-9)
    duplicates = sum(max(0, n - 1) for n in seen.per_chat.values())
    unseen = sum(1 for chat_id in chats.private + chats.groups if seen.per_chat.get(chat_id, 0) == 0)
    lost = max(unseen, push.backlog + push.dead)
    missing = INTERACTIVE - len(push.latencies)
    p50, p95 = (statistics.median(push.latencies), percentile(push.latencies, 95)) if push.latencies else (0, 0)
    late = p95 / P95_TARGET
    per_message = 1000 / len(seen.accepted)
    concurrency = bench_settings(chats, "sqlite+aiosqlite://").outbox_in_flight
    full = [seconds for generation, seconds in push.collections if generation == 2]
    pauses = sorted(seconds for _, seconds in push.collections)
    gc_ms = f"{sum(pauses) * 1e3:.0f}, {max(pauses, default=0) * 1e3:.1f}"
    rows = [
        ("scale: Telegram's limits and OUTGOING_*", f"×{SCALE}", "", "", ""),
        ("OUTBOX_CONCURRENCY per sender", f"{concurrency}", "", "", ""),
        ("chats pushed: private + groups", f"{len(chats.private):,} + {len(chats.groups):,}", "", "", ""),
        ("rows sent by each replica", " + ".join(f"{n:,}" for n in push.shares), "", "", ""),
        ("messages accepted: push + replies", f"{len(seen.accepted):,}", "", "", ""),
        ("first → last accepted, s", f"{last - first:.1f}", "", "", ""),
        ("achieved rate, msg/s", f"{rate:.1f}", f"{limit}/s", f"{rate / limit:.3f}", _ok(rate >= RATE_TARGET * limit)),
        ("  while no reply goes out", f"{quiet:.1f}", most, f"{quiet / limit:.3f}", ""),
        (f"  while replies go out ({busy_seconds:.1f} s)", f"{busy:.1f}", most, f"{busy / limit:.3f}", ""),
        ("429 answers", f"{seen.count_429}", "0", "", _ok(seen.count_429 == 0)),
        ("duplicates (messages per chat > 1)", f"{duplicates}", "0", "", _ok(duplicates == 0)),
        ("rows not delivered", f"{lost}", "0", "", _ok(lost == 0)),
        ("interactive replies failed", f"{missing}", "0", "", _ok(missing == 0)),
        ("interactive latency p50, s", f"{p50:.3f}", "", "", ""),
        ("interactive latency p95, s", f"{p95:.3f}", f"{P95_TARGET} s", f"{late:.3f}", _ok(late <= 1)),
        ("bot CPU per message, ms", f"{push.cpu_seconds * per_message:.2f}", "", "", ""),
        ("bot GCs: young + full", f"{len(pauses) - len(full)} + {len(full)}", "", "", ""),
        ("bot GC pauses: total, longest, ms", gc_ms, "", "", ""),
        ("stand-in CPU per message, ms", f"{seen.cpu_seconds * per_message:.2f}", "", "", ""),
        ("machine load (1-minute average)", f"{push.load:.1f}", f"{os.cpu_count()} cores", "", ""),
    ]  # fmt: skip
    print(f"  {'figure':<40} {'value':>14} {'limit/target':>13} {'ratio':>7}  ok")
    for figure, value, target, ratio, ok in rows:
        print(f"  {figure:<40} {value:>14} {target:>13} {ratio:>7}  {ok}")
    if push.timed_out:
        print(f"  FAIL: not drained within {SCENARIO_TIMEOUT:.0f} s")
    for error in sorted(set(push.reply_errors)):
        print(f"  reply error: {error}")
    return not push.timed_out and seen.count_429 == 0 and duplicates == 0 and lost == 0 and missing == 0


async def run() -> list[Result]:
    async with sqlite_database() as url:
        results = [await scenario("1 bot: in-process limiter + SQLite outbox", url)]
    results.append(await replicas())
    return results


def main() -> int:
    print(
        f"outbox push to {PRIVATE_CHATS + GROUP_CHATS:,} chats at Telegram's limits ×{SCALE}, with {INTERACTIVE} "
        f"replies, one every {INTERACTIVE_GAP * 1000:.0f} ms, during it (targets: rate ≥ {RATE_TARGET} × limit, "
        f"reply p95 ≤ {P95_TARGET:.0f} s; 0 × 429, 0 duplicates, 0 lost)"
    )
    ok = all([report(result) for result in asyncio.run(run())])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
