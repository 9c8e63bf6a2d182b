"""Operators' actions on one user: look them up, read their profile, grant or revoke credits, set
their plan, ban or unban them. Each action and its audit row are one unit of work (one commit);
a refused action is audited too. Targets in the audit log are the user's Telegram id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import utcnow
from db.repositories.admin import AdminRepository, UserActivity, UserRow
from db.repositories.credits import AccountEffect, AccountUserRepository, LedgerRepository
from db.repositories.payments import PlanRepository
from services.audit import record_admin_action, stage_admin_action
from services.credits.errors import InsufficientCredits
from services.credits.ledger import TransactionView, apply_in_tx
from services.credits.plans import FREE, effective_plan_code

__all__ = [
    "CreditChange",
    "PlanSet",
    "UserActivity",
    "UserProfile",
    "UserRef",
    "UserRow",
    "ban_user",
    "change_credits",
    "find_user",
    "record_refusal",
    "set_user_plan",
    "user_profile",
]

GRANT_CATEGORY = "admin_grant"
REVOKE_CATEGORY = "admin_revoke"
MAX_CREDITS = 1_000_000
MAX_PLAN_DAYS = 3650
RECENT_TRANSACTIONS = 5


@dataclass(frozen=True)
class UserRef:
    """How an operator names a user: a Telegram id, or an @username."""

    telegram_id: int | None = None
    username: str | None = None

    @classmethod
    def parse(cls, text: str) -> UserRef | None:
        text = text.strip()
        if text.startswith("@") and 1 < len(text) <= 65 and text[1:].replace("_", "").isalnum():
            return cls(username=text[1:])
        if text.isdigit() and 0 < int(text) < 2**53:
            return cls(telegram_id=int(text))
        return None

    def __str__(self) -> str:
        return f"@{self.username}" if self.username is not None else str(self.telegram_id)


@dataclass(frozen=True)
class UserProfile:
    user: UserRow
    plan: str  # effective (free once a paid plan ran out)
    plan_expires_at: datetime | None
    available: int
    total: int
    used: int
    recent: tuple[TransactionView, ...]
    activity: UserActivity


@dataclass(frozen=True)
class CreditChange:
    done: bool  # False: refused (not enough credits to revoke)
    applied: bool  # False: this reference was applied before (a repeated update); nothing changed now
    amount: int
    balance_before: int
    balance_after: int


@dataclass(frozen=True)
class PlanSet:
    plan: str
    expires_at: datetime | None
    previous_plan: str
    previous_expires_at: datetime | None


async def _lookup(session: AsyncSession, ref: UserRef) -> UserRow | None:
    repository = AdminRepository(session)
    if ref.telegram_id is not None:
        return await repository.by_telegram_id(ref.telegram_id)
    assert ref.username is not None
    return await repository.by_username(ref.username)


async def find_user(session: AsyncSession, ref: UserRef) -> UserRow | None:
    user = await _lookup(session, ref)
    await session.commit()  # end the read
    return user


async def user_profile(session: AsyncSession, ref: UserRef, now: datetime | None = None) -> UserProfile | None:
    now = now or utcnow()
    user = await _lookup(session, ref)
    if user is None:
        await session.commit()
        return None
    ledger = LedgerRepository(session)
    account = await ledger.account(user.id)
    rows = await ledger.transactions(user.id, RECENT_TRANSACTIONS) if account is not None else []
    activity = await AdminRepository(session).activity(user)
    await session.commit()  # end the read: no connection held while the caller replies
    plan = effective_plan_code(user.plan, user.plan_expires_at, now)
    return UserProfile(
        user=user,
        plan=plan,
        plan_expires_at=user.plan_expires_at if plan != FREE else None,
        available=account.available if account else 0,
        total=account.total if account else 0,
        used=account.used if account else 0,
        recent=tuple(
            TransactionView(
                id=row.id,
                type=row.type,
                amount=row.amount,
                balance_after=row.balance_after,
                category=row.category,
                description=row.description,
                reference_id=row.reference_id,
                created_at=row.created_at,
            )
            for row in rows
        ),
        activity=activity,
    )


async def record_refusal(session: AsyncSession, actor: int, action: str, target: str | None, reason: str) -> None:
    """An operator's attempt that was refused before anything changed (bad arguments, unknown user)."""
    await record_admin_action(session, actor, action, target, f"refused: {reason}")


async def change_credits(
    session: AsyncSession,
    actor: int,
    user: UserRow,
    amount: int,
    reason: str,
    *,
    grant: bool,
    reference: str,
) -> CreditChange:
    """Grant (`grant=True`) or revoke credits through the ledger, idempotent on `reference`. A
    revoke never takes the balance below zero: with too few credits it is refused, nothing changes
    (two revokes at once: the second sees the first's balance)."""
    if not 0 < amount <= MAX_CREDITS:
        raise ValueError(f"amount 1..{MAX_CREDITS}")
    action = "grant" if grant else "revoke"
    target = str(user.telegram_id)
    try:
        entry = await apply_in_tx(
            session,
            AccountEffect.GRANT if grant else AccountEffect.REVOKE,
            amount,
            category=GRANT_CATEGORY if grant else REVOKE_CATEGORY,
            reference_id=reference,
            description=reason[:256],
            user_id=user.id,
        )
    except InsufficientCredits as exc:
        await session.rollback()
        details = f"refused: balance {exc.available} < {amount} reason={reason!r} ref={reference}"
        await record_admin_action(session, actor, action, target, details)
        return CreditChange(False, False, amount, exc.available, exc.available)
    outcome = "done" if entry.applied else "repeated"
    stage_admin_action(
        session,
        actor,
        action,
        target,
        f"{outcome}: {amount} balance {entry.balance_before}->{entry.balance_after} reason={reason!r} ref={reference}",
    )
    await session.commit()
    return CreditChange(True, entry.applied, amount, entry.balance_before, entry.balance_after)


async def set_user_plan(
    session: AsyncSession, actor: int, user: UserRow, code: str, days: int | None, now: datetime | None = None
) -> PlanSet | None:
    """Put the user on `code` for `days` from now (None: the plan's own duration; free: no
    expiry). None when no such plan."""
    now = now or utcnow()
    plan = await PlanRepository(session).get(code)
    if plan is None:
        await record_refusal(session, actor, "plan", str(user.telegram_id), f"no plan {code!r}")
        return None
    days = plan.duration_days if days is None else days
    if code != FREE and not 0 < days <= MAX_PLAN_DAYS:
        raise ValueError(f"days 1..{MAX_PLAN_DAYS}")
    users = AccountUserRepository(session)
    current = await users.lock(user.id)  # serializes changes of this user's plan
    if current is None:  # pragma: no cover - the user was just read
        await session.rollback()
        return None
    previous = effective_plan_code(current.plan, current.plan_expires_at, now)
    previous_expires = current.plan_expires_at if previous != FREE else None
    expires = None if code == FREE else now + timedelta(days=days)
    await users.set_plan(user.id, code, expires)
    stage_admin_action(
        session,
        actor,
        "plan",
        str(user.telegram_id),
        f"{previous}->{code} days={days if code != FREE else 0} "
        f"expires={expires.isoformat() if expires else None} was_until="
        f"{previous_expires.isoformat() if previous_expires else None}",
        now,
    )
    await session.commit()
    return PlanSet(code, expires, previous, previous_expires)


async def ban_user(session: AsyncSession, actor: int, user: UserRow, banned: bool, reason: str = "") -> bool:
    """Ban (or unban) the user; whether it changed anything. The cached view is dropped at commit,
    so the next update of theirs already sees it."""
    changed = await AdminRepository(session).set_banned(user.id, banned)
    action = "ban" if banned else "unban"
    outcome = "done" if changed else "unchanged"
    stage_admin_action(session, actor, action, str(user.telegram_id), f"{outcome} reason={reason!r}")
    await session.commit()
    return changed
