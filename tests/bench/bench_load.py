"""Load benchmark: `python -m bot` under 3,000 users at once and 200 analyst questions at once, beside a
bare aiogram echo bot (tests/bench/echo_bot.py) measured in the same run.

Run: `python -m tests.bench.bench_load` (exit status 1 when a target is missed). For experiments:
BENCH_LOAD_USERS / BENCH_LOAD_QUESTIONS change the scale (3,000 / 200), BENCH_LOAD_BACKENDS picks the
backends (sqlite,postgres,redis), BENCH_LOAD_BOT_ENV adds
settings to the bot's environment ("UPDATES_CONCURRENCY=128 DB_POOL_SIZE=20"), BENCH_LOAD_PROFILE=dir
runs each bot process under cProfile (one .prof file per process, written when it exits).

Every bot is a real subprocess polling its own fake Bot API (standins/telegram, in this process: it is
Telegram, so its CPU is not the bot's). For the echo bot and per backend — SQLite, PostgreSQL (a
scratch database), PostgreSQL + Redis (a prefix of its own):
* start: process start → its first getUpdates reaching the fake (target ≤ 1.5 × echo), and the CPU
  the process used until then (less noisy than the wall time when other work shares the CPUs); the
  median of BENCH_LOAD_STARTS (3) starts, each against a fresh fake (one start varies by ±15 %), with
  the app's bytecode compiled first, as the Docker image has it (`compile_app`);
* two waves of `USERS` distinct users writing at once, Telegram's flood limits lifted in the fake and
  in the bot's own pacing (OUTGOING_*), so that processing capacity is what is measured: `/start` from
  new users, then `/help` from the same users. Updates/s = users / (first update pushed → last
  answer), target ≥ 0.5 × echo; CPU ms per update from /proc/<pid>/stat (utime + stime) over the
  wave, target ≤ 2 × echo; error replies and unanswered users, target 0;
* in a second process on the same database (the bot pacing itself to Telegram's limits, as in
  production), `QUESTIONS` of those users asking the analyst at once ("how does BTC look on the
  4h?"), with the fake's default (Telegram's) limits, a streaming stand-in model
  (standins/openai_server) and the stand-in exchange (standins/exchanges): all answered, 0 error
  replies, 0 × 429; first visible feedback (a message, chat action or draft in the chat) and the final
  answer, p95 from the push; charts rendered (PNG uploads) vs sent. On SQLite and on PostgreSQL +
  Redis: plain PostgreSQL adds no part the other two do not exercise. The echo bot gets the same
  messages (limits lifted), for its memory figure only;
* RSS idle (once the bot has warmed up its heavy modules, bot/runner.py's WarmUp), after each wave and
  after the burst (targets: idle ≤ 300 MB, after the burst ≤ 450 MB).
A backend whose service is unreachable is skipped with the reason. Other work on the machine shares
its two CPUs: the 1-minute load average is printed beside the figures.
"""

from __future__ import annotations

import asyncio
import compileall
import contextlib
import os
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from standins.exchanges import FakeBybit, FakeClock, default_specs
from standins.openai_server import FakeOpenAI, Reply
from standins.telegram import Call, FakeTelegramServer, FakeUser, RateLimiter, RateLimits
from tests.backends import Backend, flush_prefix
from tests.bench.bench_chat import ANSWER, percentile
from tests.bench.bench_outbox import DEFAULT_POSTGRES, DEFAULT_REDIS, postgres_database, sqlite_database
from tests.bench.load_process import TEXTS, Process, Replies, error_texts, sent_message
from tests.e2e.conftest import ROOT, bot_env

USERS = int(os.environ.get("BENCH_LOAD_USERS", "3000"))
QUESTIONS = int(os.environ.get("BENCH_LOAD_QUESTIONS", "200"))
PROFILE = os.environ.get("BENCH_LOAD_PROFILE", "")  # a folder: each bot process runs under cProfile
# Which backends to measure beside echo (experiments): any of sqlite, postgres, redis (PostgreSQL + Redis).
BACKENDS = os.environ.get("BENCH_LOAD_BACKENDS", "sqlite,postgres,redis").split(",")
QUESTION = "how does BTC look on the 4h?"
STREAM = Reply(ANSWER, chunks=10, delay=0.1)  # a second of streaming: the bot shows previews
TPUT, CPU_TARGET, START_TARGET = 0.5, 2.0, 1.5  # × echo: updates/s, CPU per update, start
IDLE_RSS_TARGET, BURST_RSS_TARGET = 300.0, 450.0  # MB
START_TIMEOUT, WAVE_TIMEOUT, BURST_TIMEOUT, WARM_TIMEOUT = 60.0, 120.0, 180.0, 30.0
START_SAMPLES = int(os.environ.get("BENCH_LOAD_STARTS", "3"))  # starts measured per bot (the median is shown)
# The bot's own pacing lifted with the fake's limits (the echo bot has none): capacity, not Telegram's limit.
LIFTED = {"OUTGOING_PER_SECOND": "1000", "OUTGOING_PRIVATE_PER_SECOND": "100", "OUTGOING_PRIVATE_BURST": "100"}


@dataclass
class Wave:
    name: str
    updates: int
    seconds: float
    cpu: float
    errors: int
    unanswered: int
    rss: float

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_ms(self) -> float:
        return self.cpu * 1000 / self.updates


@dataclass
class Burst:
    questions: int
    answered: int
    errors: int
    count_429: int
    feedback_p95: float
    final_p95: float
    rendered: int
    charts: int
    rss: float


@dataclass
class Run:
    name: str
    start: float = 0.0
    start_cpu: float = 0.0
    idle_rss: float = 0.0
    waves: list[Wave] = field(default_factory=list)
    burst: Burst | None = None
    load: float = 0.0
    skipped: str = ""
    failed: str = ""


# ---------------------------------------------------------------------------- the scenarios
async def wave(tg: FakeTelegramServer, bot: Process, users: list[FakeUser], command: str, errors: set[str]) -> Wave:
    replies = Replies(tg, {user.id for user in users}, errors)
    cpu = bot.cpu()
    pushed = time.time()
    for user in users:
        await tg.send_command(user, command)
    with contextlib.suppress(TimeoutError):
        await tg.wait_until(lambda: replies.answered(sent_message) >= len(users), WAVE_TIMEOUT, "every answer")
    cpu = bot.cpu() - cpu
    answered = replies.answered(sent_message)
    return Wave(
        command, len(users), replies.last - pushed, cpu, replies.error_replies, len(users) - answered, bot.rss()
    )


def final_answer(call: Call) -> bool:
    return call.method in TEXTS and "financial advice" in str(call.params.get("text", ""))


def finished(calls: list[Call]) -> bool:
    """The answer and its chart are in the chat."""
    return any(final_answer(call) for call in calls) and any(call.method == "sendPhoto" for call in calls)


async def burst(
    tg: FakeTelegramServer, llm: FakeOpenAI, bot: Process, users: list[FakeUser], errors: set[str]
) -> Burst:
    llm.script(*[STREAM] * len(users))
    tg.limiter = RateLimiter(RateLimits(), tg.clock)  # Telegram's own limits from here on
    count_429 = tg.count_429
    replies = Replies(tg, {user.id for user in users}, errors)
    pushed = time.time()
    for user in users:
        await tg.send_message(user, QUESTION)
    with contextlib.suppress(TimeoutError):
        await tg.wait_until(lambda: replies.answered(finished) >= len(users), BURST_TIMEOUT, "every answer")
    replies.scan()
    feedback = [calls[0].timestamp - pushed for calls in replies.calls.values()]
    finals = [
        next(c.timestamp for c in calls if final_answer(c)) - pushed
        for calls in replies.calls.values()
        if finished(calls)
    ]
    photos = [call for calls in replies.calls.values() for call in calls if call.method == "sendPhoto"]
    rendered = sum(1 for call in photos if str(call.params.get("photo", "")).startswith("<file"))
    return Burst(
        questions=len(users),
        answered=replies.answered(finished),
        errors=replies.error_replies,
        count_429=tg.count_429 - count_429,
        feedback_p95=percentile(feedback, 95) if feedback else float("nan"),
        final_p95=percentile(finals, 95) if finals else float("nan"),
        rendered=rendered,
        charts=len(photos),
        rss=bot.rss(),
    )  # fmt: skip


async def echo_burst(tg: FakeTelegramServer, bot: Process, users: list[FakeUser]) -> Burst:
    """The same questions to the echo bot, limits lifted (it does not pace itself): its memory after."""
    replies = Replies(tg, {user.id for user in users}, set())
    for user in users:
        await tg.send_message(user, QUESTION)
    with contextlib.suppress(TimeoutError):
        await tg.wait_until(lambda: replies.answered(sent_message) >= len(users), WAVE_TIMEOUT, "every echo")
    answered = replies.answered(sent_message)
    return Burst(len(users), answered, 0, 0, float("nan"), float("nan"), 0, 0, bot.rss())


@contextlib.asynccontextmanager
async def started(
    run: Run, tg: FakeTelegramServer, module: str, env: dict[str, str], *, warm: bool = True
) -> AsyncIterator[Process]:
    """Spawn the bot, wait for its first long poll (the start time) and its warm-up (the idle RSS)."""
    began = time.time()
    bot = await Process.spawn(module, env, ROOT, PROFILE if module == "bot" else "")
    try:
        try:
            await tg.wait_until(lambda: tg.updates.waiting > 0 or bool(tg.calls_to("getUpdates")), START_TIMEOUT)
        except TimeoutError:
            raise RuntimeError(f"{module} did not start:\n{bot.tail()}") from None
        run.start, run.start_cpu = time.time() - began, bot.cpu()
        if warm and module == "bot":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(bot.warmed.wait(), WARM_TIMEOUT)
        else:
            await asyncio.sleep(1.0)  # aiogram's first poll settles; nothing else to wait for
        run.idle_rss = bot.rss()
        yield bot
    finally:
        code = await bot.stop()
        if code != 0 and not run.failed:
            run.failed = f"{module} exited with {code}:\n{bot.tail()}"


async def start_once(module: str, env: dict[str, str]) -> tuple[float, float]:
    """One more start (its own fake Bot API, stopped at its first long poll): wall and CPU seconds."""
    async with FakeTelegramServer(bot_username="coinsight_bot", rate_limits=RateLimits.disabled()) as tg:
        sample = Run("start")
        async with started(
            sample, tg, module, {**env, "BOT_TOKEN": tg.token, "TELEGRAM_API_URL": tg.base_url}, warm=False
        ):
            pass
    if sample.failed:
        raise RuntimeError(sample.failed)
    return sample.start, sample.start_cpu


def _users(tg: FakeTelegramServer, count: int) -> list[FakeUser]:
    return [tg.add_user(f"User{i}", language_code="zh" if i % 4 == 0 else "en") for i in range(count)]


async def measure(run: Run, module: str, env: dict[str, str], services: Services, *, ask: bool = True) -> Run:
    """The waves (and the echo bot's burst) in one process; the bot's burst in a second one, on the same
    database, where the bot paces itself to Telegram's limits as in production."""
    errors = error_texts()
    try:
        async with FakeTelegramServer(bot_username="coinsight_bot", rate_limits=RateLimits.disabled()) as tg:
            users = _users(tg, USERS)
            lifted = {**env, **LIFTED, "BOT_TOKEN": tg.token, "TELEGRAM_API_URL": tg.base_url}
            samples = [await start_once(module, lifted) for _ in range(START_SAMPLES - 1)]
            async with started(run, tg, module, lifted) as bot:
                samples.append((run.start, run.start_cpu))
                # One start varies by ±15 % on this machine: the median of START_SAMPLES starts.
                run.start = statistics.median(wall for wall, _ in samples)
                run.start_cpu = statistics.median(cpu for _, cpu in samples)
                for command in ("/start", "/help"):
                    run.waves.append(await wave(tg, bot, users, command, errors))
                if module != "bot":
                    run.burst = await echo_burst(tg, bot, users[:QUESTIONS])
        if module == "bot" and ask:
            async with FakeTelegramServer(bot_username="coinsight_bot") as tg:
                users = _users(tg, QUESTIONS)  # the same Telegram ids: returning users
                second = Run(run.name)
                async with started(
                    second, tg, module, {**env, "BOT_TOKEN": tg.token, "TELEGRAM_API_URL": tg.base_url}
                ) as bot:
                    run.burst = await burst(tg, services.llm, bot, users, errors)
                run.failed = run.failed or second.failed
    except RuntimeError as exc:
        run.failed = str(exc)
    run.load = os.getloadavg()[0]
    return run


@dataclass
class Services:
    exchange: FakeBybit
    llm: FakeOpenAI


def bot_environment(services: Services, database_url: str, redis_url: str = "", prefix: str = "") -> dict[str, str]:
    llm_key = services.llm.api_key
    extra = dict(item.split("=", 1) for item in os.environ.get("BENCH_LOAD_BOT_ENV", "").split() if "=" in item)
    return bot_env(
        Backend("bench", database_url, redis_url, prefix),
        **extra,
        EXCHANGE_API_URLS=f"bybit={services.exchange.url}",
        OPENAI_API_KEY=llm_key,
        OPENAI_BASE_URL=services.llm.base_url,
    )


async def run_echo(services: Services) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TEST_"))}
    env.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return await measure(Run("echo bot (aiogram, no middlewares)"), "tests.bench.echo_bot", env, services)


async def run_sqlite(services: Services) -> Run:
    async with sqlite_database() as url:
        return await measure(Run("SQLite, in-process store"), "bot", bot_environment(services, url), services)


async def run_postgres(services: Services, with_redis: bool) -> Run:
    name = "PostgreSQL + Redis" if with_redis else "PostgreSQL, in-process store"
    postgres_url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_POSTGRES
    redis_url = (os.environ.get("TEST_REDIS_URL") or DEFAULT_REDIS) if with_redis else ""
    prefix = f"bench:{uuid.uuid4().hex[:12]}:"
    if redis_url:
        redis = Redis.from_url(redis_url, socket_connect_timeout=3)
        try:
            await redis.ping()
        except (RedisError, OSError) as exc:
            return Run(name, skipped=f"Redis unreachable at {redis_url}: {exc}")
        finally:
            await redis.aclose()
    try:
        async with postgres_database(postgres_url) as url:
            env = bot_environment(services, url, redis_url, prefix)
            return await measure(Run(name), "bot", env, services, ask=with_redis)
    except (SQLAlchemyError, OSError) as exc:
        return Run(name, skipped=f"PostgreSQL unreachable at {postgres_url}: {type(exc).__name__}: {exc}")
    finally:
        if redis_url:
            with contextlib.suppress(RedisError, OSError):
                await flush_prefix(redis_url, prefix)


async def run() -> list[Run]:
    exchange = FakeBybit(default_specs(), clock=FakeClock(frozen=False))
    await exchange.start()
    try:
        async with FakeOpenAI(responder=lambda body: ANSWER) as llm:
            services = Services(exchange, llm)
            runs = [await run_echo(services)]
            if "sqlite" in BACKENDS:
                runs.append(await run_sqlite(services))
            if "postgres" in BACKENDS:
                runs.append(await run_postgres(services, with_redis=False))
            if "redis" in BACKENDS:
                runs.append(await run_postgres(services, with_redis=True))
            return runs
    finally:
        await exchange.close()


# ---------------------------------------------------------------------------- the table
Row = tuple[str, str, str, str, str, str]  # figure, value, echo, target, ratio, ok


def _ok(good: bool) -> str:
    return "✓" if good else "FAIL"


def _ratio(value: float, echo: float) -> str:
    return f"{value / echo:.2f}" if echo > 0 else ""


def _versus(figure: str, value: float, echo: float, fmt: str, target: float, higher: bool) -> Row:
    """A figure beside the echo bot's, with its target as a ratio to echo."""
    ratio = value / echo if echo > 0 else float("nan")
    good = ratio >= target if higher else ratio <= target
    return (
        figure,
        format(value, fmt),
        format(echo, fmt),
        f"{'≥' if higher else '≤'} {target:g} × echo",
        f"{ratio:.2f}",
        _ok(good),
    )


def _limit(figure: str, value: float, echo: float | str, limit: float, fmt: str = ".0f") -> Row:
    shown_echo = format(echo, fmt) if isinstance(echo, float) else echo
    return (
        figure,
        format(value, fmt),
        shown_echo,
        f"≤ {limit:{fmt}}",
        f"{value / limit:.2f}" if limit else "",
        _ok(value <= limit),
    )


def rows(run: Run, echo: Run) -> list[Row]:
    table: list[Row] = [
        _versus(
            f"start → first getUpdates (median of {START_SAMPLES}), s",
            run.start,
            echo.start,
            ".2f",
            START_TARGET,
            higher=False,
        ),
        (
            "  CPU used until then, s",
            f"{run.start_cpu:.2f}",
            f"{echo.start_cpu:.2f}",
            "",
            _ratio(run.start_cpu, echo.start_cpu),
            "",
        ),
        _limit("RSS idle (warmed up), MB", run.idle_rss, echo.idle_rss, IDLE_RSS_TARGET),
    ]
    for ours, theirs in zip(run.waves, echo.waves, strict=False):
        table += [
            _versus(f"{ours.name} × {ours.updates:,}: updates/s", ours.rate, theirs.rate, ".0f", TPUT, True),
            _versus(f"{ours.name}: CPU per update, ms", ours.cpu_ms, theirs.cpu_ms, ".2f", CPU_TARGET, higher=False),
            _limit(f"{ours.name}: error replies", ours.errors, float(theirs.errors), 0),
            _limit(f"{ours.name}: unanswered", ours.unanswered, float(theirs.unanswered), 0),
            (f"{ours.name}: RSS after, MB", f"{ours.rss:.0f}", f"{theirs.rss:.0f}", "", "", ""),
        ]  # fmt: skip
    if run.burst is not None:
        b, echo_rss = run.burst, echo.burst.rss if echo.burst else float("nan")
        all_answered = b.answered == b.questions
        table += [
            (f"analyst × {b.questions}: answered", str(b.answered), "", f"= {b.questions}", "", _ok(all_answered)),
            _limit("  error replies", b.errors, "", 0),
            _limit("  429 answers", b.count_429, "", 0),
            ("  first visible feedback p95, s", f"{b.feedback_p95:.2f}", "", "", "", ""),
            ("  final answer p95, s", f"{b.final_p95:.2f}", "", "", "", ""),
            ("  charts rendered / sent", f"{b.rendered} / {b.charts}", "", "", "", ""),
            _limit("  RSS after the burst, MB", b.rss, echo_rss, BURST_RSS_TARGET),
        ]  # fmt: skip
    table.append(
        ("machine load (1-minute average)", f"{run.load:.1f}", f"{echo.load:.1f}", f"{os.cpu_count()} cores", "", "")
    )
    return table


def report(run: Run, echo: Run) -> bool:
    """Print one backend's table; False when a target was missed."""
    print(f"\n{run.name}")
    if run.skipped:
        print(f"  SKIPPED: {run.skipped}")
        return True
    if run.failed:
        print(f"  FAIL: {run.failed}")
        return False
    table = rows(run, echo)
    print(f"  {'figure':<40} {'value':>11} {'echo':>8} {'target':>15} {'ratio':>6}  ok")
    for figure, value, theirs, target, ratio, ok in table:
        print(f"  {figure:<40} {value:>11} {theirs:>8} {target:>15} {ratio:>6}  {ok}")
    return all(ok != "FAIL" for *_, ok in table)


def compile_app() -> None:
    """The app's bytecode, compiled as the Docker image has it. This machine may set
    PYTHONDONTWRITEBYTECODE=1: each bot process would then compile every module it imports again
    (~0.2 s of CPU per start), a cost the echo bot (one file) and a deployed bot do not pay."""
    for package in ("bot", "handlers", "services", "db", "migrations"):
        compileall.compile_dir(ROOT / package, quiet=1)


def main() -> int:
    if PROFILE:
        Path(PROFILE).mkdir(parents=True, exist_ok=True)
    compile_app()
    print(
        f"load: {USERS:,} users at once (new, then again; Bot API limits lifted) and {QUESTIONS} analyst questions "
        f"at once (Telegram's limits), `python -m bot` beside an aiogram echo bot, same run"
    )
    echo, *runs = asyncio.run(run())
    if echo.failed:
        print(f"FAIL: the echo bot: {echo.failed}")
        return 1
    ok = all([report(r, echo) for r in runs])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
