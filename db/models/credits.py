"""Credits ledger, plans, packages and payments. Integer credits; the database checks the arithmetic."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, TimestampMixin, utcnow


class Plan(Base):
    __tablename__ = "plans"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)  # free / vip / pro
    title: Mapped[str] = mapped_column(String(64))
    daily_free_questions: Mapped[int] = mapped_column(Integer)
    question_cost: Mapped[int] = mapped_column(Integer)  # credits per question beyond the quota
    price_stars: Mapped[int] = mapped_column(Integer, default=0)  # per `duration_days`; 0 = not sold
    duration_days: Mapped[int] = mapped_column(Integer, default=30)
    max_feeds: Mapped[int] = mapped_column(Integer)
    max_alerts: Mapped[int] = mapped_column(Integer)
    max_coins: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # per feed
    max_positions: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    signal_delay_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sort: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CreditPackage(Base):
    __tablename__ = "credit_packages"
    __table_args__ = (
        CheckConstraint("stars_price > 0", name="price_positive"),
        CheckConstraint("credits > 0 AND bonus >= 0", name="credits_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(64))
    stars_price: Mapped[int] = mapped_column(Integer)
    credits: Mapped[int] = mapped_column(Integer)
    bonus: Mapped[int] = mapped_column(Integer, default=0)
    recommended: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)


class CreditAccount(TimestampMixin, Base):
    __tablename__ = "credit_accounts"
    __table_args__ = (
        CheckConstraint("available = total - used", name="available_is_total_minus_used"),
        CheckConstraint("available >= 0 AND used >= 0 AND total >= 0", name="non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    available: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    used: Mapped[int] = mapped_column(default=0)


class CreditTransaction(TimestampMixin, Base):
    __tablename__ = "credit_transactions"
    __table_args__ = (
        CheckConstraint("type IN ('credit', 'debit')", name="type_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("balance_after >= 0", name="balance_non_negative"),
        CheckConstraint(
            "(type = 'credit' AND balance_after = balance_before + amount)"
            " OR (type = 'debit' AND balance_after = balance_before - amount)",
            name="arithmetic",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("credit_accounts.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int]
    balance_before: Mapped[int]
    balance_after: Mapped[int]
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(256), default="")
    reference_id: Mapped[str] = mapped_column(String(128), unique=True)


class CreditHold(TimestampMixin, Base):
    """A reservation: debited on reserve, kept on capture, credited back on release."""

    __tablename__ = "credit_holds"
    __table_args__ = (
        CheckConstraint("status IN ('held', 'captured', 'released')", name="status_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("credit_accounts.id", ondelete="CASCADE"), index=True)
    amount: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="held", index=True)
    reference_id: Mapped[str] = mapped_column(String(128), unique=True)
    expires_at: Mapped[datetime]
    settled_at: Mapped[datetime | None]


class DailyUsage(Base):
    """Questions answered per user per UTC day (free quota accounting)."""

    __tablename__ = "daily_usage"
    __table_args__ = (CheckConstraint("questions >= 0", name="questions_non_negative"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    questions: Mapped[int] = mapped_column(Integer, default=0)


class QuotaSlot(TimestampMixin, Base):
    """One of a day's free questions, reserved (and counted in `daily_usage`) before the answer:
    captured once it is answered, released (the count goes back down) when it is not, or by the
    sweeper once it expires unsettled (a crash mid-answer)."""

    __tablename__ = "quota_slots"
    __table_args__ = (CheckConstraint("status IN ('held', 'captured', 'released')", name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="held", index=True)
    reference_id: Mapped[str] = mapped_column(String(128), unique=True)
    expires_at: Mapped[datetime]
    settled_at: Mapped[datetime | None]


class Payment(TimestampMixin, Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'paid', 'refunded', 'failed')", name="status_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
        UniqueConstraint("telegram_payment_charge_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    package_id: Mapped[int | None] = mapped_column(ForeignKey("credit_packages.id"))
    plan_code: Mapped[str | None] = mapped_column(ForeignKey("plans.code"))
    currency: Mapped[str] = mapped_column(String(8), default="XTR")
    amount: Mapped[int]
    credits: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    invoice_payload: Mapped[str] = mapped_column(String(128), unique=True)
    telegram_payment_charge_id: Mapped[str | None] = mapped_column(String(128))
    paid_at: Mapped[datetime | None]
    refunded_at: Mapped[datetime | None]


class PlanSubscription(TimestampMixin, Base):
    """A plan sold as a Telegram Stars subscription: one row per subscription (its first invoice's
    payload, which every renewal and every `subscription` update carries). `expires_at` is the end of
    the paid period (Telegram's subscription_expiration_date); `state` active/canceled/failed."""

    __tablename__ = "plan_subscriptions"
    __table_args__ = (
        CheckConstraint("state IN ('active', 'canceled', 'failed')", name="state_known"),
        CheckConstraint("canceled_by IS NULL OR canceled_by IN ('user', 'bot')", name="canceled_by_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    plan_code: Mapped[str] = mapped_column(ForeignKey("plans.code"))
    invoice_payload: Mapped[str] = mapped_column(String(128), unique=True)
    charge_id: Mapped[str] = mapped_column(String(128))  # the first payment's (editUserStarSubscription)
    expires_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default="active")
    canceled_by: Mapped[str | None] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
