"""Risk tick benchmark: 10,000 armed price alerts and 2,000 declared positions over 200 coins.

Run: `python -m tests.bench.bench_risk` (exit status 1 when a target is missed).

The fake Bybit (real ccxt over HTTP) runs in a thread of its own with its own event loop, so the CPU
time measured (`time.thread_time` of the bot's thread) is the engine's: reading the alerts and
positions from SQLite, one ticker batch, evaluating everything in memory and writing what fired.
Targets: ≤ 1 s of CPU per minute-tick; one ticker request per exchange per tick (not one per alert).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import statistics
import string
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from db import migrate
from db.engine import create_engine, create_sessionmaker
from db.models import Position, PriceAlert, User
from services.i18n import Translations
from services.market import MarketService
from services.risk import RiskEngine
from standins.exchanges import DEFAULT_NOW, FAST_CCXT, FAST_RETRY, FakeBybit, FakeClock, SymbolSpec

ALERTS, POSITIONS, SYMBOLS, USERS = 10_000, 2_000, 200, 1_000
TICKS = 5
FIRING = 100  # alerts crossed in the last tick
TARGET_CPU_MS = 1_000.0
TARGET_REQUESTS = 1  # ticker batches per exchange per tick


def bases() -> list[str]:
    names = ("X" + "".join(p) for p in itertools.product(string.ascii_uppercase, repeat=2))
    return list(itertools.islice((name for name in names if name != "XBT"), SYMBOLS))  # ccxt reads XBT as BTC


@contextmanager
def fake_in_thread(fake: FakeBybit) -> Iterator[None]:
    """Serve `fake` from its own thread and event loop (its CPU is not the engine's)."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(fake.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, name="fake-bybit", daemon=True)
    thread.start()
    ready.wait(30)
    try:
        yield
    finally:
        asyncio.run_coroutine_threadsafe(fake.close(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)


async def populate(url: str, names: list[str], prices: dict[str, float], armed: datetime) -> None:
    engine = create_engine(url)
    await migrate.upgrade(engine)
    rng = random.Random(7)
    async with create_sessionmaker(engine)() as session:
        users = [
            {
                "telegram_id": 5_000_000 + i,
                "first_name": f"U{i}",
                "invite_code": f"b{i:07d}",
                "locale": "zh" if i % 3 == 0 else None,
                "language_code": "en",
            }
            for i in range(USERS)
        ]
        await session.execute(insert(User), users)
        alerts = []
        for i in range(ALERTS):
            base = names[i % SYMBOLS]
            kind = rng.choice(("above", "below", "move"))
            price = prices[base]
            level = {"above": price * rng.uniform(1.1, 1.5), "below": price * rng.uniform(0.5, 0.9), "move": price}
            alerts.append(
                {
                    "user_id": 1 + i % USERS,
                    "chat_id": 5_000_000 + i % USERS,
                    "symbol": base,
                    "exchange": "bybit",
                    "condition": kind,
                    "price": level[kind],
                    "pct": 20.0 if kind == "move" else None,
                    "window": "1d" if kind == "move" else None,
                    "active": True,
                    "armed_at": armed,
                    "generation": 1,
                }
            )
        await session.execute(insert(PriceAlert), alerts)
        positions = []
        for i in range(POSITIONS):
            base = names[i % SYMBOLS]
            entry = prices[base]
            side = rng.choice(("long", "short"))
            liq = entry * (0.905 if side == "long" else 1.095)
            positions.append(
                {
                    "user_id": 1 + i % USERS,
                    "chat_id": 5_000_000 + i % USERS,
                    "symbol": base,
                    "exchange": "bybit",
                    "side": side,
                    "entry": entry,
                    "leverage": 10.0,
                    "size": 1.0,
                    "liquidation_price": liq,
                    "mmr": 0.005,
                    "active": True,
                    "warned": "",
                    "created_at": armed,
                }
            )
        await session.execute(insert(Position), positions)
        await session.commit()
    await engine.dispose()


async def run() -> tuple[list[float], list[float], list[int], float, int]:
    names = bases()
    clock = FakeClock(DEFAULT_NOW)
    fake = FakeBybit([SymbolSpec(base, price=10.0 + i) for i, base in enumerate(names)], clock=clock)
    prices = {base: fake.book.last_price(base) for base in names}
    armed = datetime.fromtimestamp(clock.time(), UTC)
    with tempfile.TemporaryDirectory() as folder, fake_in_thread(fake):
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
        await populate(url, names, prices, armed)
        engine = create_engine(url)
        market = MarketService(
            ["bybit"],
            api_urls={"bybit": fake.url},
            retry=FAST_RETRY,
            clock=clock,
            close_grace_ms=0,
            ccxt_config=FAST_CCXT,
        )
        risk = RiskEngine(create_sessionmaker(engine), market, Translations())
        try:
            await market.start()
            cpu: list[float] = []
            wall: list[float] = []
            requests: list[int] = []
            for tick in range(TICKS + 1):  # the first tick warms up (imports, statement caches)
                clock.advance(60)
                now = datetime.fromtimestamp(clock.time(), UTC)
                before = len(fake.requests)
                started, started_cpu = time.perf_counter(), time.thread_time()
                report = await risk.tick(now)
                elapsed_cpu, elapsed = time.thread_time() - started_cpu, time.perf_counter() - started
                assert report.alerts == ALERTS and report.positions == POSITIONS and report.priced == SYMBOLS, report
                if tick:
                    cpu.append(elapsed_cpu * 1000)
                    wall.append(elapsed * 1000)
                    requests.append(len(fake.requests) - before)
            # a tick in which FIRING alerts cross (their coins' prices jump 60 %)
            for base in names[: FIRING * SYMBOLS // ALERTS * 3]:
                fake.set_price(base, prices[base] * 1.6)
            clock.advance(60)
            started_cpu = time.thread_time()
            report = await risk.tick(datetime.fromtimestamp(clock.time(), UTC) + timedelta(seconds=1))
            firing_cpu = (time.thread_time() - started_cpu) * 1000
            fired = report.fired
        finally:
            await market.close()
            await engine.dispose()
    return cpu, wall, requests, firing_cpu, fired


def main() -> int:
    cpu, wall, requests, firing_cpu, fired = asyncio.run(run())
    rows = [
        ("tick CPU, nothing fires (median ms)", statistics.median(cpu), TARGET_CPU_MS),
        ("tick wall time (median ms)", statistics.median(wall), None),
        (f"tick CPU, {fired} alerts fire (ms)", firing_cpu, TARGET_CPU_MS),
        ("exchange requests per tick (max)", float(max(requests)), float(TARGET_REQUESTS)),
    ]
    print(f"risk tick: {ALERTS:,} alerts, {POSITIONS:,} positions, {SYMBOLS} coins, 1 exchange, {TICKS} ticks")
    print(f"{'figure':<40} {'value':>9} {'target':>8} {'ratio':>6}  ok")
    ok = True
    for name, value, target in rows:
        good = target is None or value <= target
        ok &= good
        ratio = f"{value / target:>6.2f}" if target else f"{'':>6}"
        limit = f"{target:>8.0f}" if target is not None else f"{'':>8}"
        print(f"{name:<40} {value:>9.1f} {limit} {ratio}  {'✓' if good else '✗'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
