"""Service configurations read from the settings: what `bot.factory` hands each service (risk, signals,
the outgoing limiter). Plain conversions, no I/O."""

from __future__ import annotations

from datetime import timedelta

from bot.settings import Settings
from services.kv import KeyValueStore, RedisStore
from services.ratelimit import LimiterBackend, MemoryLimiterBackend, OutgoingLimits, Window
from services.ratelimit_redis import RedisLimiterBackend
from services.risk import RiskConfig
from services.signals.commentary import CommentaryConfig
from services.signals.engine import SignalsConfig
from services.signals.strategy import STRATEGIES


def risk_config_from(settings: Settings) -> RiskConfig:
    return RiskConfig(
        mmr_rates=dict(settings.risk_mmr),
        mmr_tiers=tuple(sorted(settings.risk_mmr_tiers.items())),
        position_steps=tuple(sorted(settings.risk_position_steps)),
        candle_timeframe=settings.risk_candle_timeframe,
        move_atr_multiple=settings.risk_move_atr,
        move_candles=settings.risk_move_candles,
        volatility_percentile=settings.risk_volatility_percentile,
        funding_8h=settings.risk_funding_extreme,
        oi_change_pct=settings.risk_oi_change_pct,
        cooldown=timedelta(minutes=settings.risk_cooldown_minutes),
    )


def signals_config_from(settings: Settings) -> SignalsConfig:
    return SignalsConfig(
        strategy=STRATEGIES[settings.signals_strategy],
        use_funding=settings.signals_funding,
        commentary=CommentaryConfig(
            enabled=settings.signals_commentary,
            model=settings.llm_model,
            timeout=settings.signals_commentary_timeout,
            max_tokens=settings.signals_commentary_max_tokens,
            locale=settings.default_locale,
        ),
    )


def outgoing_limits(settings: Settings) -> OutgoingLimits:
    private_window = settings.outgoing_private_burst / settings.outgoing_private_per_second
    return OutgoingLimits(
        overall=Window(limit=settings.outgoing_per_second, seconds=1.0),
        private=Window(limit=settings.outgoing_private_burst, seconds=private_window),
        group=Window(limit=settings.outgoing_group_per_minute, seconds=60.0),
        paid=Window(limit=settings.paid_broadcast_per_second, seconds=1.0),
        safety=settings.outgoing_safety,
        bulk_share=settings.outgoing_bulk_share,
    )


def build_limiter(settings: Settings, store: KeyValueStore) -> LimiterBackend:
    """The outgoing limiter's state: in Redis when the store is (one budget for every replica),
    else in this process."""
    limits = outgoing_limits(settings)
    if isinstance(store, RedisStore):
        return RedisLimiterBackend(store.redis, limits, prefix=store.prefix, batch=store.batch)
    return MemoryLimiterBackend(limits=limits)
