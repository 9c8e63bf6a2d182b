"""Charging the chat analyst: authorize before the LLM call, settle after it.

`CreditsPolicy.authorize` first reserves a free-quota slot for today (a conditional UPDATE:
`questions < quota`, so concurrent questions can't exceed the quota); beyond the quota it reserves
the plan's `question_cost` as a hold; with neither, it denies without holding anything. It commits,
and both reservations expire (`CreditsConfig.hold_ttl`), so a crash during the answer leaves
nothing the sweeper does not give back.

`settle(success=True)` captures the reservation, counts the question (daily usage,
`users.dialog_count`) and pays the inviter after the first answered question;
`settle(success=False)` gives the slot or the hold back. Settling twice changes nothing.

`charged(policy, session, decision)` is the lifecycle as a context manager: its exit settles
whatever happened inside — captured when the block called `succeed()` and ended normally, released
otherwise, on an exception or a cancellation too (the release runs to its end, shielded).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import utcnow
from db.repositories.credits import AccountUserRepository
from db.repositories.quota import UsageRepository
from services.credits.config import DEFAULT_CONFIG, CreditsConfig
from services.credits.errors import InsufficientCredits
from services.credits.holds import (
    HoldResult,
    SlotResult,
    capture_in_tx,
    capture_slot_in_tx,
    release_in_tx,
    release_slot_in_tx,
    renew_in_tx,
    renew_slot_in_tx,
    reserve_in_tx,
    reserve_slot_in_tx,
)
from services.credits.invites import InviteReward, reward_first_question_in_tx
from services.credits.plans import effective_plan_code, load_plan, utc_day

log = logging.getLogger(__name__)

QUESTION_HOLD_PREFIX = "q:"
T = TypeVar("T")


class ChargeMode(StrEnum):
    FREE_QUOTA = "free_quota"  # a free slot of today's quota is reserved (slot_id)
    CREDITS = "credits"  # `cost` credits are held (hold_id)
    DENIED = "denied"  # nothing reserved; see `reason`
    UNMETERED = "unmetered"  # a plan with question_cost 0: nothing reserved


class DenyReason(StrEnum):
    NO_CREDITS = "no_credits"
    BANNED = "banned"
    UNKNOWN_USER = "unknown_user"


@dataclass(frozen=True)
class ChargeDecision:
    allowed: bool
    mode: ChargeMode
    user_id: int
    question_ref: str
    day: date  # the UTC day the question counts for
    plan_code: str = "free"
    cost: int = 0  # credits held (CREDITS mode)
    hold_id: int | None = None
    slot_id: int | None = None
    reason: DenyReason | None = None
    free_left: int = 0  # free questions left today after this one
    available: int | None = None  # credits available (set when denied for lack of credits)


@dataclass(frozen=True)
class SettleResult:
    counted: bool  # the question was counted as answered (usage, dialog_count)
    hold: HoldResult | None = None
    slot: SlotResult | None = None
    dialog_count: int | None = None
    invite_reward: InviteReward | None = None  # the inviter was paid by this settle (notify them)


class ChargePolicy(Protocol):
    async def authorize(self, session: AsyncSession, user_id: int, question_ref: str) -> ChargeDecision: ...

    async def settle(self, session: AsyncSession, decision: ChargeDecision, success: bool) -> SettleResult: ...

    async def renew(self, session: AsyncSession, decision: ChargeDecision) -> bool: ...

    @property
    def renew_every(self) -> float: ...


async def _count_answered(
    session: AsyncSession, decision: ChargeDecision, *, usage_reserved: bool, config: CreditsConfig
) -> tuple[int | None, InviteReward | None]:
    if not usage_reserved:
        await UsageRepository(session).increment(decision.user_id, decision.day)
    counted = await AccountUserRepository(session).count_dialog(decision.user_id)
    if counted is None:
        return None, None
    dialog_count, inviter_id = counted
    reward = None
    if dialog_count == 1 and inviter_id is not None:
        reward = await reward_first_question_in_tx(session, decision.user_id, inviter_id, config)
    return dialog_count, reward


class _SettleMixin:
    config: CreditsConfig

    @property
    def renew_every(self) -> float:
        """Seconds between renewals of a question that waits for its turn: a third of a reservation's
        lifetime, so two renewals may fail (a busy database) before the sweeper could take it."""
        return self.config.hold_ttl.total_seconds() / 3

    async def renew(self, session: AsyncSession, decision: ChargeDecision, now: datetime | None = None) -> bool:
        """The question's reservation expires a full `hold_ttl` from now (commits): a question waiting
        for its turn in a burst, or starting its answer after that wait, is not given back by the
        sweeper meanwhile. False when there is none any more (settled, or swept before this call:
        the answer then costs nothing)."""
        ttl = self.config.hold_ttl
        if decision.mode is ChargeMode.CREDITS and decision.hold_id is not None:
            renewed = await renew_in_tx(session, decision.hold_id, ttl, now)
        elif decision.mode is ChargeMode.FREE_QUOTA and decision.slot_id is not None:
            renewed = await renew_slot_in_tx(session, decision.slot_id, ttl, now)
        else:
            return decision.allowed  # unmetered: nothing to keep
        await session.commit()
        return renewed

    async def settle(self, session: AsyncSession, decision: ChargeDecision, success: bool) -> SettleResult:
        if not decision.allowed:
            return SettleResult(counted=False)
        hold: HoldResult | None = None
        slot: SlotResult | None = None
        count = success
        if decision.mode is ChargeMode.CREDITS and decision.hold_id is not None:
            hold = await (capture_in_tx if success else release_in_tx)(session, decision.hold_id)
            count = success and hold.changed
        elif decision.mode is ChargeMode.FREE_QUOTA and decision.slot_id is not None:
            slot = await (capture_slot_in_tx if success else release_slot_in_tx)(session, decision.slot_id)
            count = success and slot.changed
        dialog_count: int | None = None
        reward: InviteReward | None = None
        if count:
            dialog_count, reward = await _count_answered(
                session, decision, usage_reserved=decision.mode is ChargeMode.FREE_QUOTA, config=self.config
            )
        await session.commit()
        return SettleResult(counted=count, hold=hold, slot=slot, dialog_count=dialog_count, invite_reward=reward)


class CreditsPolicy(_SettleMixin):
    """Daily free quota first, then the plan's question_cost in credits, else denied."""

    def __init__(self, config: CreditsConfig = DEFAULT_CONFIG) -> None:
        self.config = config

    async def authorize(
        self, session: AsyncSession, user_id: int, question_ref: str, now: datetime | None = None
    ) -> ChargeDecision:
        now = now or utcnow()
        denied = ChargeDecision(
            allowed=False, mode=ChargeMode.DENIED, user_id=user_id, question_ref=question_ref, day=utc_day(now)
        )
        user = await AccountUserRepository(session).brief(user_id)
        if user is None:
            return replace(denied, reason=DenyReason.UNKNOWN_USER)
        plan = await load_plan(session, effective_plan_code(user.plan, user.plan_expires_at, now))
        denied = replace(denied, plan_code=plan.code)
        if user.banned:
            return replace(denied, reason=DenyReason.BANNED)
        # One reservation per attempt: the same message can be asked again (its buttons), each time charged.
        reference = f"{QUESTION_HOLD_PREFIX}{question_ref}:{secrets.token_hex(4)}"
        ttl = self.config.hold_ttl
        slot = await reserve_slot_in_tx(session, user_id, denied.day, plan.daily_free_questions, reference, ttl, now)
        if slot is not None:
            await session.commit()
            left = plan.daily_free_questions - slot.used
            return replace(denied, allowed=True, mode=ChargeMode.FREE_QUOTA, slot_id=slot.slot_id, free_left=left)
        if plan.question_cost <= 0:
            await session.commit()
            return replace(denied, allowed=True, mode=ChargeMode.UNMETERED)
        try:
            hold_id = await reserve_in_tx(
                session, user_id, plan.question_cost, reference, ttl, category="chat", now=now
            )
        except InsufficientCredits as error:
            await session.commit()
            return replace(denied, reason=DenyReason.NO_CREDITS, cost=plan.question_cost, available=error.available)
        await session.commit()
        return replace(denied, allowed=True, mode=ChargeMode.CREDITS, cost=plan.question_cost, hold_id=hold_id)


@dataclass
class Charge:
    """The charge of one authorized question inside `charged`: call `succeed()` to have it captured."""

    decision: ChargeDecision
    succeeded: bool = False
    result: SettleResult | None = None  # set when the block has been left

    def succeed(self) -> None:
        self.succeeded = True


async def run_to_end(work: Awaitable[T]) -> T:
    """Await `work` to its end even when the caller is cancelled meanwhile (the cancellation is
    re-raised once it is done), so settling can't be cut halfway nor skipped."""
    task = asyncio.ensure_future(work)
    cancelled: asyncio.CancelledError | None = None
    while True:
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError as error:
            if task.done():  # the work itself was cancelled, not (only) us
                raise
            cancelled = error
            continue
        if cancelled is not None:
            raise cancelled
        return result


async def _release(policy: ChargePolicy, session: AsyncSession, decision: ChargeDecision) -> SettleResult | None:
    """Give the reservation back after a failure inside `charged`; what the block left uncommitted
    (perhaps a failed transaction) is rolled back first. A database that fails now leaves the
    reservation to the sweeper, which releases it when it expires."""
    try:
        await session.rollback()
        return await policy.settle(session, decision, success=False)
    except (SQLAlchemyError, OSError) as error:
        log.warning("charge %s not released now (%s); the sweeper will", decision.question_ref, error)
        return None


@asynccontextmanager
async def charged(policy: ChargePolicy, session: AsyncSession, decision: ChargeDecision) -> AsyncIterator[Charge]:
    """Settle `decision` whatever happens in the block: captured if the block called `succeed()`
    and ended normally, released otherwise — after an exception or a cancellation too, which then
    propagate. The settle commits (with what the block staged in `session` on success)."""
    charge = Charge(decision=decision)
    completed = False
    try:
        yield charge
        completed = True
    finally:
        if not completed:
            charge.result = await run_to_end(_release(policy, session, decision))
    charge.result = await run_to_end(policy.settle(session, decision, success=charge.succeeded))
