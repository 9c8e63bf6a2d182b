"""Result dataclasses: the parts of an `Analysis`, the `market_snapshots` record, `MarketView`.

Plain frozen dataclasses without behaviour beyond conversions, so handlers, the LLM prompt builder
and the database layer can use them without importing numpy or ccxt code paths.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from services.market.models import Candles, Derivatives, ResolvedSymbol, Ticker

Direction = Literal["up", "down", "range"]
# Levels each side an answer names and its chart draws: the nearest ones (`Levels.key`).
KEY_LEVELS = 2


@dataclass(frozen=True, slots=True)
class Indicators:
    ema20: float
    ema50: float
    ema200: float | None  # None with fewer than 200 candles
    macd: float
    macd_signal: float
    macd_hist: float
    rsi7: float
    rsi14: float
    atr: float
    atr_pct: float
    bb_upper: float
    bb_middle: float
    bb_lower: float
    bb_width_pct: float
    volume: float
    volume_sma20: float
    volume_ratio: float


@dataclass(frozen=True, slots=True)
class Trend:
    direction: Direction
    strength: float  # 0..1
    label: Literal["weak", "moderate", "strong"]
    score: float  # -1 (strong down) .. +1 (strong up)
    ema_alignment: float  # -1..1: price > EMA20 > EMA50 (> EMA200) is +1
    slope_atr: float  # price slope in ATR per candle (EMA50 and a 50-candle regression)
    # A range (no sustained slope) whose price sits above both EMA20 and EMA50 leans up, below both
    # leans down: "sideways" is only said when the price is between them (`analysis.trend_key`).
    lean: Literal["up", "down"] | None = None


@dataclass(frozen=True, slots=True)
class Momentum:
    macd_cross: Literal["bullish", "bearish"] | None  # within the last CROSS_LOOKBACK candles
    macd_cross_bars_ago: int | None
    macd_hist_rising: bool
    rsi_state: Literal["overbought", "oversold", "neutral"]
    divergence: Literal["bullish", "bearish"] | None


@dataclass(frozen=True, slots=True)
class Level:
    price: float
    kind: Literal["support", "resistance"]
    touches: int
    distance_pct: float  # signed, relative to the current price


@dataclass(frozen=True, slots=True)
class Levels:
    support: tuple[Level, ...]  # nearest first
    resistance: tuple[Level, ...]  # nearest first

    @property
    def key_support(self) -> tuple[Level, ...]:
        return self.support[:KEY_LEVELS]

    @property
    def key_resistance(self) -> tuple[Level, ...]:
        return self.resistance[:KEY_LEVELS]

    @property
    def key(self) -> tuple[Level, ...]:
        """The levels the answer lists and the chart draws: `KEY_LEVELS` nearest on each side."""
        return (*self.key_support, *self.key_resistance)


@dataclass(frozen=True, slots=True)
class Volatility:
    regime: Literal["low", "normal", "high"]
    atr_pct: float
    percentile: float  # of ATR% within its own recent history, 0..100
    bb_squeeze: bool


@dataclass(frozen=True, slots=True)
class VolumeState:
    ratio: float  # last volume / its 20-candle mean
    state: Literal["low", "normal", "high"]


@dataclass(frozen=True, slots=True)
class DerivativesContext:
    funding_rate: float | None
    funding_8h: float | None  # normalised to an 8-hour interval
    funding_annualized_pct: float | None
    funding_bias: Literal["longs_pay", "shorts_pay", "neutral"] | None
    funding_extreme: bool
    open_interest: float | None
    open_interest_value: float | None


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """The `market_snapshots` row."""

    symbol: str
    timeframe: str
    exchange: str
    as_of: datetime
    price: float
    ema20: float | None
    ema50: float | None
    macd: float | None
    rsi7: float | None
    rsi14: float | None
    atr: float | None
    funding_rate: float | None
    open_interest: float | None
    volume_ratio: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Analysis:
    symbol: str
    timeframe: str
    exchange: str
    as_of: datetime  # open time of the last candle
    price: float
    candles_used: int
    indicators: Indicators
    trend: Trend
    momentum: Momentum
    levels: Levels
    volatility: Volatility
    volume: VolumeState
    derivatives: DerivativesContext | None

    def snapshot(self, *, as_of: datetime | None = None, price: float | None = None) -> MarketSnapshot:
        ind = self.indicators
        return MarketSnapshot(
            symbol=self.symbol,
            timeframe=self.timeframe,
            exchange=self.exchange,
            as_of=as_of or self.as_of,
            price=self.price if price is None else price,
            ema20=ind.ema20,
            ema50=ind.ema50,
            macd=ind.macd,
            rsi7=ind.rsi7,
            rsi14=ind.rsi14,
            atr=ind.atr,
            funding_rate=self.derivatives.funding_rate if self.derivatives else None,
            open_interest=self.derivatives.open_interest if self.derivatives else None,
            volume_ratio=self.volume.ratio,
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        return data


@dataclass(frozen=True, slots=True)
class MarketView:
    """Everything a chat answer needs about one symbol on one timeframe."""

    resolved: ResolvedSymbol
    timeframe: str
    exchange: str  # where the candles (and so the analysis) came from
    as_of: datetime
    ticker: Ticker
    candles: Candles
    analysis: Analysis
    derivatives: Derivatives | None

    @property
    def snapshot(self) -> MarketSnapshot:
        """The `market_snapshots` record (price from the ticker)."""
        return self.analysis.snapshot(as_of=self.as_of, price=self.ticker.price)


@dataclass(frozen=True, slots=True)
class ExchangeStatus:
    exchange: str
    markets_loaded: bool
    pairs: int
    breaker: str  # closed / open / half-open
    retry_after: float
    calls: int = 0  # requests to the exchange by this process (each attempt), answered or not
    errors: int = 0  # of those, the ones that failed
