"""Small factories and ledger checks for the credits tests (users straight through the ORM)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import CreditAccount, CreditTransaction, User
from services.credits import ledger
from services.credits.invites import new_invite_code

T = TypeVar("T")
_telegram_ids = itertools.count(10_000_001)


async def make_user(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    plan: str = "free",
    plan_expires_at: datetime | None = None,
    banned: bool = False,
    inviter_id: int | None = None,
    invite_level: int = 0,
    credits: int = 0,
) -> int:
    async with sessionmaker() as session:
        user = User(
            telegram_id=next(_telegram_ids),
            first_name="Test",
            plan=plan,
            plan_expires_at=plan_expires_at,
            banned=banned,
            inviter_id=inviter_id,
            invite_level=invite_level,
            invite_code=new_invite_code(),
        )
        session.add(user)
        await session.commit()
        user_id = user.id
    if credits:
        async with sessionmaker() as session:
            await ledger.credit(session, user_id, credits, category="test", reference_id=f"seed:{user_id}")
    return user_id


async def get_user(sessionmaker: async_sessionmaker[AsyncSession], user_id: int) -> User:
    async with sessionmaker() as session:
        user = await session.get(User, user_id)
        assert user is not None
        return user


@dataclass(frozen=True)
class LedgerState:
    available: int
    total: int
    used: int
    credits: int  # sum of credit transactions
    debits: int  # sum of debit transactions
    transactions: int


async def ledger_state(sessionmaker: async_sessionmaker[AsyncSession], user_id: int) -> LedgerState:
    async with sessionmaker() as session:
        account = await session.scalar(select(CreditAccount).where(CreditAccount.user_id == user_id))
        if account is None:
            return LedgerState(0, 0, 0, 0, 0, 0)
        sums = dict(
            (
                await session.execute(
                    select(CreditTransaction.type, func.sum(CreditTransaction.amount))
                    .where(CreditTransaction.account_id == account.id)
                    .group_by(CreditTransaction.type)
                )
            ).all()
        )
        count = await session.scalar(
            select(func.count()).select_from(CreditTransaction).where(CreditTransaction.account_id == account.id)
        )
        return LedgerState(
            account.available,
            account.total,
            account.used,
            int(sums.get("credit", 0)),
            int(sums.get("debit", 0)),
            int(count or 0),
        )


async def committed(session: AsyncSession, work: Awaitable[T]) -> T:
    """Run one service call as its own unit of work and commit it: the test owns the transaction,
    as a service method (`CreditsPolicy`, the sweeper, a payment) does in the app."""
    result = await work
    await session.commit()
    return result


async def gather_bounded(limit: int, calls: Iterable[Callable[[], Awaitable[T]]]) -> list[T | BaseException]:
    """Run the calls concurrently, at most `limit` at a time; exceptions are returned, not raised."""
    semaphore = asyncio.Semaphore(limit)

    async def run(call: Callable[[], Awaitable[T]]) -> T:
        async with semaphore:
            return await call()

    return await asyncio.gather(*(run(call) for call in calls), return_exceptions=True)
