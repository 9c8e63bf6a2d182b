"""The risk engine's configuration (built from settings by the composition root)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True, kw_only=True)
class RiskConfig:
    # Maintenance margin rates: "exchange:coin", "exchange" or "*" → rate (liquidation.mmr_for).
    mmr_rates: Mapping[str, float] = field(default_factory=lambda: {"*": 0.01, "bybit:btc": 0.005, "bybit:eth": 0.005})
    # (notional floor in USDT, rate): large positions' higher maintenance rate (risk-limit tiers).
    mmr_tiers: tuple[tuple[float, float], ...] = ()
    # Position warnings at these percentages of the way from entry to liquidation.
    position_steps: tuple[int, ...] = (50, 80)
    # Alerts and positions are also checked against candle highs/lows of this timeframe at its scans.
    candle_timeframe: str = "5m"
    # Market risk: |close − close n candles ago| ≥ k × ATR; ATR percentile; funding per 8 h; OI change.
    move_atr_multiple: float = 3.0
    move_candles: int = 3
    volatility_percentile: float = 95.0
    funding_8h: float = 0.001
    oi_change_pct: float = 10.0
    oi_candles: int = 4
    cooldown: timedelta = timedelta(hours=1)
    # Rows written per transaction (short transactions while the sender reads the outbox).
    write_batch: int = 200
    # Candle requests of a scan in flight at once.
    scan_concurrency: int = 8
