"""Issue 8: the bot process killed with SIGKILL mid-answer loses the user nothing. After a restart
the hold sweeper gives the reserved free-quota slot or credits back, so the user's balance and
remaining quota are as before the question."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import CreditAccount, CreditHold, DailyUsage, QuotaSlot, User
from services.credits import ledger
from standins.exchanges import FakeBybit
from standins.openai_server import FakeOpenAI, Hang
from standins.telegram import FakeTelegramServer
from tests.backends import Backend
from tests.e2e.conftest import BotProcess, bot_env, spawn

Sessions = async_sessionmaker[AsyncSession]
FREE_QUESTIONS = 5  # the free plan's daily quota; one credit per question beyond it
# The crashing bot's reservations expire 3 s after the question (LLM_TIMEOUT × 1 attempt + no
# margin); the restarted bot sweeps every 0.2 s.
# A short scheduler lease: on Redis the restarted bot leads (and sweeps) once the dead one's lease ends.
LEASE = {"SCHEDULER_LEASE_SECONDS": "2", "SCHEDULER_RENEW_SECONDS": "0.5"}
CRASHING = {"LLM_TIMEOUT": "3", "LLM_MAX_RETRIES": "0", "HOLD_MARGIN_SECONDS": "0", **LEASE}
RESTARTED = {"HOLD_SWEEP_SECONDS": "0.2", **LEASE}


@dataclass(frozen=True)
class Account:
    questions_today: int
    available: int
    dialog_count: int
    reservations: tuple[str, ...]  # statuses of the user's quota slots and credit holds


async def _user_id(sessionmaker: Sessions, telegram_id: int) -> int:
    async with sessionmaker() as session:
        user_id = await session.scalar(select(User.id).where(User.telegram_id == telegram_id))
    assert user_id is not None
    return int(user_id)


async def _account(sessionmaker: Sessions, user_id: int) -> Account:
    today = datetime.now(UTC).date()
    async with sessionmaker() as session:
        questions = await session.scalar(
            select(DailyUsage.questions).where(DailyUsage.user_id == user_id, DailyUsage.day == today)
        )
        available = await session.scalar(select(CreditAccount.available).where(CreditAccount.user_id == user_id))
        dialog_count = await session.scalar(select(User.dialog_count).where(User.id == user_id))
        slots = (await session.scalars(select(QuotaSlot.status).where(QuotaSlot.user_id == user_id))).all()
        holds = (
            await session.scalars(
                select(CreditHold.status)
                .join(CreditAccount, CreditAccount.id == CreditHold.account_id)
                .where(CreditAccount.user_id == user_id)
            )
        ).all()
    return Account(int(questions or 0), int(available or 0), int(dialog_count or 0), (*slots, *holds))


async def _quota_used_up_and_credits(sessionmaker: Sessions, user_id: int, credits: int) -> None:
    async with sessionmaker() as session:
        session.add(DailyUsage(user_id=user_id, day=datetime.now(UTC).date(), questions=FREE_QUESTIONS))
        await session.commit()
        await ledger.credit(session, user_id, credits, category="test", reference_id=f"e2e-seed:{user_id}")


async def _start_bot(
    tg: FakeTelegramServer, backend: Backend, exchange: FakeBybit, llm: FakeOpenAI, cwd: Path, **extra: str
) -> BotProcess:
    env = bot_env(
        backend,
        BOT_TOKEN=tg.token,
        TELEGRAM_API_URL=tg.base_url,
        EXCHANGE_API_URLS=f"bybit={exchange.url}",
        OPENAI_API_KEY=llm.api_key,
        OPENAI_BASE_URL=llm.base_url,
        **extra,
    )
    return await spawn([], env, cwd)


async def _wait_for_sweeps(proc: BotProcess, released: int, timeout: float) -> None:
    """Read the bot's log until its hold sweeper has released `released` reservations in all (one
    run may release both, or each its own): the sweeper's log lines are the event, not a sleep."""
    stream = proc.process.stderr
    assert stream is not None
    total = 0
    async with asyncio.timeout(timeout):
        while total < released:
            line = (await stream.readline()).decode()
            assert line, f"the bot's log ended after {total} of {released} released"
            if "hold-sweeper: " in line:  # the scheduler's job log line: "hold-sweeper: <released>"
                total += int(line.rsplit("hold-sweeper: ", 1)[1].split()[0])


async def test_sigkill_mid_answer_loses_nothing(
    tg: FakeTelegramServer,
    backend: Backend,
    exchange: FakeBybit,
    llm: FakeOpenAI,
    sessionmaker: Sessions,
    tmp_path: Path,
) -> None:
    """Two users mid-answer when the bot is killed: Ann on her free quota, Bo paying with credits.
    The restarted bot gives both their reservation back and answers neither question again."""
    crashing = await _start_bot(tg, backend, exchange, llm, tmp_path, **CRASHING)
    try:
        await tg.wait_until(lambda: tg.updates.waiting > 0, timeout=60, what="the first long poll")
        ann = tg.add_user("Ann", language_code="en")
        bo = tg.add_user("Bo", language_code="en")
        for user in (ann, bo):
            await tg.send_command(user, "/start")
            await tg.wait_for_messages(user, 1, timeout=20)
        ann_id, bo_id = await _user_id(sessionmaker, ann.id), await _user_id(sessionmaker, bo.id)
        await _quota_used_up_and_credits(sessionmaker, bo_id, credits=3)
        before = {ann_id: await _account(sessionmaker, ann_id), bo_id: await _account(sessionmaker, bo_id)}

        llm.script(Hang(), Hang())  # the model never answers: both are mid-answer until the kill
        await tg.send_message(ann, "how is BTC doing on the 4h?")
        await tg.send_message(bo, "and ETH on the 1h?")
        await llm.wait_for_chat_requests(2, timeout=60)
        # The questions are confirmed (a later poll's offset), so the restarted bot won't get them again.
        await tg.wait_until(lambda: not tg.updates.pending, timeout=20, what="the questions confirmed")
    finally:
        crashing.process.kill()
    assert await crashing.process.wait() == -signal.SIGKILL

    # The reservations the dead process never settled.
    ann_mid, bo_mid = await _account(sessionmaker, ann_id), await _account(sessionmaker, bo_id)
    assert (ann_mid.questions_today, ann_mid.available, ann_mid.reservations) == (1, 0, ("held",))
    assert (bo_mid.questions_today, bo_mid.available, bo_mid.reservations) == (FREE_QUESTIONS, 2, ("held",))

    restarted = await _start_bot(tg, backend, exchange, llm, tmp_path, **RESTARTED)
    try:
        await _wait_for_sweeps(restarted, released=2, timeout=60)
    finally:
        assert await restarted.stop() == 0
    for user_id, was in before.items():
        after = await _account(sessionmaker, user_id)
        assert after == Account(was.questions_today, was.available, was.dialog_count, ("released",))
    assert len(llm.chat_requests) == 2  # the restarted bot did not take either question again
