"""The credits ledger: idempotent credits and debits, balances, history.

Every balance change is one conditional UPDATE of the account plus one ledger row whose
`reference_id` is UNIQUE. A repeated reference returns the original entry (`applied=False`); when
two calls race with the same reference, the unique index decides and the loser undoes its own
UPDATE inside its transaction and returns the winner's entry. A debit never takes the balance below
zero: the UPDATE only matches while `available >= amount`, otherwise `InsufficientCredits`.

Public functions commit (one transaction per change); the `*_in_tx` variants don't, so other
services can compose several changes into one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import utcnow
from db.repositories.credits import AccountEffect, LedgerRepository, TransactionRow
from services.credits.errors import InsufficientCredits, ReferenceConflict, UnknownUser

MAX_REFERENCE_LENGTH = 128


@dataclass(frozen=True)
class LedgerEntry:
    transaction_id: int
    account_id: int
    user_id: int
    type: str  # "credit" | "debit"
    amount: int
    balance_before: int
    balance_after: int
    applied: bool  # False: the reference existed; this is the original entry, nothing changed now


@dataclass(frozen=True)
class TransactionView:
    id: int
    type: str
    amount: int
    balance_after: int
    category: str
    description: str
    reference_id: str
    created_at: datetime


@dataclass(frozen=True)
class BalanceSummary:
    user_id: int
    available: int
    total: int
    used: int
    recent: tuple[TransactionView, ...]


@dataclass(frozen=True)
class HistoryPage:
    items: tuple[TransactionView, ...]
    page: int  # 1-based
    page_size: int
    has_more: bool


def _validate(amount: int, reference_id: str) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"ledger amounts are integers > 0, got {amount!r}")
    if not reference_id or len(reference_id) > MAX_REFERENCE_LENGTH:
        raise ValueError("reference_id must be 1..128 characters")


def _entry(row: TransactionRow, applied: bool) -> LedgerEntry:
    return LedgerEntry(
        transaction_id=row.id,
        account_id=row.account_id,
        user_id=row.user_id,
        type=row.type,
        amount=row.amount,
        balance_before=row.balance_before,
        balance_after=row.balance_after,
        applied=applied,
    )


def _replayed(row: TransactionRow, effect: AccountEffect, user_id: int | None, account_id: int | None) -> LedgerEntry:
    same_account = row.user_id == user_id if account_id is None else row.account_id == account_id
    if not same_account or row.type != effect.tx_type:
        raise ReferenceConflict(row.reference_id)
    return _entry(row, applied=False)


def _view(row: TransactionRow) -> TransactionView:
    return TransactionView(
        id=row.id,
        type=row.type,
        amount=row.amount,
        balance_after=row.balance_after,
        category=row.category,
        description=row.description,
        reference_id=row.reference_id,
        created_at=row.created_at,
    )


async def apply_in_tx(
    session: AsyncSession,
    effect: AccountEffect,
    amount: int,
    *,
    category: str,
    reference_id: str,
    description: str = "",
    user_id: int | None = None,
    account_id: int | None = None,
    now: datetime | None = None,
) -> LedgerEntry:
    """Apply one ledger entry inside the caller's transaction (no commit). Give `user_id` or
    `account_id`. Raises InsufficientCredits (nothing changed), UnknownUser, ReferenceConflict."""
    _validate(amount, reference_id)
    if (user_id is None) == (account_id is None):
        raise ValueError("give exactly one of user_id and account_id")
    repo = LedgerRepository(session)
    changed = await repo.apply(effect, amount, user_id=user_id, account_id=account_id)
    if changed is None:
        original = await repo.transaction_by_reference(reference_id)
        if original is not None:
            return _replayed(original, effect, user_id, account_id)
        if effect is AccountEffect.GRANT and user_id is not None:
            await repo.ensure_account(user_id)
            changed = await repo.apply(effect, amount, user_id=user_id)
            if changed is None:
                raise UnknownUser(user_id)
        elif effect is AccountEffect.RESTORE:
            raise ValueError(f"cannot restore {amount} credits: not that many were used")
        else:
            account = await repo.account(user_id) if user_id is not None else None
            raise InsufficientCredits(
                user_id if user_id is not None else -1, amount, account.available if account else 0
            )
    changed_account, changed_user, after = changed
    before = after - amount if effect.is_credit else after + amount
    transaction_id = await repo.insert_transaction(
        account_id=changed_account,
        effect=effect,
        amount=amount,
        balance_before=before,
        balance_after=after,
        category=category,
        description=description,
        reference_id=reference_id,
        now=now or utcnow(),
    )
    if transaction_id is None:
        # Lost the race on the reference: undo our own UPDATE (same transaction, row still locked).
        await repo.apply(effect.inverse, amount, account_id=changed_account)
        original = await repo.transaction_by_reference(reference_id)
        if original is None:  # pragma: no cover - the unique index just reported it
            raise ReferenceConflict(reference_id)
        return _replayed(original, effect, user_id, account_id)
    return LedgerEntry(
        transaction_id=transaction_id,
        account_id=changed_account,
        user_id=changed_user,
        type=effect.tx_type,
        amount=amount,
        balance_before=before,
        balance_after=after,
        applied=True,
    )


async def take_up_to_in_tx(
    session: AsyncSession,
    user_id: int,
    max_amount: int,
    *,
    category: str,
    reference_id: str,
    description: str = "",
    effect: AccountEffect = AccountEffect.REVOKE,
) -> LedgerEntry | None:
    """Debit min(max_amount, available) (None when that is 0); idempotent on the reference."""
    repo = LedgerRepository(session)
    original = await repo.transaction_by_reference(reference_id)
    if original is not None:
        return _replayed(original, effect, user_id, None)
    for _ in range(5):
        account = await repo.account(user_id)
        amount = min(max_amount, account.available if account else 0)
        if amount <= 0:
            return None
        try:
            return await apply_in_tx(
                session,
                effect,
                amount,
                category=category,
                reference_id=reference_id,
                description=description,
                user_id=user_id,
            )
        except InsufficientCredits:
            continue  # spent concurrently between the read and the debit: read again
    return None


async def _apply_and_commit(
    session: AsyncSession,
    effect: AccountEffect,
    user_id: int,
    amount: int,
    category: str,
    reference_id: str,
    description: str,
) -> LedgerEntry:
    entry = await apply_in_tx(
        session,
        effect,
        amount,
        category=category,
        reference_id=reference_id,
        description=description,
        user_id=user_id,
    )
    # Also on a replay: a lost race leaves a (net-zero) row lock that must not outlive the call.
    await session.commit()
    return entry


async def credit(
    session: AsyncSession, user_id: int, amount: int, *, category: str, reference_id: str, description: str = ""
) -> LedgerEntry:
    """Add credits (total and available grow). Commits."""
    return await _apply_and_commit(session, AccountEffect.GRANT, user_id, amount, category, reference_id, description)


async def debit(
    session: AsyncSession, user_id: int, amount: int, *, category: str, reference_id: str, description: str = ""
) -> LedgerEntry:
    """Spend credits (used grows). Raises InsufficientCredits, changing nothing. Commits."""
    return await _apply_and_commit(session, AccountEffect.SPEND, user_id, amount, category, reference_id, description)


async def revoke(
    session: AsyncSession, user_id: int, amount: int, *, category: str, reference_id: str, description: str = ""
) -> LedgerEntry:
    """Take credits back that were granted (total shrinks; e.g. an admin revoke). Commits."""
    return await _apply_and_commit(session, AccountEffect.REVOKE, user_id, amount, category, reference_id, description)


async def balance(session: AsyncSession, user_id: int, *, recent: int = 5) -> BalanceSummary:
    """Available/total/used and the last `recent` transactions (zeros when no account yet)."""
    repo = LedgerRepository(session)
    account = await repo.account(user_id)
    rows = await repo.transactions(user_id, recent) if account is not None and recent > 0 else []
    await session.commit()  # end the read: no connection held while the caller replies
    if account is None:
        return BalanceSummary(user_id=user_id, available=0, total=0, used=0, recent=())
    return BalanceSummary(
        user_id=user_id,
        available=account.available,
        total=account.total,
        used=account.used,
        recent=tuple(_view(row) for row in rows),
    )


async def history(session: AsyncSession, user_id: int, page: int = 1, page_size: int = 10) -> HistoryPage:
    """Transactions newest first; `page` is 1-based."""
    if page < 1 or not 1 <= page_size <= 100:
        raise ValueError("page >= 1 and 1 <= page_size <= 100")
    rows = await LedgerRepository(session).transactions(user_id, page_size + 1, (page - 1) * page_size)
    await session.commit()  # end the read: no connection held while the caller replies
    return HistoryPage(
        items=tuple(_view(row) for row in rows[:page_size]),
        page=page,
        page_size=page_size,
        has_more=len(rows) > page_size,
    )
