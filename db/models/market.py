"""Feeds, signals, alerts, positions and market snapshots (the delivery outbox: db.models.deliveries)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, TimestampMixin


class Feed(TimestampMixin, Base):
    __tablename__ = "feeds"
    # One feed per kind per chat; its coins and timeframes are lists inside it.
    __table_args__ = (UniqueConstraint("chat_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # signals / risk
    symbols: Mapped[str] = mapped_column(String(512), default="")  # comma-separated
    timeframes: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None]
    # on / silent (sent with disable_notification) / off
    level: Mapped[str] = mapped_column(String(8), default="on", server_default="on")
    # Forum supergroups: the topic the feed posts into (message_thread_id); None = the general topic.
    thread_id: Mapped[int | None]
    # signals feeds: also the weekly performance digest
    digest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Signal(TimestampMixin, Base):
    """A published trade idea and, once closed, its graded outcome (services/signals).

    Prices are the coin's quote (USDT). `take_profits` holds the 1-3 targets (comma-separated,
    ordered away from entry; `take_profit` is the first, the one outcomes are graded on).
    `reason` holds rule codes (rendered in each chat's language), never prose. `strategy` and
    `strategy_version` name the rules that made it: a change of rules starts a new track record.
    Outcomes: `exit_price`/`closed_at`, `result_r` (after costs, in units of the entry-stop risk)
    and `outcome_pct` (after costs), with the `fee_pct`/`slippage_pct` that were applied.
    """

    __tablename__ = "signals"
    __table_args__ = (
        CheckConstraint("direction IN ('long', 'short')", name="direction"),
        CheckConstraint("status IN ('open', 'tp', 'sl', 'expired')", name="status"),
        CheckConstraint("source IN ('auto', 'manual')", name="source"),
        CheckConstraint("confidence >= 0 AND confidence <= 100", name="confidence"),
        CheckConstraint(
            "(direction = 'long' AND stop < entry AND take_profit > entry)"
            " OR (direction = 'short' AND stop > entry AND take_profit < entry)",
            name="sides",
        ),
        # No second open signal for a coin/timeframe/direction from the same source.
        Index(
            "uq_signals_open",
            "symbol",
            "timeframe",
            "direction",
            "source",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_signals_closed", "status", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(32), index=True)
    exchange: Mapped[str] = mapped_column(String(16), default="", server_default="")
    timeframe: Mapped[str] = mapped_column(String(8))
    direction: Mapped[str] = mapped_column(String(8))
    entry: Mapped[float] = mapped_column(Float)
    stop: Mapped[float] = mapped_column(Float)
    take_profit: Mapped[float] = mapped_column(Float)
    take_profits: Mapped[str] = mapped_column(String(128), default="", server_default="")
    confidence: Mapped[float] = mapped_column(Float)
    strategy: Mapped[str] = mapped_column(String(32))
    strategy_version: Mapped[str] = mapped_column(String(16), default="1", server_default="1")
    reason: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    commentary: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(8), default="auto")
    created_by: Mapped[int | None] = mapped_column(BigInteger)  # the admin's Telegram id (manual)
    signal_at: Mapped[datetime | None]  # close time of the candle the decision used
    valid_until: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(8), default="open", index=True)
    exit_price: Mapped[float | None] = mapped_column(Float)
    outcome_pct: Mapped[float | None] = mapped_column(Float)
    result_r: Mapped[float | None] = mapped_column(Float)
    fee_pct: Mapped[float | None] = mapped_column(Float)
    slippage_pct: Mapped[float | None] = mapped_column(Float)
    closed_at: Mapped[datetime | None]


class PriceAlert(TimestampMixin, Base):
    __tablename__ = "price_alerts"
    __table_args__ = (Index("ix_price_alerts_active_symbol", "active", "symbol"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int]
    symbol: Mapped[str] = mapped_column(String(32))
    condition: Mapped[str] = mapped_column(String(8))  # above / below / move
    price: Mapped[float] = mapped_column(Float)  # the level; for `move`, the reference price when armed
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # armed
    triggered_at: Mapped[datetime | None]
    exchange: Mapped[str] = mapped_column(String(16), default="", server_default="")
    # `move` alerts: |change| >= pct percent within `window` (a timeframe such as 1h).
    pct: Mapped[float | None] = mapped_column(Float)
    window: Mapped[str | None] = mapped_column(String(8))
    # When it was (re-)armed: candles before this cannot fire it. The generation goes up on each
    # re-arm, and the delivery's ref id carries it, so one arming fires at most one message.
    armed_at: Mapped[datetime | None]
    generation: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    last_price: Mapped[float | None] = mapped_column(Float)


class Position(TimestampMixin, Base):
    __tablename__ = "positions"
    __table_args__ = (Index("ix_positions_active_symbol", "active", "symbol"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    entry: Mapped[float] = mapped_column(Float)
    leverage: Mapped[float] = mapped_column(Float, default=1.0)
    size: Mapped[float] = mapped_column(Float, default=0.0)
    stop: Mapped[float | None] = mapped_column(Float)
    take_profit: Mapped[float | None] = mapped_column(Float)
    liquidation_price: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    chat_id: Mapped[int | None]  # where warnings go (the user's private chat)
    exchange: Mapped[str] = mapped_column(String(16), default="", server_default="")
    mmr: Mapped[float | None] = mapped_column(Float)  # maintenance margin rate used for liquidation_price
    # Warning steps already sent, comma-separated (e.g. "50,80,sl"); the outbox's unique ref id
    # is what guarantees once, this is for display and to skip work.
    warned: Mapped[str] = mapped_column(String(64), default="", server_default="")
    closed_at: Mapped[datetime | None]


class MarketSnapshot(Base):
    __tablename__ = "market_snapshots"
    # One row per candle: the constraint (also the lookup index) makes repeated saves no-ops.
    __table_args__ = (UniqueConstraint("symbol", "timeframe", "as_of"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(32))
    timeframe: Mapped[str] = mapped_column(String(8))
    exchange: Mapped[str] = mapped_column(String(16), default="")
    as_of: Mapped[datetime]
    price: Mapped[float] = mapped_column(Float)
    ema20: Mapped[float | None] = mapped_column(Float)
    ema50: Mapped[float | None] = mapped_column(Float)
    macd: Mapped[float | None] = mapped_column(Float)
    rsi7: Mapped[float | None] = mapped_column(Float)
    rsi14: Mapped[float | None] = mapped_column(Float)
    atr: Mapped[float | None] = mapped_column(Float)
    funding_rate: Mapped[float | None] = mapped_column(Float)
    open_interest: Mapped[float | None] = mapped_column(Float)
    volume_ratio: Mapped[float | None] = mapped_column(Float)


class RiskCooldown(Base):
    """Last time a market-risk alert of one kind went to a chat for a coin (cooldown per coin/chat)."""

    __tablename__ = "risk_cooldowns"
    __table_args__ = (PrimaryKeyConstraint("chat_id", "symbol", "kind"),)

    chat_id: Mapped[int]
    symbol: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # move / volatility / funding / oi
    fired_at: Mapped[datetime]


class SchedulerRun(Base):
    """One row per job per tick: the unique key makes a tick run at most once across replicas."""

    __tablename__ = "scheduler_runs"
    __table_args__ = (UniqueConstraint("job", "tick"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(64))
    tick: Mapped[datetime]
    owner: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(500))
