"""Charts rendered once per candle and uploaded once; later sends pass Telegram's `file_id`.

A chart is keyed by everything its picture depends on (`ChartKey`): exchange, market, timeframe, the
open time of the chart's newest candle (so the key turns over when a candle closes), the style and
the language. For each key:

- **One render.** Concurrent asks share one render (`SingleFlight`); a render that raises fails every
  caller waiting for it and is not remembered, so the next ask renders again. Renders run in a
  bounded executor (`CHART_RENDER_WORKERS` threads), never on the event loop, at most that many at
  once; a burst of charts queues there while other updates go on.
- **Bounded bytes, in this process.** The PNGs (~100 KB each) are kept in an LRU of
  `CHART_CACHE_SIZE` entries that expire `CHART_CACHE_TTL` seconds after the render
  (`cachetools.TTLCache`, on an injectable clock): for the first upload and for a re-upload when
  Telegram refuses a file_id. Replicas do not share the bytes; they share the file_ids.
- **One upload.** The first send of a key uploads the bytes while later sends of that key wait for it
  (a per-key lock, held only while no file_id is known, dropped when nobody waits); the file_id of the
  largest PhotoSize is then kept in the `KeyValueStore` (Redis when set, so every replica reuses it)
  for one timeframe, per bot, and every later send passes it. A file_id Telegram refuses is dropped
  (compare-and-delete: a newer one stays) and the bytes are uploaded once more; the new file_id
  replaces it.

A comparison's one chart (`deliver_comparison`) goes the same way, keyed by every coin's exchange and
market in the order asked (`ChartKey.of_comparison`) and the comparison style.

No aiogram here: the caller (handlers/charts.py) passes its two sends as callables.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

from cachetools import TTLCache

from services.kv import KeyValueStore
from services.market.cache import SingleFlight
from services.market.comparison import Comparison
from services.market.comparison_chart import COMPARISON_STYLE, render_comparison
from services.market.results import MarketView
from services.market.timeframes import timeframe_ms

ChartRender = Callable[[MarketView], bytes]  # synchronous and CPU-bound: run in the executor
SendFileId = Callable[[str], Awaitable[bool]]  # True: sent; False: Telegram refused the file_id
Upload = Callable[[bytes], Awaitable[str | None]]  # sends the PNG; the file_id Telegram keeps it under

# Stored file_ids tried per send before uploading regardless (each refused one is dropped).
MAX_ROUNDS = 4


@dataclass(frozen=True, slots=True)
class ChartKey:
    exchange: str
    symbol: str  # the exchange's market, e.g. BTC/USDT or BTC/USDT:USDT
    timeframe: str
    candle_ms: int  # open time of the chart's newest candle (the forming one)
    style: str
    language: str

    @classmethod
    def of(cls, view: MarketView, *, style: str, language: str) -> ChartKey:
        candles = view.candles
        newest = int(candles.timestamp[-1]) if len(candles) else 0
        return cls(
            exchange=candles.exchange,
            symbol=candles.symbol,
            timeframe=view.timeframe,
            candle_ms=newest,
            style=style,
            language=language,
        )

    @classmethod
    def of_comparison(cls, comparison: Comparison, *, style: str, language: str) -> ChartKey:
        """Every coin's exchange and market (in the order asked), and the window's newest candle."""
        views = comparison.views
        newest = int(comparison.timestamps[-1]) if comparison.window else 0
        return cls(
            exchange="+".join(view.candles.exchange for view in views),
            symbol="+".join(view.candles.symbol for view in views),
            timeframe=comparison.timeframe,
            candle_ms=newest,
            style=style,
            language=language,
        )

    @property
    def text(self) -> str:
        return f"{self.style}:{self.exchange}:{self.symbol}:{self.timeframe}:{self.candle_ms}:{self.language}"


class Delivery(enum.Enum):
    UPLOADED = "uploaded"
    REUSED = "reused"


@dataclass(slots=True)
class ChartStats:
    """What the cache did since start (tests, benchmarks, metrics)."""

    renders: int = 0  # renders started (a failed one counts too)
    uploads: int = 0  # PNGs sent as bytes
    reuses: int = 0  # charts sent by a stored file_id
    refused: int = 0  # stored file_ids Telegram refused


@dataclass(slots=True)
class _UploadGate:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class ChartCache:
    """One render and one upload per chart key; see the module docstring."""

    def __init__(
        self,
        store: KeyValueStore,
        render: ChartRender,
        executor: Executor,
        *,
        style: str,
        max_entries: int = 64,
        ttl: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        prefix: str = "chart-file:",
        comparison_render: Callable[[Comparison], bytes] = render_comparison,
    ) -> None:
        self._store = store
        self._render_fn = render
        self._comparison_render = comparison_render
        self._executor = executor
        self.style = style
        self._prefix = prefix
        self._png: TTLCache[str, bytes] = TTLCache(maxsize=max_entries, ttl=ttl, timer=clock)
        self._flights = SingleFlight()
        self._gates: dict[str, _UploadGate] = {}
        self.stats = ChartStats()

    @classmethod
    def threaded(
        cls,
        store: KeyValueStore,
        render: ChartRender,
        *,
        workers: int,
        style: str,
        max_entries: int,
        ttl: float,
    ) -> ChartCache:
        """A cache rendering in its own pool of `workers` threads (shut down by `close`)."""
        executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chart-render")
        return cls(store, render, executor, style=style, max_entries=max_entries, ttl=ttl)

    @property
    def executor(self) -> Executor:
        """The bounded render pool: other charts (a signal's) render here too, never on the event loop."""
        return self._executor

    def __len__(self) -> int:
        """PNGs held now (expired ones are dropped first)."""
        self._png.expire()
        return len(self._png)

    def key(self, view: MarketView, language: str) -> ChartKey:
        return ChartKey.of(view, style=self.style, language=language)

    def comparison_key(self, comparison: Comparison, language: str) -> ChartKey:
        return ChartKey.of_comparison(comparison, style=f"{self.style}+{COMPARISON_STYLE}", language=language)

    # ----------------------------------------------------------------------------- bytes
    async def png(self, key: ChartKey, view: MarketView) -> bytes:
        """The chart's PNG: cached, or rendered once for every concurrent caller."""
        return await self._picture(key, partial(self._render_fn, view))

    async def _picture(self, key: ChartKey, render: Callable[[], bytes]) -> bytes:
        cached = self._png.get(key.text)
        if cached is not None:
            return cached
        return await self._flights.run(key.text, lambda: self._render(key.text, render))

    async def _render(self, name: str, render: Callable[[], bytes]) -> bytes:
        cached = self._png.get(name)  # a flight for this key may have finished since the caller looked
        if cached is not None:
            return cached
        self.stats.renders += 1
        png = await asyncio.get_running_loop().run_in_executor(self._executor, render)
        self._png[name] = png
        return png

    # ----------------------------------------------------------------------------- sends
    async def deliver(
        self, view: MarketView, language: str, *, bot_id: int, send_file_id: SendFileId, upload: Upload
    ) -> Delivery:
        """Send the view's chart: by the stored file_id when there is one, else by uploading the PNG.

        Errors of the sends (the chat is gone, the bot is blocked) reach the caller; a waiting send
        of the same key then uploads itself.
        """
        render = partial(self._render_fn, view)
        return await self._deliver(
            self.key(view, language), render, bot_id=bot_id, send_file_id=send_file_id, upload=upload
        )

    async def deliver_comparison(
        self, comparison: Comparison, language: str, *, bot_id: int, send_file_id: SendFileId, upload: Upload
    ) -> Delivery:
        """`deliver` for a comparison's one chart (every coin rebased to 100, and their ratio)."""
        key = self.comparison_key(comparison, language)
        render = partial(self._comparison_render, comparison)
        return await self._deliver(key, render, bot_id=bot_id, send_file_id=send_file_id, upload=upload)

    async def _deliver(
        self, key: ChartKey, render: Callable[[], bytes], *, bot_id: int, send_file_id: SendFileId, upload: Upload
    ) -> Delivery:
        stored = f"{self._prefix}{bot_id}:{key.text}"
        refused: set[str] = set()
        for _ in range(MAX_ROUNDS):
            file_id = await self._file_id(stored)
            if file_id is not None and file_id not in refused:
                if await send_file_id(file_id):
                    self.stats.reuses += 1
                    return Delivery.REUSED
                self.stats.refused += 1
                refused.add(file_id)
                await self._store.delete_if(stored, file_id.encode())
                continue
            async with self._first_upload(stored):
                file_id = await self._file_id(stored)
                if file_id is not None and file_id not in refused:
                    continue  # uploaded by another send while this one waited: send its file_id
                await self._upload(key, render, stored, upload)
                return Delivery.UPLOADED
        await self._upload(key, render, stored, upload)
        return Delivery.UPLOADED

    async def _upload(self, key: ChartKey, render: Callable[[], bytes], stored: str, upload: Upload) -> None:
        file_id = await upload(await self._picture(key, render))
        self.stats.uploads += 1
        if file_id:
            # The key's candle is over within one timeframe; after that the entry only takes room.
            await self._store.set(stored, file_id.encode(), ttl=timeframe_ms(key.timeframe) / 1000)

    async def _file_id(self, stored: str) -> str | None:
        value = await self._store.get(stored)
        return value.decode() if value else None

    @contextlib.asynccontextmanager
    async def _first_upload(self, stored: str) -> AsyncIterator[None]:
        """One upload of a key at a time; the gate is dropped when no send holds or waits for it."""
        gate = self._gates.setdefault(stored, _UploadGate())
        gate.users += 1
        try:
            async with gate.lock:
                yield
        finally:
            gate.users -= 1
            if gate.users == 0:
                del self._gates[stored]

    @property
    def waiting_uploads(self) -> int:
        """Keys with a send uploading or waiting for an upload (bounded by the sends in flight)."""
        return len(self._gates)

    async def close(self) -> None:
        """Cancel renders in flight, stop the pool (queued renders are dropped), free the bytes."""
        await self._flights.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._png.clear()
