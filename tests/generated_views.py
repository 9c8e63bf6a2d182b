"""Market views built from seeded generated candles (no exchange): for the analysis-text tests and
the numbers benchmark."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from services.market import Candles, Derivatives, MarketView, ResolvedSymbol, Ticker, analyze
from standins.exchanges import generate_scenario

START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC


def view_from_rows(
    rows: np.ndarray,
    *,
    base: str = "ETH",
    timeframe: str = "4h",
    change_24h: float | None = None,
    funding: float | None = 0.0001,
    funding_hours: float = 8.0,
    open_interest: float | None = 1_234_567_890.0,
    exchange: str = "bybit",
) -> MarketView:
    """A view of `rows` (see `standins.exchanges.candles`), with a perpetual unless `funding` is None."""
    pair = f"{base}/USDT"
    resolved = ResolvedSymbol(base, base, "USDT", exchange, pair, f"{pair}:USDT", (exchange,))
    candles = Candles.from_array(rows, exchange=exchange, symbol=pair, timeframe=timeframe)
    close = candles.close
    if change_24h is None:
        per_day = max(1, round(timedelta(days=1) / timedelta(milliseconds=float(rows[1, 0] - rows[0, 0]))))
        reference = float(close[-1 - per_day]) if close.shape[0] > per_day else float(close[0])
        change_24h = (float(close[-1]) / reference - 1) * 100
    price = candles.last_close
    ticker = Ticker(
        exchange, pair, price, change_24h, price * 2_000_000.0, price * 1.02, price * 0.97, candles.last_time
    )
    derivatives = None
    if funding is not None:
        at = candles.last_time
        derivatives = Derivatives(
            exchange, f"{pair}:USDT", funding, at + timedelta(hours=2), funding_hours,
            open_interest / price if open_interest else None, open_interest, price, at,
        )  # fmt: skip
    analysis = analyze(candles, derivatives)
    return MarketView(resolved, timeframe, exchange, candles.last_time, ticker, candles, analysis, derivatives)


def generated_view(
    seed: int,
    segments: list[tuple[str, int]],
    *,
    start_price: float = 3_000.0,
    timeframe: str = "4h",
    sigma: float = 0.01,
    **kwargs: object,
) -> MarketView:
    rows = generate_scenario(segments, seed=seed, start_price=start_price, timeframe=timeframe, sigma=sigma)
    return view_from_rows(rows, timeframe=timeframe, **kwargs)  # type: ignore[arg-type]
