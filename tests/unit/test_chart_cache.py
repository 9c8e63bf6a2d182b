"""The chart cache (services.market.chart_cache): single flight, bounds, the bounded pool, file_ids.

Renders are injected callables (a counter around the real `render_view`, whose pictures this module
draws once per distinct view, or one that blocks until the test lets it go); the sends are the Bot
API's side, played here by small recorders. The same cache through the real aiogram Bot is in
tests/unit/test_chart_cache_sender.py and tests/flow/test_chart_once.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import pickle
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import pytest

from services.kv import KeyValueStore, MemoryStore
from services.market import MarketView
from services.market.chart_cache import ChartCache, ChartKey, Delivery
from services.market.charts import CHART_STYLE, render_view
from tests.unit.test_one_formatter import make_view

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
WAIT = 30.0  # a bound for waits on other threads: reached only when the claim is false


_DRAWN: dict[bytes, bytes] = {}  # the real picture of each distinct view these tests use, drawn once
_DRAWN_LOCK = threading.Lock()


def real_picture(view: MarketView) -> bytes:
    """`render_view(view)`, drawn once per module for each distinct view (a render is ~0.1–0.3 s of CPU;
    the tests here count how often the cache asks for one, not how long drawing takes)."""
    digest = hashlib.sha256(pickle.dumps(view)).digest()
    with _DRAWN_LOCK:
        if digest not in _DRAWN:
            _DRAWN[digest] = render_view(view)
        return _DRAWN[digest]


class Renders:
    """The real render, counted (on the rendering thread)."""

    def __init__(self) -> None:
        self.calls = 0
        self.threads: set[int] = set()
        self._lock = threading.Lock()

    def __call__(self, view: MarketView) -> bytes:
        with self._lock:
            self.calls += 1
            self.threads.add(threading.get_ident())
        return real_picture(view)


class Gate:
    """A render that waits on its thread until the test opens the gate; tells the loop when it starts."""

    def __init__(self, loop: asyncio.AbstractEventLoop, png: bytes = PNG_MAGIC + b"gate") -> None:
        self.loop = loop
        self.png = png
        self.opened = threading.Event()
        self.started = asyncio.Event()  # set on the loop once any render has started
        self.started_count = 0  # renders started, as the loop has heard of them
        self._heard = asyncio.Event()
        self.active = 0
        self.most = 0
        self.calls = 0
        self.failures = 0  # renders told to fail (the first `failures` calls raise)
        self._lock = threading.Lock()

    def __call__(self, view: MarketView) -> bytes:
        with self._lock:
            self.calls += 1
            call = self.calls
            self.active += 1
            self.most = max(self.most, self.active)
        self.loop.call_soon_threadsafe(self._started_one)
        try:
            if not self.opened.wait(WAIT):
                raise TimeoutError("the test never opened the gate")
            if call <= self.failures:
                raise RuntimeError(f"render {call} failed")
            return self.png + str(call).encode()
        finally:
            with self._lock:
                self.active -= 1

    def _started_one(self) -> None:
        self.started_count += 1
        self.started.set()
        self._heard.set()

    async def until_started(self, count: int) -> None:
        async with asyncio.timeout(WAIT):
            while self.started_count < count:
                self._heard.clear()
                await self._heard.wait()


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def view() -> MarketView:
    return make_view()


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-chart")
    yield executor
    executor.shutdown(wait=True, cancel_futures=True)


@pytest.fixture
async def memory() -> AsyncIterator[MemoryStore]:
    store = MemoryStore()
    yield store
    await store.close()


def cache_of(
    store: KeyValueStore,
    render: Callable[[MarketView], bytes],
    executor: ThreadPoolExecutor,
    **options: object,
) -> ChartCache:
    return ChartCache(store, render, executor, style=CHART_STYLE, **options)  # type: ignore[arg-type]


def later_candle(view: MarketView, step_ms: int = 4 * 3600 * 1000) -> MarketView:
    """The same market one candle on (every timestamp moved by one step)."""
    return replace(view, candles=replace(view.candles, timestamp=view.candles.timestamp + step_ms))


# ------------------------------------------------------------------------------------------- keys
def test_the_key_is_what_the_picture_depends_on(view: MarketView) -> None:
    key = ChartKey.of(view, style=CHART_STYLE, language="en")
    assert (key.exchange, key.symbol, key.timeframe, key.style, key.language) == (
        "bybit",
        "SOL/USDT",
        "4h",
        CHART_STYLE,
        "en",
    )
    assert key.candle_ms == int(view.candles.timestamp[-1])
    others = {
        ChartKey.of(view, style=CHART_STYLE, language="zh"),
        ChartKey.of(replace(view, timeframe="1h"), style=CHART_STYLE, language="en"),
        ChartKey.of(later_candle(view), style=CHART_STYLE, language="en"),
        ChartKey.of(view, style="another-style", language="en"),
        ChartKey.of(replace(view, candles=replace(view.candles, exchange="binance")), style=CHART_STYLE, language="en"),
        ChartKey.of(
            replace(view, candles=replace(view.candles, symbol="SOL/USDT:USDT")), style=CHART_STYLE, language="en"
        ),
    }
    assert key not in others and len(others) == 6
    assert len({key.text, *(other.text for other in others)}) == 7
    assert ChartKey.of(make_view(), style=CHART_STYLE, language="en") == key  # an equal view: the same key


# ------------------------------------------------------------------------------------ single flight
async def test_concurrent_asks_share_one_render(
    memory: MemoryStore, pool: ThreadPoolExecutor, view: MarketView
) -> None:
    renders = Renders()
    cache = cache_of(memory, renders, pool)
    key = cache.key(view, "en")
    results = await asyncio.gather(*(cache.png(key, view) for _ in range(20)))
    assert renders.calls == 1 == cache.stats.renders
    assert results[0].startswith(PNG_MAGIC) and all(png == results[0] for png in results)
    assert await cache.png(key, view) == results[0] and renders.calls == 1  # then from the cache
    assert threading.get_ident() not in renders.threads
    await cache.close()


async def test_a_failed_render_fails_every_waiter_and_is_not_remembered(
    memory: MemoryStore, pool: ThreadPoolExecutor, view: MarketView
) -> None:
    gate = Gate(asyncio.get_running_loop())
    gate.failures = 1
    cache = cache_of(memory, gate, pool)
    key = cache.key(view, "en")
    waiters = [asyncio.create_task(cache.png(key, view)) for _ in range(5)]
    await asyncio.wait_for(gate.started.wait(), WAIT)  # every waiter joined before the render could end
    gate.opened.set()
    outcomes = await asyncio.gather(*waiters, return_exceptions=True)
    assert [str(outcome) for outcome in outcomes] == ["render 1 failed"] * 5
    assert gate.calls == 1 and len(cache) == 0
    png = await cache.png(key, view)  # the next ask renders again
    assert png == gate.png + b"2" and gate.calls == 2 == cache.stats.renders
    await cache.close()


async def test_a_caller_that_gives_up_does_not_cancel_the_render_for_the_others(
    memory: MemoryStore, pool: ThreadPoolExecutor, view: MarketView
) -> None:
    gate = Gate(asyncio.get_running_loop())
    cache = cache_of(memory, gate, pool)
    key = cache.key(view, "en")
    impatient = asyncio.create_task(cache.png(key, view))
    patient = asyncio.create_task(cache.png(key, view))
    await asyncio.wait_for(gate.started.wait(), WAIT)
    impatient.cancel()
    gate.opened.set()
    assert await patient == gate.png + b"1"
    assert impatient.cancelled() and gate.calls == 1
    await cache.close()


# ------------------------------------------------------------------------------------------ bounds
async def test_the_cache_keeps_at_most_its_size(
    memory: MemoryStore, pool: ThreadPoolExecutor, view: MarketView
) -> None:
    renders = Renders()
    cache = cache_of(memory, renders, pool, max_entries=2)
    views = [view, replace(view, timeframe="1h"), replace(view, timeframe="1d")]
    for item in views:
        await cache.png(cache.key(item, "en"), item)
    assert len(cache) == 2 and renders.calls == 3
    await cache.png(cache.key(views[2], "en"), views[2])  # the newest is kept
    assert renders.calls == 3
    await cache.png(cache.key(views[0], "en"), views[0])  # the oldest was dropped: drawn again
    assert renders.calls == 4 and len(cache) == 2
    await cache.close()


async def test_charts_expire_after_the_ttl(memory: MemoryStore, pool: ThreadPoolExecutor, view: MarketView) -> None:
    renders, clock = Renders(), Clock()
    cache = cache_of(memory, renders, pool, ttl=60.0, clock=clock)
    key = cache.key(view, "en")
    first = await cache.png(key, view)
    clock.now += 59.0
    assert await cache.png(key, view) == first and renders.calls == 1 and len(cache) == 1
    clock.now += 1.0
    assert len(cache) == 0  # expired: nothing held any more
    assert await cache.png(key, view) == first and renders.calls == 2  # drawn again, the same picture
    await cache.close()


async def test_renders_run_in_the_bounded_pool_while_the_loop_goes_on(
    memory: MemoryStore, pool: ThreadPoolExecutor, view: MarketView
) -> None:
    loop = asyncio.get_running_loop()
    gate = Gate(loop)
    cache = cache_of(memory, gate, pool)  # the pool has 2 workers
    views = [replace(view, timeframe=tf) for tf in ("5m", "15m", "1h", "4h", "1d")]
    asks = [asyncio.create_task(cache.png(cache.key(item, "en"), item)) for item in views]
    # Two renders hold both workers while the loop goes on here (a render on the loop's own thread
    # would block it until the gate's timeout, and fail).
    await gate.until_started(2)
    assert cache.stats.renders == 5  # all five handed to the pool …
    assert gate.calls == 2  # … which runs two of them
    gate.opened.set()
    pngs = await asyncio.gather(*asks)
    assert len(set(pngs)) == 5 and gate.calls == 5
    assert gate.most == 2  # never more than the pool's workers at once
    await cache.close()


async def test_close_stops_the_pool_and_frees_the_bytes(memory: MemoryStore, view: MarketView) -> None:
    cache = ChartCache.threaded(memory, Renders(), workers=1, style=CHART_STYLE, max_entries=4, ttl=60)
    await cache.png(cache.key(view, "en"), view)
    assert len(cache) == 1
    await cache.close()
    assert len(cache) == 0
    with pytest.raises(RuntimeError, match="shutdown"):
        await cache.png(cache.key(view, "zh"), view)


# ----------------------------------------------------------------------------------------- sends
@dataclass
class Telegram:
    """The Bot API side of `deliver`: uploads get a new file_id, known file_ids are accepted."""

    known: set[str] = field(default_factory=set)
    uploads: list[bytes] = field(default_factory=list)
    by_id: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    upload_gate: asyncio.Event | None = None  # uploads wait for it when set
    upload_started: asyncio.Event = field(default_factory=asyncio.Event)
    fail_uploads: int = 0

    async def send_file_id(self, file_id: str) -> bool:
        if file_id not in self.known:
            self.refused.append(file_id)
            return False
        self.by_id.append(file_id)
        return True

    async def upload(self, png: bytes) -> str | None:
        self.upload_started.set()
        if self.upload_gate is not None:
            await self.upload_gate.wait()
        if self.fail_uploads:
            self.fail_uploads -= 1
            raise ConnectionError("upload failed")
        self.uploads.append(png)
        file_id = f"file-{len(self.uploads)}"
        self.known.add(file_id)
        return file_id


async def deliver(
    cache: ChartCache, view: MarketView, telegram: Telegram, language: str = "en", bot: int = 1
) -> Delivery:
    return await cache.deliver(view, language, bot_id=bot, send_file_id=telegram.send_file_id, upload=telegram.upload)


async def test_one_upload_then_the_file_id(store: KeyValueStore, pool: ThreadPoolExecutor, view: MarketView) -> None:
    renders, telegram = Renders(), Telegram()
    cache = cache_of(store, renders, pool)
    telegram.upload_gate = asyncio.Event()
    sends = [asyncio.create_task(deliver(cache, view, telegram)) for _ in range(10)]
    await asyncio.wait_for(telegram.upload_started.wait(), WAIT)
    telegram.upload_gate.set()
    outcomes = await asyncio.gather(*sends)
    assert outcomes.count(Delivery.UPLOADED) == 1 and outcomes.count(Delivery.REUSED) == 9
    assert len(telegram.uploads) == 1 and telegram.by_id == ["file-1"] * 9 and renders.calls == 1
    assert (cache.stats.renders, cache.stats.uploads, cache.stats.reuses, cache.stats.refused) == (1, 1, 9, 0)
    assert cache.waiting_uploads == 0  # no per-key lock left behind
    # Another language, another bot: another key; the same bot and language later: the file_id.
    assert await deliver(cache, view, telegram, language="zh") is Delivery.UPLOADED
    assert await deliver(cache, view, telegram, bot=2) is Delivery.UPLOADED
    assert await deliver(cache, view, telegram) is Delivery.REUSED
    assert renders.calls == 2  # the other bot sent the bytes drawn for the first
    assert telegram.uploads[2] == telegram.uploads[0]
    await cache.close()


async def test_a_refused_file_id_is_uploaded_once_more(
    store: KeyValueStore, pool: ThreadPoolExecutor, view: MarketView
) -> None:
    renders, telegram = Renders(), Telegram()
    cache = cache_of(store, renders, pool)
    assert await deliver(cache, view, telegram) is Delivery.UPLOADED
    telegram.known.clear()  # Telegram no longer knows file-1
    outcomes = await asyncio.gather(*(deliver(cache, view, telegram) for _ in range(3)))
    assert sorted(o.value for o in outcomes) == ["reused", "reused", "uploaded"]
    assert len(telegram.uploads) == 2 and telegram.uploads[1] == telegram.uploads[0]  # the same bytes
    assert set(telegram.refused) == {"file-1"} and renders.calls == 1
    assert telegram.by_id == ["file-2", "file-2"]
    assert await deliver(cache, view, telegram) is Delivery.REUSED and telegram.by_id[-1] == "file-2"
    await cache.close()


async def test_a_failed_upload_fails_its_send_and_the_next_waiter_uploads(
    store: KeyValueStore, pool: ThreadPoolExecutor, view: MarketView
) -> None:
    renders, telegram = Renders(), Telegram()
    telegram.fail_uploads = 1
    telegram.upload_gate = asyncio.Event()
    cache = cache_of(store, renders, pool)
    first = asyncio.create_task(deliver(cache, view, telegram))
    await asyncio.wait_for(telegram.upload_started.wait(), WAIT)
    second = asyncio.create_task(deliver(cache, view, telegram))  # waits for the first upload
    telegram.upload_gate.set()
    with pytest.raises(ConnectionError):
        await first
    assert await second is Delivery.UPLOADED
    assert telegram.uploads and len(telegram.uploads) == 1 and renders.calls == 1
    assert cache.waiting_uploads == 0
    await cache.close()


async def test_a_new_candle_is_a_new_chart(memory: MemoryStore, pool: ThreadPoolExecutor, view: MarketView) -> None:
    renders, telegram = Renders(), Telegram()
    cache = cache_of(memory, renders, pool)
    assert await deliver(cache, view, telegram) is Delivery.UPLOADED
    assert await deliver(cache, later_candle(view), telegram) is Delivery.UPLOADED
    assert renders.calls == 2 and telegram.uploads[0] != telegram.uploads[1]
    await cache.close()
