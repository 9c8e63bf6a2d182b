"""A question waiting for its turn keeps its reservation (`CreditsPolicy.renew`): renewed, a free-quota
slot or a credit hold expires a full lifetime from the renewal, so the sweeper gives back only the
reservations nobody renewed; a settled or swept one is not renewed (the answer is then free)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.credits.charging import ChargeDecision, ChargeMode, CreditsPolicy
from services.credits.config import CreditsConfig
from services.credits.holds import HoldStatus, sweep_expired_holds
from tests.charge_policies import AllowAllPolicy
from tests.integration.credits_factories import ledger_state, make_user

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TTL = timedelta(minutes=5)


async def _renew(sessionmaker: Sessions, policy: CreditsPolicy, decision: ChargeDecision, now: datetime) -> bool:
    async with sessionmaker() as session:
        return await policy.renew(session, decision, now=now)


async def test_renewed_reservations_outlive_their_first_expiry_and_the_rest_are_swept(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker, credits=3)  # free plan: 5 free questions, then 1 credit each
    policy = CreditsPolicy(CreditsConfig(hold_ttl=TTL))
    decisions = []
    for n in range(6):
        async with sessionmaker() as session:
            decisions.append(await policy.authorize(session, user_id, f"q{n}", now=NOW))
    assert [d.mode for d in decisions] == [ChargeMode.FREE_QUOTA] * 5 + [ChargeMode.CREDITS]
    slot_question, hold_question, swept = decisions[0], decisions[5], decisions[1]
    # Four minutes on, two are still waiting for their turn: renewed, they last five minutes from then.
    later = NOW + timedelta(minutes=4)
    assert await _renew(sessionmaker, policy, slot_question, later)
    assert await _renew(sessionmaker, policy, hold_question, later)
    # At the first expiry the sweeper gives back the four slots nobody renewed, and only them.
    assert await sweep_expired_holds(sessionmaker, NOW + TTL + timedelta(seconds=1)) == 4
    assert (await ledger_state(sessionmaker, user_id)).available == 2  # the held credit stays held
    assert not await _renew(sessionmaker, policy, swept, later)  # swept: nothing to keep
    async with sessionmaker() as session:
        slot = await policy.settle(session, slot_question, True)
    async with sessionmaker() as session:
        hold = await policy.settle(session, hold_question, True)
    assert slot.counted and hold.counted and hold.hold is not None and hold.hold.status is HoldStatus.CAPTURED
    state = await ledger_state(sessionmaker, user_id)
    assert (state.available, state.used) == (2, 1)
    assert not await _renew(sessionmaker, policy, hold_question, later)  # settled: not renewed
    # A renewal past its own lifetime: the sweep at that moment finds nothing left to give back.
    assert await sweep_expired_holds(sessionmaker, later + TTL + timedelta(seconds=1)) == 0


async def test_an_unmetered_question_has_nothing_to_renew(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    policy = AllowAllPolicy()
    async with sessionmaker() as session:
        decision = await policy.authorize(session, user_id, "u1", now=NOW)
        assert decision.mode is ChargeMode.UNMETERED
        assert await policy.renew(session, decision)
    assert policy.renew_every == CreditsConfig().hold_ttl.total_seconds() / 3
