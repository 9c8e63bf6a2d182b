"""Candle/ticker cache in the shared `KeyValueStore`, and in-process single flight.

Candles are stored as a small binary header + little-endian float64 rows (ts, o, h, l, c, v): 48 bytes
per candle, no JSON parsing on the hot path, identical bytes for every replica reading Redis. Each
entry carries its own `fresh_until` (the next candle close) measured by the service clock; the store
TTL only garbage-collects, so a stale entry stays available for an incremental (`since=`) refresh.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Final, TypeVar, cast

import numpy as np

from services.kv import KeyValueStore
from services.market.models import FloatArray
from services.market.timeframes import candle_open, next_candle_close, timeframe_ms

log = logging.getLogger(__name__)

T = TypeVar("T")

_MAGIC: Final = b"CSC1"
_HEADER = struct.Struct("<4sqqq")  # magic, fresh_until_ms, depth, rows


@dataclass(frozen=True, slots=True, eq=False)
class CachedCandles:
    rows: FloatArray  # (n, 6), oldest first
    fresh_until_ms: int
    depth: int  # the candle count the entry was built for (full fetch limit)

    def fresh(self, now_ms: int) -> bool:
        return now_ms < self.fresh_until_ms


def encode_candles(entry: CachedCandles) -> bytes:
    rows = np.ascontiguousarray(entry.rows, dtype="<f8").reshape(-1, 6)
    return _HEADER.pack(_MAGIC, entry.fresh_until_ms, entry.depth, rows.shape[0]) + rows.tobytes()


def decode_candles(data: bytes) -> CachedCandles | None:
    """None for anything that is not a complete entry of this format (old version, truncation)."""
    if len(data) < _HEADER.size:
        return None
    magic, fresh_until, depth, count = _HEADER.unpack_from(data)
    if magic != _MAGIC or len(data) != _HEADER.size + count * 48:
        return None
    rows = np.frombuffer(data, dtype="<f8", offset=_HEADER.size).reshape(count, 6).astype(np.float64)
    return CachedCandles(rows=rows, fresh_until_ms=int(fresh_until), depth=int(depth))


def merge_rows(old: FloatArray, new: FloatArray, step_ms: int, keep: int) -> FloatArray | None:
    """Append `new` (which starts at or before the candle after `old`'s last) to `old`.

    Rows of `new` replace rows of `old` from its first timestamp on (the formerly forming candle is
    final now). Returns None when `new` leaves a gap, so the caller refetches everything.
    """
    if new.shape[0] == 0:
        return old
    if old.shape[0] == 0:
        return new[-keep:]
    first_new = new[0, 0]
    if first_new > old[-1, 0] + step_ms:
        return None
    merged = np.concatenate((old[old[:, 0] < first_new], new))
    return merged[-keep:]


class MarketCache:
    """Typed access to the market entries of a `KeyValueStore` (keys are namespaced with `prefix`)."""

    def __init__(self, store: KeyValueStore, prefix: str = "market:") -> None:
        self.store = store
        self.prefix = prefix

    async def get_candles(self, key: str) -> CachedCandles | None:
        data = await self.store.get(self.prefix + key)
        return decode_candles(data) if data is not None else None

    async def put_candles(self, key: str, entry: CachedCandles, ttl: float) -> None:
        await self.store.set(self.prefix + key, encode_candles(entry), ttl=ttl)

    async def refresh_candles(
        self,
        key: str,
        timeframe: str,
        depth: int,
        now_ms: int,
        fetch: Callable[[int | None, int], Awaitable[FloatArray]],
        *,
        max_fetch: int = 1000,
    ) -> CachedCandles:
        """Bring the entry up to `now_ms` with `fetch(since, limit)` and store it until the next close.

        A fresh entry (another caller or replica refreshed it) is returned as is; a stale one gets only
        the candles from its last (formerly forming) candle on; no entry, a gap, or too many missing
        candles mean one full fetch of `depth` candles.
        """
        cached = await self.get_candles(key)
        if cached is not None and cached.fresh(now_ms) and cached.depth >= depth:
            return cached
        step = timeframe_ms(timeframe)
        rows = None
        if cached is not None and cached.depth >= depth and cached.rows.shape[0]:
            last_open = int(cached.rows[-1, 0])
            missing = (candle_open(now_ms, timeframe) - last_open) // step + 1
            if missing <= 0:
                rows = cached.rows
            elif missing <= min(depth, max_fetch):
                rows = merge_rows(cached.rows, await fetch(last_open, missing), step, cached.depth)
        if rows is None:
            rows = await fetch(None, depth)
        entry = CachedCandles(
            rows=rows,
            fresh_until_ms=next_candle_close(now_ms, timeframe),
            depth=max(depth, cached.depth if cached else 0),
        )
        fresh_for = (entry.fresh_until_ms - now_ms) / 1000
        await self.put_candles(key, entry, ttl=max(fresh_for, min(depth * step / 1000, 86_400.0)))
        return entry

    async def get_json(self, key: str, now_ms: int) -> dict[str, Any] | None:
        """A JSON entry still fresh at `now_ms`."""
        data = await self.store.get(self.prefix + key)
        if data is None:
            return None
        try:
            doc = json.loads(data)
        except ValueError:
            log.warning("dropping unreadable cache entry %s", key)
            return None
        if not isinstance(doc, dict) or doc.get("fresh_until", 0) <= now_ms:
            return None
        value = doc.get("value")
        return cast(dict[str, Any], value) if isinstance(value, dict) else None

    async def put_json(self, key: str, value: dict[str, Any], fresh_until_ms: int, ttl: float) -> None:
        doc = {"fresh_until": fresh_until_ms, "value": value}
        await self.store.set(self.prefix + key, json.dumps(doc, separators=(",", ":")).encode(), ttl=ttl)


class SingleFlight:
    """Concurrent calls with the same key share one execution (one exchange request).

    The shared work runs in a task owned by this object (kept in `_tasks` until it finishes and
    awaited by every caller through `asyncio.shield`), so a caller that gives up does not cancel the
    work for the others; `close()` cancels and awaits whatever is still running.
    """

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self.started = 0  # executions started (tests and metrics)
        self.joined = 0  # callers that joined an execution already in flight

    def __len__(self) -> int:
        return len(self._tasks)

    async def run(self, key: str, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.create_task(work(), name=f"market:{key}")
            self._tasks[key] = task
            self.started += 1
            task.add_done_callback(lambda done: self._finished(key, done))
        else:
            self.joined += 1
        return cast(T, await asyncio.shield(task))

    def _finished(self, key: str, task: asyncio.Task[Any]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if not task.cancelled():
            task.exception()  # retrieved here: the callers saw it; don't log "never retrieved"

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
