from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String, column, false, func
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, TimestampMixin, utcnow


class User(TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        # The operators' `/user @name` matches usernames case-insensitively (AdminRepository.by_username).
        # Migration 0009; SQLite cannot reflect it, so a batch copy of `users` there must recreate it.
        Index("ix_users_username_lower", func.lower(column("username"))),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    telegram_id: Mapped[int] = mapped_column(unique=True)
    username: Mapped[str | None] = mapped_column(String(64))
    first_name: Mapped[str] = mapped_column(String(128), default="")
    language_code: Mapped[str | None] = mapped_column(String(16))
    # The user's explicit choice (/language); None means "follow Telegram's language_code".
    locale: Mapped[str | None] = mapped_column(String(8))
    plan: Mapped[str] = mapped_column(String(16), default="free", server_default="free")
    plan_expires_at: Mapped[datetime | None]
    dialog_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    invite_code: Mapped[str] = mapped_column(String(16), unique=True)
    inviter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    invite_level: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    start_payload: Mapped[str | None] = mapped_column(String(64))
    banned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    bot_blocked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Chat(TimestampMixin, Base):
    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # Telegram chat id
    type: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(256))
    locale: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    username: Mapped[str | None] = mapped_column(String(64))  # public @name (channels)
    is_forum: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Channels: the Telegram user id of the channel admin who linked it and manages its feeds.
    managed_by: Mapped[int | None] = mapped_column(index=True)


class AuditLog(TimestampMixin, Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    actor_telegram_id: Mapped[int] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[str | None] = mapped_column(String(2000))
