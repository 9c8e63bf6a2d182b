"""A charge policy for tests only: every question allowed, nothing charged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import utcnow
from services.credits.charging import ChargeDecision, ChargeMode, CreditsPolicy, SettleResult
from services.credits.config import DEFAULT_CONFIG, CreditsConfig
from services.credits.plans import utc_day


class AllowAllPolicy:
    """Allows every question without charging; settling still records usage and dialog counts on
    success, exactly as `CreditsPolicy` settles an unmetered decision."""

    def __init__(self, config: CreditsConfig = DEFAULT_CONFIG) -> None:
        self._credits = CreditsPolicy(config)

    async def authorize(
        self, session: AsyncSession, user_id: int, question_ref: str, now: datetime | None = None
    ) -> ChargeDecision:
        return ChargeDecision(
            allowed=True,
            mode=ChargeMode.UNMETERED,
            user_id=user_id,
            question_ref=question_ref,
            day=utc_day(now or utcnow()),
        )

    async def settle(self, session: AsyncSession, decision: ChargeDecision, success: bool) -> SettleResult:
        return await self._credits.settle(session, decision, success)

    async def renew(self, session: AsyncSession, decision: ChargeDecision) -> bool:
        return await self._credits.renew(session, decision)

    @property
    def renew_every(self) -> float:
        return self._credits.renew_every
