"""The outbox's rows: idempotent enqueue, leases, per-chat order, fenced results, validation."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from db.models import DeliveryStatus
from db.repositories.deliveries import ClaimedDelivery, DeliveryRepository, NewDelivery
from db.repositories.users import ChatRepository, UserRepository
from services.delivery import Button, InvalidDelivery, OutboxMessage, RetryPolicy, add_media, enqueue
from tests.backends import POSTGRES_ONLY
from tests.integration.outbox_helpers import Sessions, add_chat, add_user

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


async def _enqueue(sessionmaker: Sessions, rows: list[tuple[str, int]], priority: int = 0) -> int:
    async with sessionmaker() as session:
        new = [
            NewDelivery(kind="signal", ref_id=ref, chat_id=chat, payload="{}", priority=priority) for ref, chat in rows
        ]
        inserted = await DeliveryRepository(session).enqueue(new, NOW)
        await session.commit()
    return inserted


async def _claim(sessionmaker: Sessions, limit: int = 100, now: datetime = NOW) -> list[ClaimedDelivery]:
    async with sessionmaker() as session:
        rows = await DeliveryRepository(session).claim(now, now + LEASE, limit)
        await session.commit()
    return rows


async def _statuses(sessionmaker: Sessions) -> list[tuple[str, int, str]]:
    async with sessionmaker() as session:
        repository = DeliveryRepository(session)
        rows = [*await repository.for_ref("signal", "a"), *await repository.for_ref("signal", "b")]
    return sorted((row.ref_id, row.chat_id, row.status) for row in rows)


async def test_enqueue_ignores_rows_already_there(sessionmaker: Sessions) -> None:
    assert await _enqueue(sessionmaker, [("a", 1), ("a", 2)]) == 2
    assert await _enqueue(sessionmaker, [("a", 1), ("a", 2), ("a", 3)]) == 1
    async with sessionmaker() as session:
        counts = await DeliveryRepository(session).counts()
    assert (counts.pending, counts.backlog, counts.oldest_open_at) == (3, 3, NOW)


async def test_claim_takes_each_chats_oldest_open_row_only(sessionmaker: Sessions) -> None:
    await _enqueue(sessionmaker, [("a", 1), ("b", 1), ("a", 2)])
    await _enqueue(sessionmaker, [("b", 2)], priority=-1)  # urgent, but behind chat 2's older row
    await _enqueue(sessionmaker, [("a", 3)], priority=1)
    first = await _claim(sessionmaker)
    assert [(r.ref_id, r.chat_id, r.attempts) for r in first] == [("a", 1, 1), ("a", 2, 1), ("a", 3, 1)]
    assert first[0].lease_until == NOW + LEASE
    assert await _claim(sessionmaker) == []  # the heads are leased; nothing else is due
    async with sessionmaker() as session:
        repository = DeliveryRepository(session)
        assert await repository.mark_sent(first[0].id, 11, NOW)
        assert await repository.mark_failed(first[1], "502", NOW + timedelta(seconds=30))
        await session.commit()
    second = await _claim(sessionmaker)
    assert [(r.ref_id, r.chat_id) for r in second] == [("b", 1)]  # chat 2 waits for its failed head
    later = await _claim(sessionmaker, now=NOW + timedelta(seconds=31))
    assert [(r.ref_id, r.chat_id, r.attempts) for r in later] == [("a", 2, 2)]


async def test_an_expired_lease_is_due_again_and_a_stale_result_is_ignored(sessionmaker: Sessions) -> None:
    await _enqueue(sessionmaker, [("a", 1)])
    (stale,) = await _claim(sessionmaker)
    assert await _claim(sessionmaker, now=NOW + LEASE - timedelta(seconds=1)) == []
    (fresh,) = await _claim(sessionmaker, now=NOW + LEASE + timedelta(seconds=1))
    assert (fresh.id, fresh.attempts) == (stale.id, 2)
    async with sessionmaker() as session:
        repository = DeliveryRepository(session)
        # The first sender comes back late: its failure does not touch the newer attempt …
        assert not await repository.mark_failed(stale, "timeout", NOW)
        assert not await repository.mark_dead(stale, "late 400")
        # … but a message it did deliver is recorded, so nobody sends it a third time.
        assert await repository.mark_sent(stale.id, 7, NOW)
        assert not await repository.mark_failed(fresh, "502", NOW)
        assert await repository.mark_sent(fresh.id, 8, NOW) is False
        await session.commit()
        row = await repository.get(stale.id)
    assert row is not None and (row.status, row.message_id) == (DeliveryStatus.SENT, 7)


async def test_a_live_sender_renews_its_leases(sessionmaker: Sessions) -> None:
    await _enqueue(sessionmaker, [("a", 1), ("a", 2)])
    mine, other = await _claim(sessionmaker)
    stale = dataclasses.replace(other, attempts=other.attempts - 1)
    async with sessionmaker() as session:
        renewed = await DeliveryRepository(session).renew([mine, stale], NOW + timedelta(seconds=50) + LEASE)
        await session.commit()
    assert renewed == 1  # not the row whose attempt is no longer this sender's
    (taken,) = await _claim(sessionmaker, now=NOW + LEASE + timedelta(seconds=1))
    assert taken.id == other.id
    assert await _claim(sessionmaker, now=NOW + LEASE + timedelta(seconds=49)) == []
    (expired,) = await _claim(sessionmaker, now=NOW + LEASE + timedelta(seconds=51))
    assert expired.id == mine.id


@POSTGRES_ONLY
async def test_a_renewal_never_waits_on_a_row_whose_result_is_being_recorded(sessionmaker: Sessions) -> None:
    """Renewing a sender's leases while another transaction records one of those rows as sent must
    not wait for it (waiting, with the other rows locked, deadlocked with the sent rows' group
    commit on PostgreSQL): the renewal skips the locked row and returns at once."""
    await _enqueue(sessionmaker, [("a", 1), ("a", 2), ("a", 3)])
    first, second, third = await _claim(sessionmaker)
    async with sessionmaker() as recording, sessionmaker() as renewing:
        await DeliveryRepository(recording).mark_sent(second.id, 42, NOW)  # row locked until commit
        await renewing.execute(text("SET LOCAL lock_timeout = '3s'"))  # the old renewal failed here
        renewed = await DeliveryRepository(renewing).renew([first, second, third], NOW + LEASE * 2)
        await renewing.commit()
        await recording.commit()
    assert renewed == 2
    async with sessionmaker() as session:
        sent = await DeliveryRepository(session).get(second.id)
    assert sent is not None and (sent.status, sent.message_id) == (DeliveryStatus.SENT, 42)


async def test_skip_and_move_a_chats_rows(sessionmaker: Sessions) -> None:
    await _enqueue(sessionmaker, [("a", 1), ("b", 1), ("a", -5), ("b", -5), ("a", -9)])
    async with sessionmaker() as session:
        repository = DeliveryRepository(session)
        assert await repository.skip_chat(1, "blocked") == 2
        # -5 became -9: "a" is already there (skipped), "b" moves.
        assert await repository.move_chat(-5, -9, NOW) == 1
        await session.commit()
    assert await _statuses(sessionmaker) == [
        ("a", -9, "pending"),
        ("a", -5, "skipped"),
        ("a", 1, "skipped"),
        ("b", -9, "pending"),
        ("b", 1, "skipped"),
    ]


async def test_enqueue_skips_chats_known_to_refuse_messages(sessionmaker: Sessions) -> None:
    await add_user(sessionmaker, 501)
    await add_chat(sessionmaker, -100_1)
    async with sessionmaker() as session:
        await UserRepository(session).set_bot_blocked(501, True)
        await ChatRepository(session).set_active(-100_1, False)
        payload = OutboxMessage.build(text="hi")
        assert await enqueue(session, kind="alert", ref_id=1, chat_ids=[501, -100_1, 502], payload=payload) == 3
        await session.commit()
        rows = await DeliveryRepository(session).for_ref("alert", "1")
    assert [(r.chat_id, r.status) for r in rows] == [
        (501, DeliveryStatus.SKIPPED),
        (-100_1, DeliveryStatus.SKIPPED),
        (502, DeliveryStatus.PENDING),
    ]


async def test_payloads_are_checked_against_telegrams_limits(sessionmaker: Sessions) -> None:
    assert OutboxMessage.build(text="<b>" + "x" * 4096 + "</b>").text.startswith("<b>")  # tags do not count
    assert OutboxMessage.build(text="😀" * 2048)  # 4096 UTF-16 units
    problems: dict[str, dict[str, Any]] = {
        "text is 4097 characters; Telegram allows 4096": {"text": "x" * 4097},
        "text is 4098 characters; Telegram allows 4096": {"text": "😀" * 2049},
        "caption is 1025 characters; Telegram allows 1024": {"text": "y" * 1025, "photo": "a" * 64},
        "a message without a photo needs text": {"text": "  "},
        "callback_data must be 1-64 bytes": {"text": "t", "buttons": [[{"text": "b", "callback_data": "é" * 33}]]},
        "Telegram does not accept the button URL 'javascript:x'": {
            "text": "t",
            "buttons": [[{"text": "b", "url": "javascript:x"}]],
        },
        "a button has exactly one of url or callback_data": {"text": "t", "buttons": [[{"text": "b"}]]},
    }
    for expected, fields in problems.items():
        with pytest.raises(InvalidDelivery) as error:
            OutboxMessage.build(**fields)
        assert expected in str(error.value)
    message = OutboxMessage.build(
        text="t", buttons=((Button(text="b", callback_data="x"),),), reply_to=5, message_thread_id=3
    )
    assert OutboxMessage.from_json(message.to_json()) == message
    async with sessionmaker() as session:
        with pytest.raises(InvalidDelivery, match="was not stored with add_media"):
            await enqueue(session, kind="a", ref_id=1, chat_ids=[1], payload=OutboxMessage.build(photo="b" * 64))
        with pytest.raises(InvalidDelivery, match="kind is 1-16"):
            await enqueue(session, kind="x" * 17, ref_id=1, chat_ids=[1], payload=message)
        sha256 = await add_media(session, b"\x89PNG...")
        assert await add_media(session, b"\x89PNG...") == sha256
        assert await enqueue(session, kind="a", ref_id=1, chat_ids=[1], payload=OutboxMessage.build(photo=sha256)) == 1


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(base_seconds=2, cap_seconds=30, max_attempts=4, rng=random.Random(1))
    for attempt, ceiling in ((1, 2), (2, 4), (3, 8), (4, 16), (5, 30), (60, 30), (10_000, 30)):
        delays = [policy.delay(attempt) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jitter: retries do not arrive together
    assert (policy.exhausted(3), policy.exhausted(4)) == (False, True)
    with pytest.raises(ValueError):
        RetryPolicy(base_seconds=10, cap_seconds=5)


@POSTGRES_ONLY
async def test_concurrent_claims_never_share_a_row_or_a_chat(sessionmaker: Sessions) -> None:
    """Several replicas claiming at once (SKIP LOCKED): every row leased once, one per chat at a time."""
    await _enqueue(sessionmaker, [(f"r{i}", chat) for i in range(4) for chat in range(1, 51)])
    claims = await asyncio.gather(*(_claim(sessionmaker, limit=20) for _ in range(6)))
    leased = [row for claim in claims for row in claim]
    assert len({row.id for row in leased}) == len(leased) == 50
    assert sorted(row.chat_id for row in leased) == list(range(1, 51))
    assert all(row.ref_id == "r0" for row in leased)


async def test_a_row_scheduled_for_later_does_not_hold_back_the_chats_other_pushes(sessionmaker: Sessions) -> None:
    later = NOW + timedelta(minutes=15)  # a signal delayed by the chat's plan
    async with sessionmaker() as session:
        repository = DeliveryRepository(session)
        await repository.enqueue([NewDelivery(kind="signal", ref_id="a", chat_id=1, payload="{}")], later)
        await repository.enqueue([NewDelivery(kind="alert", ref_id="b", chat_id=1, payload="{}")], NOW)
        await session.commit()
    assert [row.ref_id for row in await _claim(sessionmaker)] == ["b"]
    assert await _claim(sessionmaker) == []  # "b" is in flight; "a" is not due yet
    # A failed row, due again later, still holds the chat's newer rows back (order is kept).
    async with sessionmaker() as session:
        repository = DeliveryRepository(session)
        await repository.enqueue([NewDelivery(kind="alert", ref_id="c", chat_id=2, payload="{}")], NOW)
        await session.commit()
    (claimed,) = await _claim(sessionmaker)
    async with sessionmaker() as session:
        await DeliveryRepository(session).mark_failed(claimed, "timeout", NOW + timedelta(minutes=1))
        await DeliveryRepository(session).enqueue([NewDelivery(kind="alert", ref_id="d", chat_id=2, payload="{}")], NOW)
        await session.commit()
    assert await _claim(sessionmaker) == []
    assert [row.ref_id for row in await _claim(sessionmaker, now=later)] == ["a", "c"]
