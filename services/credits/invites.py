"""Invites: binding an inviter at first registration, rewards to the inviter, stats, codes.

Rewards are ledger credits with fixed references, so each is paid once whatever happens:
`invite:first:<invitee_id>` (the invitee's first answered question) and
`invite:purchase:<charge_id>` (a share of a purchase).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories.credits import AccountEffect, AccountUserRepository, LedgerRepository
from services.credits.config import DEFAULT_CONFIG, CreditsConfig
from services.credits.ledger import apply_in_tx, take_up_to_in_tx

# Unambiguous lowercase letters and digits: survives deep links, copying and reading aloud.
INVITE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
INVITE_CODE_LENGTH = 8
_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{4,16}$")
MAX_INVITE_LEVEL = 32767  # users.invite_level is a SMALLINT

FIRST_QUESTION_CATEGORY = "invite_first"
PURCHASE_CATEGORY = "invite_purchase"
PURCHASE_REVERSAL_CATEGORY = "invite_purchase_refund"


class BindOutcome(StrEnum):
    BOUND = "bound"
    NOT_NEW = "not_new"  # not a first registration, or an inviter is already set
    SELF = "self"
    CYCLE = "cycle"  # the code's owner was (indirectly) invited by this user
    UNKNOWN_CODE = "unknown_code"


class RewardKind(StrEnum):
    FIRST_QUESTION = "first_question"
    PURCHASE = "purchase"


@dataclass(frozen=True)
class BindResult:
    outcome: BindOutcome
    inviter_id: int | None = None
    inviter_telegram_id: int | None = None  # to tell the inviter someone joined
    invite_level: int | None = None


@dataclass(frozen=True)
class InviteReward:
    kind: RewardKind
    inviter_id: int
    inviter_telegram_id: int
    invitee_id: int
    credits: int
    balance_after: int


@dataclass(frozen=True)
class InviteStats:
    user_id: int
    invite_code: str
    invited: int
    credits_earned: int


def new_invite_code(length: int = INVITE_CODE_LENGTH) -> str:
    """A random code (32^8 ≈ 10^12 values). `users.invite_code` is UNIQUE: on the (unlikely)
    IntegrityError, retry with a new code."""
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(length))


def is_plausible_invite_code(code: str) -> bool:
    """Cheap syntax check for a /start payload before querying."""
    return bool(_CODE_RE.match(code))


async def bind_inviter(session: AsyncSession, user_id: int, code: str, is_new_user: bool) -> BindResult:
    """Bind the owner of `code` as this user's inviter; only at first registration, never self,
    never a cycle; `invite_level = inviter's + 1`. Commits when bound; a refusal ends its read, so
    the caller holds no connection while it replies."""
    result = await _bind_inviter(session, user_id, code, is_new_user)
    await session.commit()
    return result


async def _bind_inviter(session: AsyncSession, user_id: int, code: str, is_new_user: bool) -> BindResult:
    users = AccountUserRepository(session)
    if not is_new_user:
        return BindResult(outcome=BindOutcome.NOT_NEW)
    inviter = await users.by_invite_code(code) if is_plausible_invite_code(code) else None
    if inviter is None:
        return BindResult(outcome=BindOutcome.UNKNOWN_CODE)
    if inviter.id == user_id:
        return BindResult(outcome=BindOutcome.SELF, inviter_id=inviter.id)
    if await users.in_inviter_chain(inviter.id, user_id):
        return BindResult(outcome=BindOutcome.CYCLE, inviter_id=inviter.id)
    level = min(inviter.invite_level + 1, MAX_INVITE_LEVEL)
    if not await users.bind_inviter(user_id, inviter.id, level):
        return BindResult(outcome=BindOutcome.NOT_NEW, inviter_id=inviter.id)
    await session.commit()
    return BindResult(
        outcome=BindOutcome.BOUND, inviter_id=inviter.id, inviter_telegram_id=inviter.telegram_id, invite_level=level
    )


async def _grant(
    session: AsyncSession,
    kind: RewardKind,
    invitee_id: int,
    inviter_id: int,
    credits: int,
    category: str,
    reference_id: str,
) -> InviteReward | None:
    if credits <= 0:
        return None
    entry = await apply_in_tx(
        session,
        AccountEffect.GRANT,
        credits,
        category=category,
        reference_id=reference_id,
        description=f"invitee:{invitee_id}",
        user_id=inviter_id,
    )
    if not entry.applied:
        return None
    inviter = await AccountUserRepository(session).brief(inviter_id)
    telegram_id = inviter.telegram_id if inviter is not None else 0
    return InviteReward(
        kind=kind,
        inviter_id=inviter_id,
        inviter_telegram_id=telegram_id,
        invitee_id=invitee_id,
        credits=credits,
        balance_after=entry.balance_after,
    )


async def reward_first_question_in_tx(
    session: AsyncSession, invitee_id: int, inviter_id: int, config: CreditsConfig = DEFAULT_CONFIG
) -> InviteReward | None:
    """Pay the inviter for the invitee's first answered question, once. No commit."""
    return await _grant(
        session,
        RewardKind.FIRST_QUESTION,
        invitee_id,
        inviter_id,
        config.invite_reward_credits,
        FIRST_QUESTION_CATEGORY,
        f"invite:first:{invitee_id}",
    )


def purchase_reward(credits: int, config: CreditsConfig = DEFAULT_CONFIG) -> int:
    return credits * config.invite_purchase_percent // 100


async def reward_purchase_in_tx(
    session: AsyncSession,
    invitee_id: int,
    charge_id: str,
    purchased_credits: int,
    config: CreditsConfig = DEFAULT_CONFIG,
) -> InviteReward | None:
    """Pay the invitee's inviter P % (floor) of a purchase, once per charge. No commit."""
    invitee = await AccountUserRepository(session).brief(invitee_id)
    if invitee is None or invitee.inviter_id is None:
        return None
    return await _grant(
        session,
        RewardKind.PURCHASE,
        invitee_id,
        invitee.inviter_id,
        purchase_reward(purchased_credits, config),
        PURCHASE_CATEGORY,
        f"invite:purchase:{charge_id}",
    )


def purchase_reversal_reference(charge_id: str) -> str:
    return f"invite:purchase-refund:{charge_id}"


async def reverse_purchase_reward_in_tx(session: AsyncSession, charge_id: str) -> int:
    """On a refund, take the inviter's purchase reward back as far as it is unspent; the amount."""
    reward = await LedgerRepository(session).transaction_by_reference(f"invite:purchase:{charge_id}")
    if reward is None:
        return 0
    entry = await take_up_to_in_tx(
        session,
        reward.user_id,
        reward.amount,
        category=PURCHASE_REVERSAL_CATEGORY,
        reference_id=purchase_reversal_reference(charge_id),
    )
    return entry.amount if entry is not None else 0


async def invite_stats(session: AsyncSession, user_id: int) -> InviteStats:
    users = AccountUserRepository(session)
    user = await users.brief(user_id)
    ledger = LedgerRepository(session)
    earned = await ledger.sum_amounts(user_id, "credit", (FIRST_QUESTION_CATEGORY, PURCHASE_CATEGORY))
    reversed_ = await ledger.sum_amounts(user_id, "debit", (PURCHASE_REVERSAL_CATEGORY,))
    invited = await users.invited_count(user_id)
    await session.commit()  # end the read: no connection held while the caller replies
    return InviteStats(
        user_id=user_id,
        invite_code=user.invite_code if user is not None else "",
        invited=invited,
        credits_earned=earned - reversed_,
    )
