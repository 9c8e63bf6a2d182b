"""Ledger, holds and the user columns (plan, dialogs, inviter) the credits services use.

Never commits: the service owning the unit of work does. Balance changes are single conditional
statements (`UPDATE … WHERE available >= :amount RETURNING …`) so the database, not Python,
decides under concurrency; idempotency rows are inserted with `ON CONFLICT DO NOTHING` so a lost
race never aborts the transaction. Both work on PostgreSQL and SQLite ≥ 3.35.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.changes import user_changed, users_changed
from db.models import AuditLog, CreditAccount, CreditHold, CreditTransaction, User
from db.repositories.dialect import insert_ignore

_NO_SYNC: dict[str, Any] = {"synchronize_session": False}


class AccountEffect(Enum):
    """How a ledger entry moves the account's aggregates (available = total − used always)."""

    GRANT = "grant"  # credit: total += a (purchase, reward, admin grant)
    RESTORE = "restore"  # credit: used −= a (a hold given back)
    SPEND = "spend"  # debit: used += a (question, hold)
    REVOKE = "revoke"  # debit: total −= a (refund, admin revoke)

    @property
    def is_credit(self) -> bool:
        return self in (AccountEffect.GRANT, AccountEffect.RESTORE)

    @property
    def tx_type(self) -> str:
        return "credit" if self.is_credit else "debit"

    @property
    def inverse(self) -> AccountEffect:
        return _INVERSE[self]


_INVERSE = {
    AccountEffect.GRANT: AccountEffect.REVOKE,
    AccountEffect.REVOKE: AccountEffect.GRANT,
    AccountEffect.SPEND: AccountEffect.RESTORE,
    AccountEffect.RESTORE: AccountEffect.SPEND,
}


@dataclass(frozen=True)
class AccountRow:
    id: int
    user_id: int
    available: int
    total: int
    used: int


@dataclass(frozen=True)
class TransactionRow:
    id: int
    account_id: int
    user_id: int
    type: str
    amount: int
    balance_before: int
    balance_after: int
    category: str
    description: str
    reference_id: str
    created_at: datetime


@dataclass(frozen=True)
class HoldRow:
    id: int
    account_id: int
    user_id: int
    amount: int
    status: str
    reference_id: str
    expires_at: datetime


@dataclass(frozen=True)
class UserBrief:
    id: int
    telegram_id: int
    plan: str
    plan_expires_at: datetime | None
    banned: bool
    dialog_count: int
    inviter_id: int | None
    invite_level: int
    invite_code: str


def _columns(row_type: type[Any], model: type[Any], **overrides: Any) -> tuple[Any, ...]:
    """The SELECT list for a row dataclass: its field names read from `model` unless overridden."""
    return tuple(
        overrides[field.name] if field.name in overrides else getattr(model, field.name) for field in fields(row_type)
    )


_ACCOUNT_COLUMNS = _columns(AccountRow, CreditAccount)
_USER_COLUMNS = _columns(UserBrief, User)
_TX_COLUMNS = _columns(TransactionRow, CreditTransaction, user_id=CreditAccount.user_id)
_HOLD_COLUMNS = _columns(HoldRow, CreditHold, user_id=CreditAccount.user_id)


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ensure_account(self, user_id: int) -> None:
        """Create the user's account if missing (race-safe; a no-op for unknown users)."""
        zero = literal(0)
        source = select(
            User.id.label("user_id"), zero.label("available"), zero.label("total"), zero.label("used")
        ).where(User.id == user_id)
        await self.session.execute(insert_ignore(self.session, CreditAccount, source, "user_id"))

    async def apply(
        self, effect: AccountEffect, amount: int, *, user_id: int | None = None, account_id: int | None = None
    ) -> tuple[int, int, int] | None:
        """Move the balance in one conditional UPDATE; (account_id, user_id, available after) or
        None when the account is missing or the funds (or `used`, for RESTORE) don't suffice."""
        account = CreditAccount
        where: ColumnElement[bool] = account.user_id == user_id if account_id is None else account.id == account_id
        values: dict[str, Any]
        if effect is AccountEffect.GRANT:
            values = {"available": account.available + amount, "total": account.total + amount}
        elif effect is AccountEffect.RESTORE:
            values = {"available": account.available + amount, "used": account.used - amount}
            where = where & (account.used >= amount)
        elif effect is AccountEffect.SPEND:
            values = {"available": account.available - amount, "used": account.used + amount}
            where = where & (account.available >= amount)
        else:
            values = {"available": account.available - amount, "total": account.total - amount}
            where = where & (account.available >= amount)
        statement = (
            update(account)
            .where(where)
            .values(values)
            .returning(account.id, account.user_id, account.available)
            .execution_options(**_NO_SYNC)
        )
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else (row[0], row[1], row[2])

    async def insert_transaction(
        self,
        *,
        account_id: int,
        effect: AccountEffect,
        amount: int,
        balance_before: int,
        balance_after: int,
        category: str,
        description: str,
        reference_id: str,
        now: datetime,
    ) -> int | None:
        """Insert a ledger row; None when the reference_id already exists (nothing inserted)."""
        values = {
            "account_id": account_id,
            "type": effect.tx_type,
            "amount": amount,
            "balance_before": balance_before,
            "balance_after": balance_after,
            "category": category,
            "description": description[:256],
            "reference_id": reference_id,
            "created_at": now,
        }
        statement = insert_ignore(self.session, CreditTransaction, values, "reference_id")
        return (await self.session.execute(statement.returning(CreditTransaction.id))).scalar_one_or_none()

    async def transaction_by_reference(self, reference_id: str) -> TransactionRow | None:
        statement = (
            select(*_TX_COLUMNS)
            .join(CreditAccount, CreditAccount.id == CreditTransaction.account_id)
            .where(CreditTransaction.reference_id == reference_id)
        )
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else TransactionRow(*row)

    async def account(self, user_id: int) -> AccountRow | None:
        statement = select(*_ACCOUNT_COLUMNS).where(CreditAccount.user_id == user_id)
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else AccountRow(*row)

    async def transactions(self, user_id: int, limit: int, offset: int = 0) -> list[TransactionRow]:
        statement = (
            select(*_TX_COLUMNS)
            .join(CreditAccount, CreditAccount.id == CreditTransaction.account_id)
            .where(CreditAccount.user_id == user_id)
            .order_by(CreditTransaction.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [TransactionRow(*row) for row in await self.session.execute(statement)]

    async def sum_amounts(self, user_id: int, tx_type: str, categories: Sequence[str]) -> int:
        statement = (
            select(func.coalesce(func.sum(CreditTransaction.amount), 0))
            .join(CreditAccount, CreditAccount.id == CreditTransaction.account_id)
            .where(
                CreditAccount.user_id == user_id,
                CreditTransaction.type == tx_type,
                CreditTransaction.category.in_(categories),
            )
        )
        return int((await self.session.execute(statement)).scalar_one())


class HoldRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(
        self, account_id: int, amount: int, reference_id: str, expires_at: datetime, now: datetime
    ) -> int | None:
        values = {
            "account_id": account_id,
            "amount": amount,
            "status": "held",
            "reference_id": reference_id,
            "expires_at": expires_at,
            "created_at": now,
        }
        statement = insert_ignore(self.session, CreditHold, values, "reference_id").returning(CreditHold.id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def _one(self, condition: ColumnElement[bool]) -> HoldRow | None:
        statement = (
            select(*_HOLD_COLUMNS).join(CreditAccount, CreditAccount.id == CreditHold.account_id).where(condition)
        )
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else HoldRow(*row)

    async def get(self, hold_id: int) -> HoldRow | None:
        return await self._one(CreditHold.id == hold_id)

    async def by_reference(self, reference_id: str) -> HoldRow | None:
        return await self._one(CreditHold.reference_id == reference_id)

    async def settle(self, hold_id: int, status: str, now: datetime) -> tuple[int, int] | None:
        """held → `status`, exactly once; (account_id, amount) when this call made the change."""
        statement = (
            update(CreditHold)
            .where(CreditHold.id == hold_id, CreditHold.status == "held")
            .values(status=status, settled_at=now)
            .returning(CreditHold.account_id, CreditHold.amount)
            .execution_options(**_NO_SYNC)
        )
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else (row[0], row[1])

    async def extend(self, hold_id: int, expires_at: datetime) -> bool:
        """A hold still held expires at `expires_at` instead; False once it is settled."""
        statement = (
            update(CreditHold)
            .where(CreditHold.id == hold_id, CreditHold.status == "held")
            .values(expires_at=expires_at)
            .returning(CreditHold.id)
            .execution_options(**_NO_SYNC)
        )
        return (await self.session.execute(statement)).one_or_none() is not None

    async def expired_ids(self, now: datetime, limit: int) -> list[int]:
        statement = (
            select(CreditHold.id)
            .where(CreditHold.status == "held", CreditHold.expires_at <= now)
            .order_by(CreditHold.id)
            .limit(limit)
        )
        return list((await self.session.execute(statement)).scalars())


class AccountUserRepository:
    """The user columns the credits services read and write (plan, dialog count, inviter)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def brief(self, user_id: int) -> UserBrief | None:
        row = (await self.session.execute(select(*_USER_COLUMNS).where(User.id == user_id))).one_or_none()
        return None if row is None else UserBrief(*row)

    async def by_invite_code(self, code: str) -> UserBrief | None:
        statement = select(*_USER_COLUMNS).where(User.invite_code == code)
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else UserBrief(*row)

    async def lock(self, user_id: int) -> UserBrief | None:
        """Take the user's row lock (a no-op UPDATE: PostgreSQL row lock, SQLite write lock)."""
        statement = (
            update(User).where(User.id == user_id).values(plan=User.plan).returning(*_USER_COLUMNS)
        ).execution_options(**_NO_SYNC)
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else UserBrief(*row)

    async def set_plan(self, user_id: int, plan: str, expires_at: datetime | None) -> None:
        await self.session.execute(update(User).where(User.id == user_id).values(plan=plan, plan_expires_at=expires_at))
        user_changed(self.session, user_id=user_id)  # its cached view is dropped at commit

    async def downgrade_expired(self, now: datetime, user_id: int | None = None) -> int:
        condition = (User.plan != "free") & (User.plan_expires_at.is_not(None)) & (User.plan_expires_at <= now)
        if user_id is not None:
            condition = condition & (User.id == user_id)
        statement = (
            update(User).where(condition).values(plan="free", plan_expires_at=None).returning(User.id)
        ).execution_options(synchronize_session="fetch")
        downgraded = [row[0] for row in (await self.session.execute(statement)).all()]
        users_changed(self.session, downgraded)
        return len(downgraded)

    async def count_dialog(self, user_id: int) -> tuple[int, int | None] | None:
        """dialog_count += 1; (new count, inviter_id)."""
        statement = (
            update(User)
            .where(User.id == user_id)
            .values(dialog_count=User.dialog_count + 1)
            .returning(User.dialog_count, User.inviter_id)
        )
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else (row[0], row[1])

    async def bind_inviter(self, user_id: int, inviter_id: int, level: int) -> bool:
        """Set the inviter only if none is set yet (first binding wins)."""
        statement = (
            update(User)
            .where(User.id == user_id, User.inviter_id.is_(None))
            .values(inviter_id=inviter_id, invite_level=level)
            .returning(User.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none() is not None

    async def in_inviter_chain(self, start_id: int, user_id: int) -> bool:
        """Is `user_id` the user `start_id` or one of its inviters, inviter's inviters, …?"""
        chain = select(User.id, User.inviter_id).where(User.id == start_id).cte("chain", recursive=True)
        chain = chain.union(select(User.id, User.inviter_id).join(chain, User.id == chain.c.inviter_id))
        statement = select(chain.c.id).where(chain.c.id == user_id).limit(1)
        return (await self.session.execute(statement)).scalar_one_or_none() is not None

    async def invited_count(self, user_id: int) -> int:
        statement = select(func.count()).select_from(User).where(User.inviter_id == user_id)
        return int((await self.session.execute(statement)).scalar_one())

    async def expiring(self, start: datetime, end: datetime) -> list[UserBrief]:
        statement = (
            select(*_USER_COLUMNS)
            .where(
                User.plan != "free",
                User.plan_expires_at > start,
                User.plan_expires_at <= end,
                User.banned.is_(False),
                User.bot_blocked.is_(False),
            )
            .order_by(User.plan_expires_at, User.id)
        )
        return [UserBrief(*row) for row in await self.session.execute(statement)]


class AuditRepository:
    """System records in `audit_log` (actor 0): idempotency keys for plan changes and reminders."""

    SYSTEM_ACTOR = 0

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, action: str, target: str, details: str | None = None, *, now: datetime) -> None:
        self.session.add(
            AuditLog(
                actor_telegram_id=self.SYSTEM_ACTOR,
                action=action,
                target=target[:128],
                details=details,
                created_at=now,
            )
        )
        await self.session.flush()

    async def existing_targets(self, action: str, targets: Sequence[str]) -> set[str]:
        if not targets:
            return set()
        statement = select(AuditLog.target).where(AuditLog.action == action, AuditLog.target.in_(targets))
        return {target for target in (await self.session.execute(statement)).scalars() if target is not None}
