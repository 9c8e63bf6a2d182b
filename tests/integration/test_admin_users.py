"""Operators' actions on a user (services.admin.users): grants and revokes through the ledger,
idempotent per reference, never below zero (also when revokes race on PostgreSQL), audited with
the change in one commit; plans and bans."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.models import AuditLog, User, utcnow
from db.repositories.admin import username_lookup
from services.admin.users import UserRef, UserRow, ban_user, change_credits, find_user, set_user_plan
from tests.backends import POSTGRES_ONLY
from tests.integration.credits_factories import get_user, ledger_state, make_user

Sessions = async_sessionmaker[AsyncSession]
OPERATOR = 777


async def row_of(sessionmaker: Sessions, user_id: int) -> UserRow:
    user = await get_user(sessionmaker, user_id)
    async with sessionmaker() as session:
        found = await find_user(session, UserRef(telegram_id=user.telegram_id))
    assert found is not None
    return found


async def audit(sessionmaker: Sessions) -> list[tuple[int, str, str | None, str]]:
    async with sessionmaker() as session:
        statement = select(AuditLog).where(AuditLog.actor_telegram_id == OPERATOR).order_by(AuditLog.id)
        rows = (await session.scalars(statement)).all()
    return [(r.actor_telegram_id, r.action, r.target, r.details or "") for r in rows]


def test_user_references_parse() -> None:
    assert UserRef.parse("123456789") == UserRef(telegram_id=123456789)
    assert UserRef.parse("@Ann_1") == UserRef(username="Ann_1")
    for bad in ("", "@", "ann", "-5", "0", "@a-b", "12x", "@" + "a" * 70):
        assert UserRef.parse(bad) is None, bad


async def test_a_username_is_found_through_its_lower_case_index(engine: AsyncEngine, sessionmaker: Sessions) -> None:
    """`/user @name` matches case-insensitively and reads ix_users_username_lower, not all of `users`
    (PostgreSQL is told to avoid sequential scans: on a test-sized table one would rightly win)."""
    user_id = await make_user(sessionmaker)
    async with sessionmaker() as session:
        await session.execute(update(User).where(User.id == user_id).values(username="Ann_1"))
        await session.commit()
    async with sessionmaker() as session:
        found = await find_user(session, UserRef(username="ANN_1"))
    assert found is not None and found.id == user_id

    sql = str(username_lookup("ANN_1").compile(engine, compile_kwargs={"literal_binds": True}))
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = [row[0] for row in await conn.exec_driver_sql(f"EXPLAIN {sql}")]
        else:
            plan = [row[-1] for row in await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
    assert any("ix_users_username_lower" in line for line in plan), plan


async def test_grant_and_revoke_are_idempotent_and_audited_with_the_change(sessionmaker: Sessions) -> None:
    user = await row_of(sessionmaker, await make_user(sessionmaker))
    async with sessionmaker() as session:
        granted = await change_credits(session, OPERATOR, user, 50, "support", grant=True, reference="admin:grant:1:1")
        again = await change_credits(session, OPERATOR, user, 50, "support", grant=True, reference="admin:grant:1:1")
        revoked = await change_credits(session, OPERATOR, user, 20, "oops", grant=False, reference="admin:revoke:1:2")
    assert (granted.done, granted.applied, granted.balance_before, granted.balance_after) == (True, True, 0, 50)
    assert (again.done, again.applied, again.balance_after) == (True, False, 50)
    assert (revoked.balance_before, revoked.balance_after) == (50, 30)
    state = await ledger_state(sessionmaker, user.id)
    assert (state.available, state.total, state.transactions) == (30, 30, 2)
    tg = str(user.telegram_id)
    rows = await audit(sessionmaker)
    assert [(action, target) for _, action, target, _ in rows] == [("grant", tg), ("grant", tg), ("revoke", tg)]
    assert rows[0][3].startswith("done: 50 balance 0->50 reason='support'")
    assert rows[1][3].startswith("repeated: 50")


async def test_a_revoke_beyond_the_balance_is_refused_and_audited(sessionmaker: Sessions) -> None:
    user = await row_of(sessionmaker, await make_user(sessionmaker, credits=10))
    async with sessionmaker() as session:
        refused = await change_credits(session, OPERATOR, user, 11, "too much", grant=False, reference="r1")
    assert (refused.done, refused.balance_after) == (False, 10)
    state = await ledger_state(sessionmaker, user.id)
    assert (state.available, state.transactions) == (10, 1)
    [(_, action, _, details)] = await audit(sessionmaker)
    assert action == "revoke" and details.startswith("refused: balance 10 < 11")


@POSTGRES_ONLY
async def test_racing_revokes_never_take_the_balance_below_zero(sessionmaker: Sessions) -> None:
    user = await row_of(sessionmaker, await make_user(sessionmaker, credits=50))

    async def revoke(n: int) -> bool:
        async with sessionmaker() as session:
            change = await change_credits(session, OPERATOR, user, 30, "race", grant=False, reference=f"race:{n}")
            return change.done

    results = await asyncio.gather(*(revoke(n) for n in range(8)))
    # 50 credits, 30 per revoke: exactly one of the racers succeeded, the others were refused.
    assert results.count(True) == 1
    state = await ledger_state(sessionmaker, user.id)
    assert (state.available, state.total, state.transactions) == (20, 20, 2)
    refusals = [row for row in await audit(sessionmaker) if row[3].startswith("refused: balance 20 < 30")]
    assert len(refusals) == 7


async def test_plans_and_bans(sessionmaker: Sessions) -> None:
    user = await row_of(sessionmaker, await make_user(sessionmaker))
    now = utcnow()
    async with sessionmaker() as session:
        vip = await set_user_plan(session, OPERATOR, user, "vip", 30, now)
        default_days = await set_user_plan(session, OPERATOR, user, "pro", None, now)
        unknown = await set_user_plan(session, OPERATOR, user, "gold", 3, now)
        free = await set_user_plan(session, OPERATOR, user, "free", None, now)
    assert vip is not None and vip.expires_at == now + timedelta(days=30) and vip.previous_plan == "free"
    assert default_days is not None and default_days.expires_at == now + timedelta(days=30)
    assert default_days.previous_plan == "vip"
    assert unknown is None
    assert free is not None and free.expires_at is None and free.previous_plan == "pro"
    stored = await get_user(sessionmaker, user.id)
    assert (stored.plan, stored.plan_expires_at) == ("free", None)

    async with sessionmaker() as session:
        assert await ban_user(session, OPERATOR, user, True, "spam") is True
    async with sessionmaker() as session:
        assert (await session.get(User, user.id)).banned is True  # type: ignore[union-attr]
    assert [action for _, action, _, _ in await audit(sessionmaker)] == ["plan", "plan", "plan", "plan", "ban"]
