"""Plans (free/vip/pro) with expiry, the daily free quota and plan-expiry reminders.

An expired paid plan reads as `free` everywhere (`effective_plan_code`), before anything persists
the downgrade (`downgrade_expired_plans`). Plan extensions are idempotent on a reference recorded in
`audit_log` (action `plan_extend`, system actor 0); reminders likewise (`plan_expiry_reminder`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Plan, utcnow
from db.repositories.credits import AccountUserRepository, AuditRepository
from db.repositories.payments import PlanRepository
from db.repositories.quota import UsageRepository
from services.credits.config import DEFAULT_CONFIG, CreditsConfig
from services.credits.errors import NotOnSale, UnknownUser

FREE = "free"
PLAN_EXTEND_ACTION = "plan_extend"
REMINDER_ACTION = "plan_expiry_reminder"


@dataclass(frozen=True)
class PlanInfo:
    code: str
    title: str
    daily_free_questions: int
    question_cost: int
    max_feeds: int
    max_alerts: int
    price_stars: int
    duration_days: int
    rank: int  # plans.sort: higher is better
    active: bool


@dataclass(frozen=True)
class PlanStatus:
    user_id: int
    plan: PlanInfo  # the effective plan (free once a paid plan expired)
    expires_at: datetime | None  # None for free or a plan without expiry
    expired: bool  # a paid plan is stored but has run out (not yet persisted as free)
    questions_today: int
    free_left: int
    dialog_count: int


@dataclass(frozen=True)
class PlanChange:
    user_id: int
    plan_code: str
    expires_at: datetime | None
    previous_plan: str  # effective plan before the change
    previous_expires_at: datetime | None
    applied: bool  # False: this reference was applied before; nothing changed now


@dataclass(frozen=True)
class ExpiryReminder:
    user_id: int
    telegram_id: int
    plan_code: str
    expires_at: datetime


def utc_day(now: datetime) -> date:
    """The UTC calendar day of an aware datetime (daily quotas reset at 00:00 UTC)."""
    if now.tzinfo is None:
        raise ValueError("naive datetime")
    return now.astimezone(UTC).date()


def effective_plan_code(plan: str, expires_at: datetime | None, now: datetime) -> str:
    if plan != FREE and expires_at is not None and expires_at <= now:
        return FREE
    return plan


def plan_info(plan: Plan) -> PlanInfo:
    return PlanInfo(
        code=plan.code,
        title=plan.title,
        daily_free_questions=plan.daily_free_questions,
        question_cost=plan.question_cost,
        max_feeds=plan.max_feeds,
        max_alerts=plan.max_alerts,
        price_stars=plan.price_stars,
        duration_days=plan.duration_days,
        rank=plan.sort,
        active=plan.active,
    )


async def load_plan(session: AsyncSession, code: str) -> PlanInfo:
    """A plan by code; an unknown stored code falls back to free."""
    plans = PlanRepository(session)
    plan = await plans.get(code) or await plans.get(FREE)
    if plan is None:
        raise LookupError("the free plan is missing (migrations not applied?)")
    return plan_info(plan)


async def effective_plan(session: AsyncSession, user_id: int, now: datetime | None = None) -> PlanInfo:
    user = await AccountUserRepository(session).brief(user_id)
    if user is None:
        raise UnknownUser(user_id)
    return await load_plan(session, effective_plan_code(user.plan, user.plan_expires_at, now or utcnow()))


async def plan_status(session: AsyncSession, user_id: int, now: datetime | None = None) -> PlanStatus:
    """Everything /balance shows about the plan: effective plan, expiry, today's questions and quota."""
    now = now or utcnow()
    user = await AccountUserRepository(session).brief(user_id)
    if user is None:
        raise UnknownUser(user_id)
    code = effective_plan_code(user.plan, user.plan_expires_at, now)
    plan = await load_plan(session, code)
    questions = await UsageRepository(session).questions(user_id, utc_day(now))
    await session.commit()  # end the read: no connection held while the caller replies
    return PlanStatus(
        user_id=user_id,
        plan=plan,
        expires_at=user.plan_expires_at if code != FREE else None,
        expired=user.plan != FREE and user.plan_expires_at is not None and user.plan_expires_at <= now,
        questions_today=questions,
        free_left=max(0, plan.daily_free_questions - questions),
        dialog_count=user.dialog_count,
    )


async def downgrade_expired_plans(
    session: AsyncSession, now: datetime | None = None, *, user_id: int | None = None
) -> int:
    """Persist `free` for expired plans (one user or everyone); the number of users changed. Commits."""
    changed = await AccountUserRepository(session).downgrade_expired(now or utcnow(), user_id)
    await session.commit()
    return changed


def _extended_expiry(
    current_code: str, current_expires: datetime | None, new_code: str, days: int, now: datetime
) -> datetime | None:
    if current_code == new_code:
        if current_expires is None:  # a plan without expiry (granted by an admin) stays so
            return None
        return max(now, current_expires) + timedelta(days=days)
    return now + timedelta(days=days)


async def extend_plan_in_tx(
    session: AsyncSession,
    user_id: int,
    plan_code: str,
    days: int,
    reference: str,
    now: datetime | None = None,
) -> PlanChange:
    """Same plan: extend from the later of now and the current expiry; another plan: switch to it
    for `days` from now. Idempotent on `reference`. No commit: part of the caller's unit of work
    (a payment's fulfilment)."""
    if days <= 0:
        raise ValueError("days must be > 0")
    now = now or utcnow()
    plan = await PlanRepository(session).get(plan_code)
    if plan is None or plan_code == FREE:
        raise NotOnSale(f"plan:{plan_code}")
    users = AccountUserRepository(session)
    user = await users.lock(user_id)  # serializes changes of this user's plan
    if user is None:
        raise UnknownUser(user_id)
    current = effective_plan_code(user.plan, user.plan_expires_at, now)
    current_expires = user.plan_expires_at if current != FREE else None
    audit = AuditRepository(session)
    if await audit.existing_targets(PLAN_EXTEND_ACTION, [reference]):
        return PlanChange(
            user_id=user_id,
            plan_code=current,
            expires_at=current_expires,
            previous_plan=current,
            previous_expires_at=current_expires,
            applied=False,
        )
    expires = _extended_expiry(current, current_expires, plan_code, days, now)
    await users.set_plan(user_id, plan_code, expires)
    details = f"user={user_id} {current}->{plan_code} days={days} expires={expires.isoformat() if expires else None}"
    await audit.add(PLAN_EXTEND_ACTION, reference, details, now=now)
    return PlanChange(
        user_id=user_id,
        plan_code=plan_code,
        expires_at=expires,
        previous_plan=current,
        previous_expires_at=current_expires,
        applied=True,
    )


def _reminder_target(user_id: int, expires_at: datetime, stage: str = "") -> str:
    target = f"{user_id}@{int(expires_at.timestamp())}"
    return f"{target}:{stage}" if stage else target


async def users_due_for_expiry_reminder(
    session: AsyncSession,
    now: datetime | None = None,
    *,
    config: CreditsConfig = DEFAULT_CONFIG,
    within: timedelta | None = None,
    stage: str = "",
) -> list[ExpiryReminder]:
    """Users whose paid plan expires within the window (`within`, default the config's) and who weren't
    reminded for that expiry at that `stage` (e.g. "3d", "1d": one reminder each; a renewal moves the
    expiry, so the next one is reminded again). Banned/blocked users skipped."""
    now = now or utcnow()
    candidates = await AccountUserRepository(session).expiring(now, now + (within or config.expiry_reminder_window))
    targets = {
        _reminder_target(user.id, user.plan_expires_at, stage): user
        for user in candidates
        if user.plan_expires_at is not None
    }
    done = await AuditRepository(session).existing_targets(REMINDER_ACTION, list(targets))
    return [
        ExpiryReminder(
            user_id=user.id, telegram_id=user.telegram_id, plan_code=user.plan, expires_at=user.plan_expires_at
        )
        for target, user in targets.items()
        if target not in done and user.plan_expires_at is not None
    ]


async def mark_expiry_reminded(
    session: AsyncSession, user_id: int, expires_at: datetime, now: datetime | None = None, *, stage: str = ""
) -> None:
    """Record that the reminder for this expiry (at this stage) was sent. Commits."""
    await AuditRepository(session).add(
        REMINDER_ACTION, _reminder_target(user_id, expires_at, stage), f"user={user_id}", now=now or utcnow()
    )
    await session.commit()
