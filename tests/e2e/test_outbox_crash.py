"""SIGKILL the sender process halfway through 2,000 deliveries, start it again: nothing is lost, and
only a row that was in flight at the kill may arrive twice (at most once more)."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from itertools import groupby

from sqlalchemy import select

from db.models import Delivery, DeliveryStatus
from standins.telegram import FakeTelegramServer
from tests.backends import Backend
from tests.e2e.conftest import ROOT, bot_env
from tests.integration.outbox_helpers import FAST_OUTGOING, Sessions, fast_telegram, push

CHATS = 500
REFS = ("s0", "s1", "s2", "s3")
TOTAL = CHATS * len(REFS)
LEASE_SECONDS = 30


def _delivered(tg: FakeTelegramServer) -> int:
    return sum(1 for call in tg.calls if call.ok and call.method == "sendMessage")


async def _start_sender(tg: FakeTelegramServer, backend: Backend, **extra: str) -> asyncio.subprocess.Process:
    env = bot_env(
        backend,
        BOT_TOKEN=tg.token,
        TELEGRAM_API_URL=tg.base_url,
        OUTBOX_CONCURRENCY="16",
        OUTBOX_LEASE_SECONDS=str(LEASE_SECONDS),
        OUTBOX_POLL_SECONDS="3600",
        **{name.upper(): str(value) for name, value in FAST_OUTGOING.items()},
        **extra,
    )
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.e2e.outbox_sender_process",
        env=env,
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def _in_flight(sessionmaker: Sessions) -> dict[tuple[int, str], int]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Delivery.chat_id, Delivery.ref_id, Delivery.id).where(Delivery.status == DeliveryStatus.SENDING)
        )
        return {(chat_id, ref): row_id for chat_id, ref, row_id in rows}


async def test_a_killed_sender_loses_nothing_and_duplicates_only_what_was_in_flight(
    backend: Backend, sessionmaker: Sessions
) -> None:
    async with fast_telegram() as tg:
        users = [tg.add_user(f"U{i}") for i in range(CHATS)]
        for ref in REFS:
            await push(sessionmaker, ref, [user.id for user in users], text=ref)
        first = await _start_sender(tg, backend)
        try:
            await tg.wait_until(lambda: _delivered(tg) >= TOTAL // 2, 120, "half of the deliveries")
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        assert first.returncode == -signal.SIGKILL
        in_flight = await _in_flight(sessionmaker)
        delivered_at_kill = _delivered(tg)
        assert TOTAL // 2 <= delivered_at_kill < TOTAL

        # The restarted process's clock is past the dead one's leases (as if it started 30 s later).
        second = await _start_sender(tg, backend, OUTBOX_CLOCK_OFFSET=str(LEASE_SECONDS + 1))
        async with asyncio.timeout(120):
            _, stderr = await second.communicate()
        assert second.returncode == 0, stderr.decode()[-3000:]

    async with sessionmaker() as session:
        statuses = Counter((await session.scalars(select(Delivery.status))).all())
    assert statuses == {DeliveryStatus.SENT: TOTAL}
    copies = Counter((user.id, text) for user in users for text in tg.bot_texts(user))
    assert set(copies) == {(user.id, ref) for user in users for ref in REFS}  # nothing lost
    duplicated = {key for key, count in copies.items() if count > 1}
    assert max(copies.values()) <= 2  # at most one duplicate
    assert duplicated <= set(in_flight), (duplicated, in_flight)  # and only of a row in flight at the kill
    for user in users:  # each chat still reads in order (a duplicate follows its original)
        assert [text for text, _ in groupby(tg.bot_texts(user))] == list(REFS)
    assert tg.count_429 == 0
