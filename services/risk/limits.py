"""Plan limits on alerts and positions (plans.max_alerts, plans.max_positions) for the user's
effective plan (an expired paid plan counts as free)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories.credits import AccountUserRepository
from db.repositories.payments import PlanRepository
from services.credits.errors import UnknownUser
from services.credits.plans import FREE, effective_plan_code


@dataclass(frozen=True, slots=True)
class RiskLimits:
    plan: str  # the effective plan's title
    max_alerts: int
    max_positions: int


class LimitReached(Exception):
    """The user has `limit` active alerts (or open positions), the most their plan allows."""

    def __init__(self, what: str, limit: int, plan: str) -> None:
        super().__init__(f"{what} limit {limit} of plan {plan}")
        self.what = what
        self.limit = limit
        self.plan = plan


async def risk_limits(session: AsyncSession, user_id: int, now: datetime) -> RiskLimits:
    user = await AccountUserRepository(session).brief(user_id)
    if user is None:
        raise UnknownUser(user_id)
    plans = PlanRepository(session)
    plan = await plans.get(effective_plan_code(user.plan, user.plan_expires_at, now)) or await plans.get(FREE)
    if plan is None:
        raise LookupError("the free plan is missing (migrations not applied?)")
    return RiskLimits(plan=plan.title, max_alerts=plan.max_alerts, max_positions=plan.max_positions)
