"""Configuration contract (see DESIGN.md): environment variables, `.env` read too.

Every setting is validated at start; a bad value stops the start with one line naming the variable
(`ConfigError`), never a traceback.
"""

from __future__ import annotations

import math
import re
from functools import cached_property
from typing import Annotated, Literal

from pydantic import Field, PositiveInt, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from services.admin.prices import parse_llm_prices
from services.exchange_ids import is_ccxt_exchange
from services.i18n import SUPPORTED_LOCALES


class ConfigError(Exception):
    """A configuration problem, phrased for a person: one line naming the variable."""


class StartupError(Exception):
    """A problem that stops the start (e.g. a rejected token); the message is one line for a person."""


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _split_csv(value: object) -> object:
    return _csv(value) if isinstance(value, str) else value


# What @BotFather gives: the bot's numeric id, a colon, and (today) 35 characters of A-Z a-z 0-9 _ -.
BOT_TOKEN_SHAPE = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{30,50}")


def _known_exchanges(names: list[str]) -> list[str]:
    unknown = [name for name in names if not is_ccxt_exchange(name)]  # ccxt itself is not imported
    if unknown:
        raise ValueError(f"unknown exchange id {', '.join(unknown)} (ccxt ids such as bybit, binance, okx)")
    return names


# What a market scan can fetch: services.market.timeframes.SUPPORTED_TIMEFRAMES (a test keeps them
# equal; importing it here would load the market package at settings time).
SCAN_TIMEFRAMES = ("5m", "15m", "1h", "4h", "1d", "1w")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr = SecretStr("")
    telegram_api_url: str = "https://api.telegram.org"
    database_url: str = "sqlite+aiosqlite:///data/coinsight.sqlite3"
    redis_url: str = ""
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
    openai_base_url: str = ""
    llm_model: str = "gpt-4o-mini"
    # USD per 1M tokens, input/output, per model, for /stats' cost estimate: `model=in/out,…`.
    llm_prices: Annotated[dict[str, tuple[float, float]], NoDecode] = Field(
        default_factory=lambda: {"gpt-4o-mini": (0.15, 0.6)}
    )
    llm_timeout: float = Field(default=60.0, gt=0)
    llm_max_retries: int = Field(default=2, ge=0, le=10)
    # A question's reservation (free-quota slot or credit hold) expires once every LLM attempt could
    # have timed out, plus this margin; the sweeper gives expired ones back every HOLD_SWEEP_SECONDS.
    hold_margin_seconds: float = Field(default=120.0, ge=0)
    hold_sweep_seconds: float = Field(default=60.0, gt=0)

    exchanges: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["bybit", "binance", "okx"])
    exchange_api_urls: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    exchange_timeout_ms: int = Field(default=10_000, gt=0)
    # A transient exchange error is tried again after this many seconds, doubling, up to EXCHANGE_ATTEMPTS tries.
    exchange_retry_seconds: float = Field(default=0.5, ge=0, le=60)
    exchange_attempts: int = Field(default=3, ge=1, le=10)
    # Exchange market lists (new listings, delistings) are reloaded this often.
    markets_refresh_hours: float = Field(default=4.0, gt=0)

    admin_ids: Annotated[list[PositiveInt], NoDecode] = Field(default_factory=list)

    webhook_url: str = ""
    webhook_secret: SecretStr = SecretStr("")
    web_host: str = "0.0.0.0"
    web_port: int = Field(default=8080, ge=1, le=65_535)
    # /metrics, /healthz and /readyz: on WEB_PORT in webhook mode; in polling mode on a small server of
    # their own at METRICS_HOST:METRICS_PORT, which 0 (the default) leaves off.
    metrics_port: int = Field(default=0, ge=0, le=65_535)
    metrics_host: str = "127.0.0.1"
    # Log lines: "text" (human lines, the default; console mode always) or "json" (one object a line).
    log_format: Literal["text", "json"] = "text"

    default_locale: str = "en"

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
    outbox_concurrency: int | None = Field(default=None, ge=1, le=1000)
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
    risk_mmr: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=lambda: {"*": 0.01, "bybit:btc": 0.005, "bybit:eth": 0.005, "binance:btc": 0.004}
    )
    risk_mmr_tiers: Annotated[dict[float, float], NoDecode] = Field(default_factory=dict)
    risk_position_steps: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [50, 80])
    risk_candle_timeframe: str = "5m"
    risk_move_atr: float = Field(default=3.0, gt=0)  # a sudden move: |change| ≥ this × ATR …
    risk_move_candles: int = Field(default=3, ge=1, le=100)  # … within this many candles
    risk_volatility_percentile: float = Field(default=95.0, gt=0, le=100)
    risk_funding_extreme: float = Field(default=0.001, gt=0)  # |funding per 8 h| (0.001 = 0.1 %)
    risk_oi_change_pct: float = Field(default=10.0, gt=0)
    risk_cooldown_minutes: float = Field(default=60.0, ge=0)

    @field_validator("risk_mmr", "risk_mmr_tiers", mode="before")
    @classmethod
    def _rate_pairs(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs: dict[str, str] = {}
        for item in _csv(value):
            key, sep, rate = item.partition("=")
            if not sep or not key.strip() or not rate.strip():
                raise ValueError("expected key=rate pairs, e.g. *=0.01,bybit:btc=0.005")
            pairs[key.strip().lower()] = rate.strip()
        return pairs

    @field_validator("risk_mmr", "risk_mmr_tiers")
    @classmethod
    def _rates(cls, value: dict[object, float]) -> dict[object, float]:
        if any(not 0 <= rate < 1 for rate in value.values()):
            raise ValueError("maintenance margin rates are fractions from 0 to 1, e.g. 0.005 for 0.5 %")
        return value

    @field_validator("risk_position_steps", mode="before")
    @classmethod
    def _steps(cls, value: object) -> object:
        steps = _split_csv(value)
        if isinstance(steps, list) and any(not 0 < int(step) < 100 for step in steps):
            raise ValueError("percentages between 1 and 99, e.g. 50,80")
        return steps

    @field_validator("risk_candle_timeframe")
    @classmethod
    def _risk_timeframe(cls, value: str) -> str:
        from services.market.errors import UnsupportedTimeframe
        from services.market.timeframes import validate_timeframe

        try:
            return validate_timeframe(value)
        except UnsupportedTimeframe as exc:
            raise ValueError(str(exc)) from None

    # Signal outcomes (services/signals/tracker.py): graded after costs — the taker fee per exchange
    # as "exchange=percent per side" pairs ("*=…" for any other exchange) and a slippage allowance
    # (percent per side), each paid on entry and on exit.
    signal_fees: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=lambda: {"bybit": 0.055, "binance": 0.05, "okx": 0.05}
    )
    signal_slippage_pct: float = Field(default=0.02, ge=0, lt=5)

    @field_validator("signal_fees", mode="before")
    @classmethod
    def _fee_pairs(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs: dict[str, str] = {}
        for item in _csv(value):
            key, sep, fee = item.partition("=")
            if not sep or not key.strip() or not fee.strip():
                raise ValueError("expected exchange=percent pairs, e.g. bybit=0.055,binance=0.05,*=0.06")
            pairs[key.strip().lower()] = fee.strip()
        return pairs

    @field_validator("signal_fees")
    @classmethod
    def _fees(cls, value: dict[str, float]) -> dict[str, float]:
        if any(not 0 <= fee < 5 for fee in value.values()):
            raise ValueError("fees are percent per side from 0 to 5, e.g. 0.055 for 0.055 %")
        return value

    # Signals engine (services/signals/engine.py): the strategy run at candle closes for what live
    # signals feeds follow (one of services.signals.strategy.STRATEGIES), the funding rate as context,
    # and optional LLM commentary — bounded in time and tokens; the signal goes out without it.
    signals_strategy: str = "trend"
    signals_funding: bool = True
    signals_commentary: bool = False
    signals_commentary_timeout: float = Field(default=8.0, gt=0, le=60)
    signals_commentary_max_tokens: int = Field(default=120, ge=16, le=1000)

    @field_validator("signals_strategy")
    @classmethod
    def _signals_strategy(cls, value: str) -> str:
        from services.signals.strategy import STRATEGIES

        name = value.strip().lower()
        if name not in STRATEGIES:
            raise ValueError(f"unknown strategy {value!r} (one of {', '.join(STRATEGIES)})")
        return name

    # Scheduler (bot/scheduler.py, services/scheduling): one leader across replicas runs the jobs — a
    # Redis lock with REDIS_URL, a PostgreSQL advisory lock without it, this process on SQLite. A
    # leader renews every SCHEDULER_RENEW_SECONDS (others try to take over as often); a dead one is
    # replaced within SCHEDULER_LEASE_SECONDS. A run later than SCHEDULER_MISFIRE_SECONDS is skipped.
    scheduler_lease_seconds: float = Field(default=30.0, gt=0, le=3600)
    scheduler_renew_seconds: float = Field(default=10.0, gt=0, le=3600)
    scheduler_misfire_seconds: float = Field(default=60.0, gt=0, le=86_400)
    scheduler_runs_keep_hours: float = Field(default=48.0, gt=0)  # scheduler_runs kept this long
    plan_check_seconds: float = Field(default=300.0, gt=0, le=86_400)  # plan-expiry reminders and downgrades
    # Market scans: these timeframes' candle closes, SCAN_DELAY_SECONDS after each close (UTC).
    scan_timeframes: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["5m", "15m", "1h", "4h", "1d"])
    scan_delay_seconds: int = Field(default=5, ge=0, le=59)

    @field_validator("bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value()
        if token and not BOT_TOKEN_SHAPE.fullmatch(token):
            # Never echo the value: it is a secret, and a wrong one is often a real token mangled.
            raise ValueError("not a bot token; @BotFather gives <bot id>:<35 characters>, e.g. 123456789:AAF…")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("use redis://host:6379/0 (rediss:// for TLS, unix:// for a socket), or leave it empty")
        return value

    @field_validator("exchanges", mode="before")
    @classmethod
    def _exchanges(cls, value: object) -> object:
        return [name.lower() for name in _csv(value)] if isinstance(value, str) else value

    @field_validator("exchanges")
    @classmethod
    def _exchange_ids(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one ccxt exchange id, e.g. bybit,binance,okx")
        return _known_exchanges(value)

    @field_validator("scan_timeframes", mode="before")
    @classmethod
    def _scan_timeframes(cls, value: object) -> object:
        return [part.lower() for part in _csv(value)] if isinstance(value, str) else value

    @field_validator("scan_timeframes")
    @classmethod
    def _known_timeframes(cls, value: list[str]) -> list[str]:
        known = SCAN_TIMEFRAMES  # the market service's timeframes (services/market/timeframes.py)
        unknown = [name for name in value if name not in known]
        if unknown:
            raise ValueError(f"unknown timeframe {', '.join(unknown)} (any of {', '.join(known)})")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _admin_ids(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("llm_prices", mode="before")
    @classmethod
    def _llm_prices(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        return {model: (price.prompt, price.completion) for model, price in parse_llm_prices(value).items()}

    @field_validator("exchange_api_urls", mode="before")
    @classmethod
    def _exchange_urls(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs: dict[str, str] = {}
        for item in _csv(value):
            name, sep, url = item.partition("=")
            if not sep or not name.strip() or not url.strip().startswith(("http://", "https://")):
                raise ValueError("expected id=http(s)://host pairs, e.g. bybit=http://127.0.0.1:8000")
            pairs[name.strip().lower()] = url.strip().rstrip("/")
        _known_exchanges(list(pairs))
        return pairs

    @field_validator("outbox_concurrency", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError("not a SQLAlchemy URL, e.g. postgresql+asyncpg://user@host/db") from exc
        if url.drivername not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
            raise ValueError("use sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db")
        return value

    @field_validator("default_locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("telegram_api_url", "openai_base_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

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
