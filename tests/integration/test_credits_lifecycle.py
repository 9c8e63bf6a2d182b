"""The charge lifecycle (`charged`, `ChatService.answering`): whatever happens inside the block —
an exception, a cancellation, a broken transaction — the reservation is settled on the way out:
captured exactly once on success, released otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import ChatMessage, Conversation, CreditHold, DailyUsage, QuotaSlot, utcnow
from services.chat import Answer, ChatService, Prepared
from services.credits.charging import ChargeDecision, ChargeMode, CreditsPolicy, charged, run_to_end
from services.credits.holds import HoldStatus, sweep_expired_holds
from services.credits.plans import utc_day
from services.i18n import Translations
from services.market import MarketService
from standins.exchanges import FakeBybit
from tests.integration.credits_factories import get_user, ledger_state, make_user

Sessions = async_sessionmaker[AsyncSession]
QUOTA = 5  # the free plan's daily free questions; one credit per question beyond them


class DeliveryBroke(Exception):
    """What a failure while delivering the answer looks like to the lifecycle."""


@dataclass(frozen=True)
class Account:
    """A user and what the tests compare before and after a question."""

    user_id: int
    mode: ChargeMode


@dataclass(frozen=True)
class Snapshot:
    questions: int
    available: int
    dialog_count: int
    reservations: tuple[str, ...]  # statuses of the user's slots and holds


async def _use_up_quota(sessionmaker: Sessions, user_id: int, day: date) -> None:
    async with sessionmaker() as session:
        session.add(DailyUsage(user_id=user_id, day=day, questions=QUOTA))
        await session.commit()


async def _snapshot(sessionmaker: Sessions, user_id: int, day: date) -> Snapshot:
    async with sessionmaker() as session:
        questions = await session.scalar(
            select(DailyUsage.questions).where(DailyUsage.user_id == user_id, DailyUsage.day == day)
        )
        slots = (await session.scalars(select(QuotaSlot.status).where(QuotaSlot.user_id == user_id))).all()
        holds = (await session.scalars(select(CreditHold.status))).all()  # one user per test database
    user = await get_user(sessionmaker, user_id)
    available = (await ledger_state(sessionmaker, user_id)).available
    return Snapshot(int(questions or 0), available, user.dialog_count, (*slots, *holds))


@pytest.fixture(params=[ChargeMode.FREE_QUOTA, ChargeMode.CREDITS], ids=["free-quota", "credits"])
async def account(request: pytest.FixtureRequest, sessionmaker: Sessions) -> Account:
    """A user whose next question takes a free-quota slot, or (quota used up) holds one credit."""
    user_id = await make_user(sessionmaker, credits=3)
    if request.param is ChargeMode.CREDITS:
        await _use_up_quota(sessionmaker, user_id, utc_day(utcnow()))
    return Account(user_id, request.param)


async def _authorize(sessionmaker: Sessions, policy: CreditsPolicy, account: Account) -> ChargeDecision:
    async with sessionmaker() as session:
        decision = await policy.authorize(session, account.user_id, "lifecycle")
    assert (decision.allowed, decision.mode) == (True, account.mode)
    return decision


async def test_an_exception_inside_releases_and_propagates(sessionmaker: Sessions, account: Account) -> None:
    policy = CreditsPolicy()
    before = await _snapshot(sessionmaker, account.user_id, utc_day(utcnow()))
    decision = await _authorize(sessionmaker, policy, account)
    assert await _snapshot(sessionmaker, account.user_id, decision.day) != before  # reserved
    async with sessionmaker() as session:
        with pytest.raises(DeliveryBroke):
            async with charged(policy, session, decision) as charge:
                charge.succeed()  # too early: the block still fails afterwards
                raise DeliveryBroke("sendMessage failed")
    assert charge.result is not None and charge.result.counted is False
    after = await _snapshot(sessionmaker, account.user_id, decision.day)
    assert after == Snapshot(before.questions, before.available, 0, ("released",))


async def test_a_cancellation_inside_releases_and_propagates(sessionmaker: Sessions, account: Account) -> None:
    policy = CreditsPolicy()
    before = await _snapshot(sessionmaker, account.user_id, utc_day(utcnow()))
    decision = await _authorize(sessionmaker, policy, account)
    entered = asyncio.Event()

    async def answer(session: AsyncSession) -> None:
        async with charged(policy, session, decision):
            entered.set()
            await asyncio.Event().wait()  # an answer that never comes: only a cancellation ends it

    async with sessionmaker() as session:
        task = asyncio.create_task(answer(session))
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    after = await _snapshot(sessionmaker, account.user_id, decision.day)
    assert after == Snapshot(before.questions, before.available, 0, ("released",))


async def test_a_broken_transaction_inside_still_releases(sessionmaker: Sessions, account: Account) -> None:
    policy = CreditsPolicy()
    before = await _snapshot(sessionmaker, account.user_id, utc_day(utcnow()))
    decision = await _authorize(sessionmaker, policy, account)
    async with sessionmaker() as session:
        with pytest.raises(DBAPIError):
            async with charged(policy, session, decision) as charge:
                charge.succeed()
                await session.execute(text("SELECT no_such_column FROM users"))
    after = await _snapshot(sessionmaker, account.user_id, decision.day)
    assert after == Snapshot(before.questions, before.available, 0, ("released",))


async def test_leaving_without_success_releases(sessionmaker: Sessions, account: Account) -> None:
    policy = CreditsPolicy()
    before = await _snapshot(sessionmaker, account.user_id, utc_day(utcnow()))
    decision = await _authorize(sessionmaker, policy, account)
    async with sessionmaker() as session, charged(policy, session, decision) as charge:
        pass  # not delivered
    assert charge.result is not None and charge.result.counted is False
    after = await _snapshot(sessionmaker, account.user_id, decision.day)
    assert after == Snapshot(before.questions, before.available, 0, ("released",))


async def test_success_is_captured_exactly_once(sessionmaker: Sessions, account: Account) -> None:
    policy = CreditsPolicy()
    before = await _snapshot(sessionmaker, account.user_id, utc_day(utcnow()))
    decision = await _authorize(sessionmaker, policy, account)
    async with sessionmaker() as session:
        async with charged(policy, session, decision) as charge:
            charge.succeed()
        again = await policy.settle(session, decision, success=True)
        undo = await policy.settle(session, decision, success=False)
    assert charge.result is not None and (charge.result.counted, charge.result.dialog_count) == (True, 1)
    settled = charge.result.slot or charge.result.hold
    assert settled is not None and (settled.status, settled.changed) == (HoldStatus.CAPTURED, True)
    assert (again.counted, undo.counted) == (False, False)
    assert await sweep_expired_holds(sessionmaker, utcnow() + timedelta(hours=1)) == 0  # nothing left held
    after = await _snapshot(sessionmaker, account.user_id, decision.day)
    cost = 1 if account.mode is ChargeMode.CREDITS else 0
    assert after == Snapshot(before.questions + 1, before.available - cost, 1, ("captured",))


async def test_run_to_end_finishes_the_work_before_the_cancellation_lands() -> None:
    started, go_on = asyncio.Event(), asyncio.Event()
    finished: list[str] = []

    async def settle() -> str:
        started.set()
        await go_on.wait()
        finished.append("settled")
        return "settled"

    task = asyncio.create_task(run_to_end(settle()))
    await started.wait()
    for _ in range(2):  # cancelled, and cancelled again while still settling
        task.cancel()
        await asyncio.sleep(0)
        assert not task.done() and finished == []
    go_on.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished == ["settled"]


async def test_run_to_end_passes_results_and_errors_through() -> None:
    async def ok() -> int:
        return 7

    async def broken() -> int:
        raise DeliveryBroke("no")

    assert await run_to_end(ok()) == 7
    with pytest.raises(DeliveryBroke):
        await run_to_end(broken())


# ---- ChatService.answering: the chat's use of the lifecycle --------------------------------------


@pytest.fixture
async def chat(exchange: FakeBybit) -> AsyncIterator[ChatService]:
    async with MarketService(["bybit"], api_urls={"bybit": exchange.url}) as market:
        yield ChatService(market=market, llm=None, charge=CreditsPolicy(), model="fake-model")


async def _prepared(chat: ChatService, session: AsyncSession, user_id: int) -> Prepared:
    result = await chat.prepare(
        session, user_id=user_id, chat_id=555, message_id=1, text="BTC 4h", t=Translations().get("en")
    )
    assert isinstance(result, Prepared), result
    return result


async def _remembered(sessionmaker: Sessions, user_id: int) -> int:
    async with sessionmaker() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(ChatMessage)
            .join(Conversation, Conversation.id == ChatMessage.conversation_id)
            .where(Conversation.user_id == user_id)
        )
    return int(count or 0)


@pytest.mark.parametrize(
    ("source", "charged_for"), [("llm", True), ("rules_fallback", False)], ids=["analyst", "fallback"]
)
async def test_a_delivered_answer_is_remembered_and_charged_unless_a_fallback(
    sessionmaker: Sessions, chat: ChatService, source: str, charged_for: bool
) -> None:
    user_id = await make_user(sessionmaker)
    async with sessionmaker() as session:
        prepared = await _prepared(chat, session, user_id)
        async with chat.answering(session, prepared) as turn:
            turn.delivered(Answer("BTC looks fine.", source))  # type: ignore[arg-type]
    assert turn.settled is not None and turn.settled.counted is charged_for
    after = await _snapshot(sessionmaker, user_id, prepared.decision.day)
    assert (after.questions, after.dialog_count) == ((1, 1) if charged_for else (0, 0))
    assert after.reservations == (("captured",) if charged_for else ("released",))
    assert await _remembered(sessionmaker, user_id) == 2


async def test_an_answer_that_fails_midway_is_neither_remembered_nor_charged(
    sessionmaker: Sessions, chat: ChatService
) -> None:
    user_id = await make_user(sessionmaker)
    async with sessionmaker() as session:
        prepared = await _prepared(chat, session, user_id)
        assert prepared.decision.mode is ChargeMode.FREE_QUOTA
        with pytest.raises(DeliveryBroke):
            async with chat.answering(session, prepared) as turn:
                raise DeliveryBroke("the chat went away mid-stream")
    assert turn.settled is None
    after = await _snapshot(sessionmaker, user_id, prepared.decision.day)
    assert after == Snapshot(0, 0, 0, ("released",))
    assert await _remembered(sessionmaker, user_id) == 0
