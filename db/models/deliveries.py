"""The delivery outbox: one row per (kind, ref_id, chat) to push, and media uploaded once.

A row moves pending → sending (leased until `lease_until`) → sent (Telegram's message_id kept) /
failed (retried at `next_attempt_at`, after a backoff) / dead (a permanent error, kept in `error`) /
skipped (the chat blocked the bot, left, or is gone). `next_attempt_at` is when an open row is next
due; while a row is leased it equals `lease_until`, so an expired lease makes the row due like any
other. The indexes cover open rows only (partial), so they stay small however many rows were sent.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, TimestampMixin, utcnow


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"
    SKIPPED = "skipped"


# Rows that still have to reach Telegram (a `sending` row's lease may expire: it is open too).
OPEN_STATUSES: tuple[str, ...] = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.FAILED)
_OPEN_SQL = "status IN ('pending', 'sending', 'failed')"
_KNOWN_SQL = "status IN ('pending', 'sending', 'sent', 'failed', 'dead', 'skipped')"


class Delivery(TimestampMixin, Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("kind", "ref_id", "chat_id"),
        CheckConstraint(_KNOWN_SQL, name="status_known"),
        # Open rows in claim order: a claim walks it and stops after its batch.
        Index(
            "ix_deliveries_claim",
            "priority",
            "id",
            postgresql_where=text(_OPEN_SQL),
            sqlite_where=text(_OPEN_SQL),
        ),
        # A chat's open rows in order: the head of each chat is the only one sent, so order holds.
        Index(
            "ix_deliveries_chat_open",
            "chat_id",
            "id",
            postgresql_where=text(_OPEN_SQL),
            sqlite_where=text(_OPEN_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[int]
    payload: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    # Lower goes first (0 by default); within a chat, rows always go in creation order.
    priority: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    message_id: Mapped[int | None]
    sent_at: Mapped[datetime | None]
    # Sent with allow_paid_broadcast (charged in Stars beyond the free rate).
    paid: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    error: Mapped[str | None] = mapped_column(String(512))


class DeliveryMedia(TimestampMixin, Base):
    """A file pushed to many chats: uploaded once, then sent by Telegram's `file_id`."""

    __tablename__ = "delivery_media"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    filename: Mapped[str] = mapped_column(String(128), default="image.png")
    file_id: Mapped[str | None] = mapped_column(String(256))
