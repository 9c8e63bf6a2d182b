"""Chart rendering: valid PNG of the right size, no leaked figures, off the event loop."""

from __future__ import annotations

import asyncio
import io
import threading
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from services.market import Candles, analyze, render_chart, render_chart_async
from services.market.charts import HEIGHT_PX, WIDTH_PX
from standins.exchanges import generate_ohlcv, generate_scenario

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def make(rows: np.ndarray, timeframe: str = "1h") -> Candles:
    return Candles.from_array(rows, exchange="bybit", symbol="BTC/USDT", timeframe=timeframe)


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_MAGIC)
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def test_png_of_the_right_size_with_levels() -> None:
    candles = make(generate_scenario([("range", 200), ("up", 100)], seed=3, start_price=60_000))
    analysis = analyze(candles)
    assert analysis.levels.support or analysis.levels.resistance  # the levels are drawn
    data = render_chart(candles, analysis, symbol="BTC/USDT", timeframe="1h", exchange="bybit")
    assert png_size(data) == (WIDTH_PX, HEIGHT_PX)
    assert len(data) > 20_000  # a real picture, not an empty canvas
    assert plt.get_fignums() == []


def test_dark_background() -> None:
    candles = make(generate_ohlcv(150, seed=1))
    data = render_chart(candles, None, symbol="X/USDT", timeframe="4h", exchange="binance")
    with Image.open(io.BytesIO(data)) as image:
        corner = image.convert("RGB").getpixel((2, 2))
    assert isinstance(corner, tuple)
    assert sum(corner[:3]) < 150


def test_short_and_tiny_price_series() -> None:
    rows = generate_ohlcv(30, seed=2, start_price=0.00001234)
    data = render_chart(make(rows, "1d"), None, symbol="PEPE/USDT", timeframe="1d", exchange="bybit")
    assert png_size(data) == (WIDTH_PX, HEIGHT_PX)
    with pytest.raises(ValueError):
        render_chart(make(np.empty((0, 6))), None, symbol="X", timeframe="1h", exchange="bybit")


def test_repeated_renders_are_identical_and_leak_no_figure() -> None:
    """(The 0.5 s render target is measured by `make bench`, not asserted on a shared machine's clock.)"""
    candles = make(generate_ohlcv(500, seed=4))
    analysis = analyze(candles)
    first = render_chart(candles, analysis, symbol="BTC/USDT", timeframe="1h", exchange="bybit")
    second = render_chart(candles, analysis, symbol="BTC/USDT", timeframe="1h", exchange="bybit")
    assert first == second
    assert plt.get_fignums() == []


async def test_async_render_runs_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    candles = make(generate_ohlcv(200, seed=5))
    analysis = analyze(candles)
    loop = asyncio.get_running_loop()
    loop_thread = threading.get_ident()
    render_threads: list[int] = []
    loop_answered: list[int] = []
    savefig = Figure.savefig

    def recording_savefig(figure: Figure, *args: Any, **kwargs: Any) -> None:
        # Inside the render: which thread is this, and does the event loop still run meanwhile? (On
        # the loop's own thread this would block until the timeout: the test cannot pass that way.)
        render_threads.append(threading.get_ident())
        answered = asyncio.run_coroutine_threadsafe(_thread_id(), loop)
        loop_answered.append(answered.result(timeout=30))
        savefig(figure, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", recording_savefig)
    results = await asyncio.gather(
        *(render_chart_async(candles, analysis, symbol="BTC/USDT", timeframe="1h", exchange="bybit") for _ in range(2))
    )
    assert all(png_size(data) == (WIDTH_PX, HEIGHT_PX) for data in results)
    assert len(render_threads) == 2 and loop_thread not in render_threads
    assert loop_answered == [loop_thread, loop_thread]  # the loop ran while each chart was rendering
    assert plt.get_fignums() == []


async def _thread_id() -> int:
    return threading.get_ident()
