"""Configuration contract (see DESIGN.md): environment variables, `.env` read too.

Every setting is validated at start; a bad value stops the start with one line naming the variable
(`ConfigError`), never a traceback. How list, pair, URL and name values are parsed and checked is in
`bot.settings_values`; the fields here attach those checks.
"""

from __future__ import annotations

import math
import re
from functools import cached_property
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PositiveInt,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot import settings_values as values
from bot.settings_values import BOT_TOKEN_SHAPE, SCAN_TIMEFRAMES

__all__ = ["BOT_TOKEN_SHAPE", "SCAN_TIMEFRAMES", "ConfigError", "Settings", "StartupError", "load_settings"]


class ConfigError(Exception):
    """A configuration problem, phrased for a person: one line naming the variable."""


class StartupError(Exception):
    """A problem that stops the start (e.g. a rejected token); the message is one line for a person."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: Annotated[SecretStr, AfterValidator(values.bot_token)] = SecretStr("")
    telegram_api_url: Annotated[str, AfterValidator(values.http_url)] = "https://api.telegram.org"
    database_url: Annotated[str, AfterValidator(values.database_url)] = "sqlite+aiosqlite:///data/coinsight.sqlite3"
    redis_url: Annotated[str, AfterValidator(values.redis_url)] = ""
    # Namespace for every Redis key, so several bots (or test runs) can share one Redis.
    redis_prefix: str = "coinsight:"
    # Connections to Redis per process; a burst waits for a free one instead of failing.
    redis_max_connections: int = Field(default=50, ge=2, le=10_000)
    # Database connections per process (DB_POOL_SIZE kept open, DB_MAX_OVERFLOW more under load); a
    # unit of work waits up to DB_POOL_TIMEOUT seconds for one (on SQLite: for the write lock).
    db_pool_size: int = Field(default=10, ge=1, le=1000)
    db_max_overflow: int = Field(default=20, ge=0, le=1000)
    db_pool_timeout: float = Field(default=30.0, gt=0, le=600)
    # Users and chats are read through a cache kept this many seconds (0: off); changes drop it.
    user_cache_seconds: float = Field(default=60.0, ge=0, le=3600)
    # `last_seen_at` of the users seen is written every this many seconds, in one statement.
    last_seen_flush_seconds: float = Field(default=30.0, gt=0, le=3600)

    openai_api_key: SecretStr = SecretStr("")
    openai_base_url: Annotated[str, AfterValidator(values.http_url)] = ""
    llm_model: str = "gpt-4o-mini"
    # USD per 1M tokens, input/output, per model, for /stats' cost estimate: `model=in/out,…`.
    llm_prices: Annotated[dict[str, tuple[float, float]], NoDecode, BeforeValidator(values.llm_prices)] = Field(
        default_factory=lambda: {"gpt-4o-mini": (0.15, 0.6)}
    )
    llm_timeout: float = Field(default=60.0, gt=0)
    llm_max_retries: int = Field(default=2, ge=0, le=10)
    # A question's reservation (free-quota slot or credit hold) expires once every LLM attempt could
    # have timed out, plus this margin; the sweeper gives expired ones back every HOLD_SWEEP_SECONDS.
    hold_margin_seconds: float = Field(default=120.0, ge=0)
    hold_sweep_seconds: float = Field(default=60.0, gt=0)

    exchanges: Annotated[
        list[str], NoDecode, BeforeValidator(values.lower_csv), AfterValidator(values.exchange_ids)
    ] = Field(default_factory=lambda: ["bybit", "binance", "okx"])
    exchange_api_urls: Annotated[dict[str, str], NoDecode, BeforeValidator(values.exchange_urls)] = Field(
        default_factory=dict
    )
    exchange_timeout_ms: int = Field(default=10_000, gt=0)
    # A transient exchange error is tried again after this many seconds, doubling, up to EXCHANGE_ATTEMPTS tries.
    exchange_retry_seconds: float = Field(default=0.5, ge=0, le=60)
    exchange_attempts: int = Field(default=3, ge=1, le=10)
    # Exchange market lists (new listings, delistings) are reloaded this often.
    markets_refresh_hours: float = Field(default=4.0, gt=0)

    admin_ids: Annotated[list[PositiveInt], NoDecode, BeforeValidator(values.split_csv)] = Field(default_factory=list)

    webhook_url: Annotated[str, AfterValidator(values.http_url)] = ""
    webhook_secret: SecretStr = SecretStr("")
    web_host: str = "0.0.0.0"
    web_port: int = Field(default=8080, ge=1, le=65_535)
    # /metrics, /healthz and /readyz: on WEB_PORT in webhook mode; in polling mode on a small server of
    # their own at METRICS_HOST:METRICS_PORT, which 0 (the default) leaves off.
    metrics_port: int = Field(default=0, ge=0, le=65_535)
    metrics_host: str = "127.0.0.1"
    # Log lines: "text" (human lines, the default; console mode always) or "json" (one object a line).
    log_format: Literal["text", "json"] = "text"

    default_locale: Annotated[str, AfterValidator(values.locale)] = "en"

    # Per-user flood control: at most `throttle_rate` updates per `throttle_period` seconds.
    throttle_enabled: bool = True
    throttle_rate: int = Field(default=5, gt=0)
    throttle_period: float = Field(default=3.0, gt=0)

    # Conversation memory
    conversation_idle_hours: float = Field(default=3.0, gt=0)

    # Updates handled at once; more wait their turn (a burst waits longer, nobody gets an error).
    # Analyst answers have a bound of their own, so this one can be large: a question holds an update
    # slot only while it is prepared and waits for an answer slot.
    updates_concurrency: int = Field(default=256, ge=1, le=10_000)
    # Analyst answers (the model's stream, the paced delivery, the chart) running at once; more wait
    # their turn first come first served, "typing…" shown. Bounds the memory a burst of questions takes.
    answer_concurrency: int = Field(default=16, ge=1, le=1000)

    # Charts (services/market/chart_cache.py): rendered once per candle in this many threads (pyplot
    # draws one figure at a time, so more than 2 rarely helps); the PNGs kept in memory (~100 KB
    # each) and for how many seconds; Telegram's file_ids are kept in the store for reuse.
    chart_render_workers: int = Field(default=1, ge=1, le=16)
    chart_cache_size: int = Field(default=64, ge=1, le=10_000)
    chart_cache_ttl: float = Field(default=900.0, gt=0)

    # Outgoing Bot API limits (services/ratelimit.py, bot/limiter.py): Telegram's, for every call.
    outgoing_per_second: int = Field(default=30, ge=1, le=1000)  # overall, in any second
    outgoing_private_per_second: float = Field(default=1.0, gt=0, le=100)  # per private chat
    outgoing_private_burst: int = Field(default=3, ge=1, le=100)
    outgoing_group_per_minute: int = Field(default=20, ge=1, le=10_000)  # per group/channel, in any minute
    outgoing_safety: float = Field(default=0.03, ge=0, le=0.5)  # windows this share longer than Telegram's
    outgoing_bulk_share: float = Field(default=0.8, gt=0, le=1)  # of the window for pushes while a reply is queued
    # With PAID_BROADCAST, bulk sends pass allow_paid_broadcast at up to this rate (Telegram: ≤ 1000/s,
    # 0.1 Star per message beyond the free rate).
    paid_broadcast_per_second: int = Field(default=100, ge=1, le=1000)

    # Delivery outbox (signals, alerts, broadcasts): see services/delivery and bot/sender.py.
    # Sends in flight at once per sender; unset: sized from the rate pushes go at (`outbox_in_flight`).
    outbox_concurrency: Annotated[int | None, BeforeValidator(values.empty_is_unset)] = Field(
        default=None, ge=1, le=1000
    )
    outbox_batch_size: int = Field(default=50, ge=1, le=1000)  # rows leased per claim
    outbox_lease_seconds: float = Field(default=60.0, ge=1)  # a leased row is re-sent after this
    outbox_backoff_base: float = Field(default=5.0, gt=0)  # first retry after 2.5-5 s, then doubling
    outbox_backoff_max: float = Field(default=600.0, gt=0)
    outbox_max_attempts: int = Field(default=12, ge=1, le=100)  # then the row is dead
    outbox_poll_seconds: float = Field(default=2.0, gt=0)  # idle check for rows other replicas wrote
    # /broadcast: how often the operator's progress message is edited (each edit passes the limiter).
    broadcast_progress_seconds: float = Field(default=5.0, gt=0, le=3600)
    # Bulk deliveries pass allow_paid_broadcast (Telegram charges Stars beyond the free rate).
    paid_broadcast: bool = False

    # Feeds (subscriptions in private chats, groups and channels): services/feeds, handlers/feeds.py.
    # How long a chat admin check (getChatMember) is trusted: a demoted admin keeps the right this long.
    feeds_admin_cache_seconds: float = Field(default=60.0, ge=0, le=3600)
    # Track record (/performance, the weekly digest, the backtest): below this many graded signals in
    # scope no figure is shown, only the count and a sentence saying the sample is too small.
    performance_min_signals: int = Field(default=20, ge=1, le=10_000)
    # Risk alerts (services/risk): maintenance margin rates for liquidation prices as
    # "exchange:coin=rate" pairs (also "exchange=rate" and "*=rate"; most specific wins), notional
    # tiers "floor=rate" (a position worth at least the floor in USDT uses at least that rate),
    # position warnings at these % of the way from entry to liquidation, the timeframe whose candle
    # highs/lows the scans check alerts against, and the market-risk thresholds with their cooldown.
    risk_mmr: Annotated[
        dict[str, float], NoDecode, BeforeValidator(values.rate_pairs), AfterValidator(values.margin_rates)
    ] = Field(default_factory=lambda: {"*": 0.01, "bybit:btc": 0.005, "bybit:eth": 0.005, "binance:btc": 0.004})
    risk_mmr_tiers: Annotated[
        dict[float, float], NoDecode, BeforeValidator(values.rate_pairs), AfterValidator(values.margin_rates)
    ] = Field(default_factory=dict)
    risk_position_steps: Annotated[list[int], NoDecode, BeforeValidator(values.position_steps)] = Field(
        default_factory=lambda: [50, 80]
    )
    risk_candle_timeframe: Annotated[str, AfterValidator(values.candle_timeframe)] = "5m"
    risk_move_atr: float = Field(default=3.0, gt=0)  # a sudden move: |change| ≥ this × ATR …
    risk_move_candles: int = Field(default=3, ge=1, le=100)  # … within this many candles
    risk_volatility_percentile: float = Field(default=95.0, gt=0, le=100)
    risk_funding_extreme: float = Field(default=0.001, gt=0)  # |funding per 8 h| (0.001 = 0.1 %)
    risk_oi_change_pct: float = Field(default=10.0, gt=0)
    risk_cooldown_minutes: float = Field(default=60.0, ge=0)

    # Signal outcomes (services/signals/tracker.py): graded after costs — the taker fee per exchange
    # as "exchange=percent per side" pairs ("*=…" for any other exchange) and a slippage allowance
    # (percent per side), each paid on entry and on exit.
    signal_fees: Annotated[
        dict[str, float], NoDecode, BeforeValidator(values.fee_pairs), AfterValidator(values.fee_percents)
    ] = Field(default_factory=lambda: {"bybit": 0.055, "binance": 0.05, "okx": 0.05})
    signal_slippage_pct: float = Field(default=0.02, ge=0, lt=5)

    # Signals engine (services/signals/engine.py): the strategy run at candle closes for what live
    # signals feeds follow (one of services.signals.strategy.STRATEGIES), the funding rate as context,
    # and optional LLM commentary — bounded in time and tokens; the signal goes out without it.
    signals_strategy: Annotated[str, AfterValidator(values.strategy_name)] = "trend"
    signals_funding: bool = True
    signals_commentary: bool = False
    signals_commentary_timeout: float = Field(default=8.0, gt=0, le=60)
    signals_commentary_max_tokens: int = Field(default=120, ge=16, le=1000)

    # Scheduler (bot/scheduler.py, services/scheduling): one leader across replicas runs the jobs — a
    # Redis lock with REDIS_URL, a PostgreSQL advisory lock without it, this process on SQLite. A
    # leader renews every SCHEDULER_RENEW_SECONDS (others try to take over as often); a dead one is
    # replaced within SCHEDULER_LEASE_SECONDS. A run later than SCHEDULER_MISFIRE_SECONDS is skipped.
    # At shutdown runs in flight get SCHEDULER_STOP_GRACE_SECONDS to finish (0: cancelled at once),
    # within the 20 s the shutdown gives updates in flight (bot/factory.py SHUTDOWN_GRACE_SECONDS).
    scheduler_lease_seconds: float = Field(default=30.0, gt=0, le=3600)
    scheduler_renew_seconds: float = Field(default=10.0, gt=0, le=3600)
    scheduler_misfire_seconds: float = Field(default=60.0, gt=0, le=86_400)
    scheduler_stop_grace_seconds: float = Field(default=10.0, ge=0, le=20)
    scheduler_runs_keep_hours: float = Field(default=48.0, gt=0)  # scheduler_runs kept this long
    plan_check_seconds: float = Field(default=300.0, gt=0, le=86_400)  # plan-expiry reminders and downgrades
    # Market scans: these timeframes' candle closes, SCAN_DELAY_SECONDS after each close (UTC).
    scan_timeframes: Annotated[
        list[str], NoDecode, BeforeValidator(values.lower_csv), AfterValidator(values.scan_timeframes)
    ] = Field(default_factory=lambda: ["5m", "15m", "1h", "4h", "1d"])
    scan_delay_seconds: int = Field(default=5, ge=0, le=59)

    @model_validator(mode="after")
    def _webhook_secret(self) -> Settings:
        if self.webhook_url and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", self.webhook_secret.get_secret_value()):
            raise ConfigError(
                "Invalid WEBHOOK_SECRET: required with WEBHOOK_URL; 1-256 characters A-Z, a-z, 0-9, _ or -"
            )
        return self

    @model_validator(mode="after")
    def _outbox_backoff(self) -> Settings:
        if self.outbox_backoff_max < self.outbox_backoff_base:
            raise ConfigError("Invalid OUTBOX_BACKOFF_MAX: must be at least OUTBOX_BACKOFF_BASE")
        return self

    @model_validator(mode="after")
    def _scheduler_renewal(self) -> Settings:
        if self.scheduler_renew_seconds >= self.scheduler_lease_seconds:
            raise ConfigError("Invalid SCHEDULER_RENEW_SECONDS: must be below SCHEDULER_LEASE_SECONDS")
        return self

    @cached_property
    def webhook_mode(self) -> bool:
        return bool(self.webhook_url)

    @cached_property
    def outbox_in_flight(self) -> int:
        """OUTBOX_CONCURRENCY, or by default enough sends in flight to keep pushes at their rate.

        By Little's law a sender needs rate × (time a send spends outside the limiter's queue: the
        Bot API's round trip, up to about 0.5 s from a distant host, and recording the answer) in
        flight, and it refills its places in batches once a quarter is free: rate × 0.5 s / 0.75,
        two thirds of a second's worth: 20 at Telegram's 30 messages/s, 200 at 300/s. (The fixed
        default it replaces, 8, held a ×10-scaled push, 300/s over a local round trip, at 0.63-0.81
        of the limit.) A send waiting for its slot costs only a leased row, renewed meanwhile."""
        if self.outbox_concurrency is not None:
            return self.outbox_concurrency
        rate = self.paid_broadcast_per_second if self.paid_broadcast else self.outgoing_per_second
        return max(1, math.ceil(rate * 2 / 3))


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning the first validation error into a one-line ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ConfigError:
        raise
    except ValidationError as exc:
        error = exc.errors()[0]
        variable = str(error["loc"][0]).upper() if error["loc"] else "configuration"
        message = str(error["msg"]).removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]  # pydantic's "Input should be …"
        raise ConfigError(f"Invalid {variable}: {message}") from None
