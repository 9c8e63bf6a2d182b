"""What the operators' /user and /audit read: a user by Telegram id or @username, the profile's
extra facts, the audit log. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.changes import user_changed
from db.models import AuditLog, ChatMessage, Conversation, User

SYSTEM_ACTOR = 0  # audit rows the product writes itself (plan extensions, reminders)


@dataclass(frozen=True)
class UserRow:
    id: int
    telegram_id: int
    username: str | None
    first_name: str
    language_code: str | None
    locale: str | None
    plan: str
    plan_expires_at: datetime | None
    banned: bool
    bot_blocked: bool
    dialog_count: int
    inviter_id: int | None
    invite_code: str
    created_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class UserActivity:
    invited: int  # users this user invited
    inviter_telegram_id: int | None
    last_question_at: datetime | None
    questions: int


@dataclass(frozen=True)
class AuditRow:
    id: int
    actor_telegram_id: int
    action: str
    target: str | None
    details: str | None
    created_at: datetime


_USER: tuple[Any, ...] = (
    User.id,
    User.telegram_id,
    User.username,
    User.first_name,
    User.language_code,
    User.locale,
    User.plan,
    User.plan_expires_at,
    User.banned,
    User.bot_blocked,
    User.dialog_count,
    User.inviter_id,
    User.invite_code,
    User.created_at,
    User.last_seen_at,
)
_AUDIT: tuple[Any, ...] = (
    AuditLog.id,
    AuditLog.actor_telegram_id,
    AuditLog.action,
    AuditLog.target,
    AuditLog.details,
    AuditLog.created_at,
)


def username_lookup(username: str) -> Select[Any]:
    """`by_username`'s statement: `lower(username)` is what ix_users_username_lower indexes (the tests
    EXPLAIN this very statement)."""
    return select(*_USER).where(func.lower(User.username) == username.lower()).order_by(User.id.desc()).limit(1)


class AdminRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_telegram_id(self, telegram_id: int) -> UserRow | None:
        row = (await self.session.execute(select(*_USER).where(User.telegram_id == telegram_id))).one_or_none()
        return None if row is None else UserRow(*row)

    async def by_username(self, username: str) -> UserRow | None:
        """Usernames are case-insensitive in Telegram; the newest user wins should two rows carry one
        (a name given up and taken by someone else)."""
        row = (await self.session.execute(username_lookup(username))).one_or_none()
        return None if row is None else UserRow(*row)

    async def set_banned(self, user_id: int, banned: bool) -> bool:
        """Whether it changed: False when the user already was (un)banned (by another operator too)."""
        statement = (
            update(User)
            .where(User.id == user_id, User.banned.is_not(banned))
            .values(banned=banned)
            .returning(User.id)
            .execution_options(synchronize_session=False)
        )
        changed = (await self.session.execute(statement)).scalar_one_or_none() is not None
        if changed:
            user_changed(self.session, user_id=user_id)  # its cached view is dropped at commit
        return changed

    async def activity(self, user: UserRow) -> UserActivity:
        invited = await self.session.scalar(select(func.count()).select_from(User).where(User.inviter_id == user.id))
        inviter = (
            await self.session.scalar(select(User.telegram_id).where(User.id == user.inviter_id))
            if user.inviter_id is not None
            else None
        )
        questions = (
            await self.session.execute(
                select(func.count(), func.max(ChatMessage.created_at))
                .join(Conversation, Conversation.id == ChatMessage.conversation_id)
                .where(Conversation.user_id == user.id, ChatMessage.role == "user")
            )
        ).one()
        return UserActivity(
            invited=int(invited or 0),
            inviter_telegram_id=inviter,
            last_question_at=questions[1],
            questions=int(questions[0]),
        )

    async def audit(self, limit: int, target: str | None = None) -> list[AuditRow]:
        """Operators' audit rows (the product's own bookkeeping rows left out), newest first;
        `target` keeps those about one user (their Telegram id is the target of user actions)."""
        statement = select(*_AUDIT).where(AuditLog.actor_telegram_id != SYSTEM_ACTOR)
        if target is not None:
            statement = statement.where(AuditLog.target == target)
        statement = statement.order_by(AuditLog.id.desc()).limit(limit)
        return [AuditRow(*row) for row in await self.session.execute(statement)]
