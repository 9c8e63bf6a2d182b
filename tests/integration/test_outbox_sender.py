"""The outbox sender against the fake Bot API: every answer Telegram can give ends in the right state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from db.models import DeliveryMedia, DeliveryStatus, Feed, utcnow
from db.repositories.deliveries import DeliveryRepository, NewDelivery
from db.repositories.users import UserRepository
from services.delivery import Button, OutboxMessage, Sent, enqueue
from services.delivery.outbox import add_media
from standins.telegram import ApiError, FakeTelegramServer, make_bot, make_png, server_error, too_many_requests
from tests.integration.outbox_helpers import (
    BACKOFF,
    LEASE_SECONDS,
    Sessions,
    ShiftedClock,
    add_chat,
    add_user,
    chat_active,
    fast_telegram,
    push,
    running_sender,
    user_blocked,
    worker,
)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegramServer]:
    async with fast_telegram() as server:
        yield server


def _sends_to(tg: FakeTelegramServer, chat_id: int, method: str = "sendMessage") -> list[int]:
    return [call.status for call in tg.calls_to(method) if call.params.get("chat_id") == chat_id]


async def test_a_chat_gets_its_messages_in_order_with_buttons_and_options(
    tg: FakeTelegramServer, sessionmaker: Sessions
) -> None:
    ann = tg.add_user("Ann")
    async with running_sender(tg, sessionmaker) as outbox:
        buttons = ((Button(text="Chart", url="https://example.com/c"), Button(text="Mute", callback_data="mute:1")),)
        for ref in ("s1", "s2", "s3"):
            await outbox.push(ref, [ann.id], text=f"<b>{ref}</b> long", buttons=buttons, disable_notification=True)
        await outbox.settle(3)
        rows = await outbox.rows(ann.id)
        stats = await outbox.sender.stats()
    messages = tg.bot_messages(ann)
    assert [m.plain_text for m in messages] == ["s1 long", "s2 long", "s3 long"]
    assert messages[0].button_texts() == [["Chart", "Mute"]]
    assert all(call.params["disable_notification"] is True for call in tg.calls_to("sendMessage"))
    assert "allow_paid_broadcast" not in tg.calls_to("sendMessage")[0].params
    assert [(r.status, r.message_id, r.attempts) for r in rows] == [
        (DeliveryStatus.SENT, m.message_id, 1) for m in messages
    ]
    assert all(r.sent_at is not None and r.lease_until is None for r in rows)
    assert (stats.sent_total, stats.backlog, stats.oldest_pending_age, stats.process.sent) == (3, 0, 0.0, 3)


async def test_the_same_delivery_enqueued_twice_is_one_row_and_one_message(
    tg: FakeTelegramServer, sessionmaker: Sessions
) -> None:
    ann, bob = tg.add_user("Ann"), tg.add_user("Bob")
    async with running_sender(tg, sessionmaker) as outbox:
        first = await outbox.push(42, [ann.id, bob.id, ann.id], text="BTC long")
        again = await outbox.push("42", [ann.id, bob.id], text="BTC long (again)")
        await outbox.settle(2)
        rows = await outbox.rows()
    assert (first, again, len(rows)) == (2, 0, 2)
    assert tg.bot_texts(ann) == ["BTC long"] and tg.bot_texts(bob) == ["BTC long"]


async def test_a_user_who_blocked_the_bot_is_marked_and_gets_no_further_attempts(
    tg: FakeTelegramServer, sessionmaker: Sessions
) -> None:
    ann, bob = tg.add_user("Ann"), tg.add_user("Bob")
    await add_user(sessionmaker, ann.id)
    tg.block_bot(ann)
    for ref in ("s1", "s2", "s3"):  # waiting when the sender starts: Ann's s2 and s3 behind s1
        await push(sessionmaker, ref, [ann.id, bob.id], text=ref)
    async with running_sender(tg, sessionmaker) as outbox:
        outbox.sender.wake()
        await outbox.settle(4)  # Ann's first row, Bob's three
        assert await outbox.push("s4", [ann.id, bob.id], text="s4") == 2
        await outbox.settle(5)
        rows = await outbox.rows(ann.id)
        counters = outbox.counters
    assert _sends_to(tg, ann.id) == [403]
    assert [r.status for r in rows] == [DeliveryStatus.DEAD] + [DeliveryStatus.SKIPPED] * 3
    assert rows[0].error == "Forbidden: bot was blocked by the user"
    assert await user_blocked(sessionmaker, ann.id)
    assert tg.bot_texts(bob) == ["s1", "s2", "s3", "s4"]
    assert (counters.dead, counters.sent) == (1, 4)


async def test_a_group_that_removed_the_bot_is_marked_inactive(tg: FakeTelegramServer, sessionmaker: Sessions) -> None:
    owner = tg.add_user("Owner")
    group = tg.add_group("Traders", owner)
    await add_chat(sessionmaker, group.id)
    tg.bot_removed_from_group(group, owner)
    await push(sessionmaker, "s1", [group.id], text="s1")
    await push(sessionmaker, "s2", [group.id], text="s2")
    async with running_sender(tg, sessionmaker) as outbox:
        outbox.sender.wake()
        await outbox.settle(1)
        rows = await outbox.rows(group.id)
    assert _sends_to(tg, group.id) == [403]
    assert [r.status for r in rows] == [DeliveryStatus.DEAD, DeliveryStatus.SKIPPED]
    assert rows[0].error == "Forbidden: bot was kicked from the supergroup chat"
    assert await chat_active(sessionmaker, group.id) is False


async def test_chat_not_found_is_dead(tg: FakeTelegramServer, sessionmaker: Sessions) -> None:
    async with running_sender(tg, sessionmaker) as outbox:
        await outbox.push("s1", [987_654_321], text="hello")
        await outbox.settle(1)
        (row,) = await outbox.rows()
    assert (row.status, row.error, row.attempts) == (DeliveryStatus.DEAD, "Bad Request: chat not found", 1)
    assert await user_blocked_or_none(sessionmaker, 987_654_321) is None


async def user_blocked_or_none(sessionmaker: Sessions, telegram_id: int) -> bool | None:
    async with sessionmaker() as session:
        user = await UserRepository(session).by_telegram_id(telegram_id)
        return None if user is None else user.bot_blocked


async def test_a_group_upgraded_to_a_supergroup_moves_its_feeds_and_rows(
    tg: FakeTelegramServer, sessionmaker: Sessions
) -> None:
    owner = tg.add_user("Owner")
    group = tg.add_group("Traders", owner, type="group")
    await add_chat(sessionmaker, group.id, "group")
    async with sessionmaker() as session:
        session.add(Feed(chat_id=group.id, kind="signals", symbols="BTC", timeframes="4h"))
        await session.commit()
    supergroup = tg.migrate_group(group)
    async with running_sender(tg, sessionmaker) as outbox:
        await outbox.push("s1", [group.id], text="s1")
        await outbox.push("s2", [group.id], text="s2")
        await outbox.settle(3)  # s1 → migrated; then s1 and s2 at the new id
        rows = await outbox.rows()
        moved = outbox.counters.moved
    assert [(r.chat_id, r.status) for r in rows] == [(supergroup.id, DeliveryStatus.SENT)] * 2
    assert tg.bot_texts(supergroup) == ["s1", "s2"] and tg.bot_messages(group) == []
    assert moved == 2
    async with sessionmaker() as session:
        feeds = list(await session.scalars(select(Feed)))
    assert [f.chat_id for f in feeds] == [supergroup.id]
    assert (await chat_active(sessionmaker, group.id), await chat_active(sessionmaker, supergroup.id)) == (False, True)


async def test_a_migration_onto_a_supergroup_with_a_feed_of_the_same_kind_keeps_the_supergroups(
    tg: FakeTelegramServer, sessionmaker: Sessions
) -> None:
    """One feed per chat and kind: the group's signals feed gives way to the supergroup's, the send
    still moves (no unique-constraint error in the sender's transaction), the risk feed moves."""
    owner = tg.add_user("Owner")
    group = tg.add_group("Traders", owner, type="group")
    await add_chat(sessionmaker, group.id, "group")
    supergroup = tg.migrate_group(group)
    await add_chat(sessionmaker, supergroup.id, "supergroup")
    async with sessionmaker() as session:
        session.add(Feed(chat_id=group.id, kind="signals", symbols="BTC", timeframes="4h"))
        session.add(Feed(chat_id=group.id, kind="risk", symbols="ETH", timeframes="1h"))
        session.add(Feed(chat_id=supergroup.id, kind="signals", symbols="SOL", timeframes="1d"))
        await session.commit()
    async with running_sender(tg, sessionmaker) as outbox:
        await outbox.push("s1", [group.id], text="s1")
        await outbox.settle(2)  # s1 → migrated; then s1 at the new id
        rows = await outbox.rows()
    assert [(r.chat_id, r.status) for r in rows] == [(supergroup.id, DeliveryStatus.SENT)]
    async with sessionmaker() as session:
        feeds = sorted((f.chat_id, f.kind, f.symbols) for f in await session.scalars(select(Feed)))
    assert feeds == [(supergroup.id, "risk", "ETH"), (supergroup.id, "signals", "SOL")]


async def test_a_server_error_is_retried_after_a_backoff_with_jitter(
    tg: FakeTelegramServer, sessionmaker: Sessions
) -> None:
    ann = tg.add_user("Ann")
    tg.inject_error(server_error(502, "Bad Gateway"), method="sendMessage", chat_id=ann.id)
    async with running_sender(tg, sessionmaker) as outbox:
        await outbox.push("s1", [ann.id], text="hello")
        await outbox.settle(1)
        failed = await outbox.row("s1", ann.id)
        now = outbox.clock()
        # Not due yet: a claim now leases nothing.
        assert await worker(sessionmaker, outbox.clock).claim(10) == []
        outbox.clock.advance(BACKOFF.base_seconds)
        outbox.sender.wake()
        await outbox.settle(2)
        sent = await outbox.row("s1", ann.id)
        retried = outbox.counters.retried
    assert (failed.status, failed.attempts, failed.error) == (
        DeliveryStatus.FAILED,
        1,
        "TelegramServerError: Bad Gateway",
    )
    wait = (failed.next_attempt_at - now).total_seconds()
    assert BACKOFF.base_seconds / 2 - 1 <= wait <= BACKOFF.base_seconds
    assert (sent.status, sent.attempts, retried) == (DeliveryStatus.SENT, 2, 1)
    assert tg.bot_texts(ann) == ["hello"]


async def test_a_429_that_reaches_the_sender_waits_retry_after(tg: FakeTelegramServer, sessionmaker: Sessions) -> None:
    ann = tg.add_user("Ann")
    tg.inject_error(too_many_requests(7), chat_id=ann.id)
    async with running_sender(tg, sessionmaker) as outbox:
        await outbox.push("s1", [ann.id], text="hello")
        await outbox.settle(1)
        failed = await outbox.row("s1", ann.id)
        wait = (failed.next_attempt_at - outbox.clock()).total_seconds()
        outbox.clock.advance(7)
        outbox.sender.wake()
        await outbox.settle(2)
        counters = outbox.counters
    assert failed.status == DeliveryStatus.FAILED and 6 <= wait <= 7
    assert (counters.rate_limited, counters.retried, counters.sent) == (1, 1, 1)
    assert tg.bot_texts(ann) == ["hello"]


async def test_other_bad_requests_are_dead_with_the_error(tg: FakeTelegramServer, sessionmaker: Sessions) -> None:
    ann = tg.add_user("Ann")
    async with running_sender(tg, sessionmaker) as outbox:
        await outbox.push("s1", [ann.id], text="<b>bold</i>")
        await outbox.push("s2", [ann.id], text="fine")
        await outbox.settle(2)
        dead, sent = await outbox.rows(ann.id)
    assert dead.status == DeliveryStatus.DEAD
    assert dead.error is not None and dead.error.startswith("Bad Request: can't parse entities")
    assert sent.status == DeliveryStatus.SENT and tg.bot_texts(ann) == ["fine"]  # the chat is still served


async def test_a_row_that_keeps_failing_is_dead_after_the_last_attempt(
    tg: FakeTelegramServer, sessionmaker: Sessions
) -> None:
    ann = tg.add_user("Ann")
    tg.inject_error(server_error(), chat_id=ann.id, count=BACKOFF.max_attempts)
    async with running_sender(tg, sessionmaker) as outbox:
        await outbox.push("s1", [ann.id], text="hello")
        for attempt in range(1, BACKOFF.max_attempts + 1):
            await outbox.settle(attempt)
            outbox.clock.advance(BACKOFF.cap_seconds)
            outbox.sender.wake()
        row = await outbox.row("s1", ann.id)
    assert (row.status, row.attempts) == (DeliveryStatus.DEAD, BACKOFF.max_attempts)
    assert row.error == f"gave up after {BACKOFF.max_attempts} attempts: TelegramServerError: Internal Server Error"
    assert _sends_to(tg, ann.id) == [500] * BACKOFF.max_attempts


async def test_a_photo_is_uploaded_once_and_sent_by_file_id_to_everyone_else(
    tg: FakeTelegramServer, sessionmaker: Sessions
) -> None:
    users = [tg.add_user(f"U{i}") for i in range(6)]
    async with running_sender(tg, sessionmaker) as outbox:
        sha256 = await outbox.media(make_png(64, 48))
        await outbox.push("chart-1", [u.id for u in users], text="<b>BTC</b> 4h", photo=sha256)
        await outbox.settle(len(users))
        uploads = outbox.counters.uploads
        assert outbox.sender.uploads_in_progress == 0  # the upload's lock went with the upload
        assert outbox.sender.file_ids.get(sha256) is not None
    photos = [call.params["photo"] for call in tg.calls_to("sendPhoto")]
    assert [p.startswith("<file chart.png") for p in photos].count(True) == 1
    file_ids = {p for p in photos if not p.startswith("<file")}
    assert len(photos) == len(users) and len(file_ids) == 1
    for user in users:
        (message,) = tg.bot_messages(user)
        assert message.photo is not None and message.plain_text == "BTC 4h"
    async with sessionmaker() as session:
        media = await session.get(DeliveryMedia, sha256)
    assert media is not None and media.file_id in file_ids and uploads == 1


async def test_a_file_id_telegram_refuses_is_uploaded_again(tg: FakeTelegramServer, sessionmaker: Sessions) -> None:
    ann = tg.add_user("Ann")
    async with running_sender(tg, sessionmaker) as outbox:
        sha256 = await outbox.media(make_png(32, 32))
        async with sessionmaker() as session:
            await DeliveryRepository(session).set_file_id(sha256, "AgACAgIAAxkBAAIBforgotten")
            await session.commit()
        await outbox.push("chart-1", [ann.id], text="chart", photo=sha256)
        await outbox.settle(2)
        row = await outbox.row("chart-1", ann.id)
        assert outbox.sender.uploads_in_progress == 0  # none left by the stored file_id nor the refusal
    assert [c.status for c in tg.calls_to("sendPhoto")] == [400, 200]
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)
    assert len(tg.bot_messages(ann)) == 1


async def test_a_lease_that_expired_without_a_result_is_sent_again_once(
    tg: FakeTelegramServer, sessionmaker: Sessions
) -> None:
    """A sender died mid-send: one row had reached Telegram (its result never recorded), one had
    not, one was recorded. After the lease, the first two are sent again, once; the third never."""
    ann, bob, cat = tg.add_user("Ann"), tg.add_user("Bob"), tg.add_user("Cat")
    clock = ShiftedClock()
    async with sessionmaker() as session:
        payload = OutboxMessage.build(text="s1")
        await enqueue(session, kind="signal", ref_id="s1", chat_ids=[ann.id, bob.id, cat.id], payload=payload)
        await session.commit()
    crashed = worker(sessionmaker, clock)
    leased = {row.chat_id: row for row in await crashed.claim(10)}
    assert set(leased) == {ann.id, bob.id, cat.id}
    bot = make_bot(tg)
    try:
        await bot.send_message(ann.id, "s1")  # reached Telegram; the process died before recording it
        delivered = await bot.send_message(cat.id, "s1")
        await crashed.record(leased[cat.id], Sent(delivered.message_id))
        assert await worker(sessionmaker, clock).claim(10) == []  # the leases still hold
        clock.advance(LEASE_SECONDS + 1)
        async with running_sender(tg, sessionmaker, bot=bot, clock=clock) as restarted:
            restarted.sender.wake()
            await restarted.settle(2)
            rows = await restarted.rows()
    finally:
        await bot.session.close()
    assert tg.bot_texts(ann) == ["s1", "s1"]  # at most one duplicate
    assert tg.bot_texts(bob) == ["s1"] and tg.bot_texts(cat) == ["s1"]
    assert [(r.chat_id, r.status, r.attempts) for r in rows] == [
        (ann.id, DeliveryStatus.SENT, 2),
        (bob.id, DeliveryStatus.SENT, 2),
        (cat.id, DeliveryStatus.SENT, 1),
    ]


async def test_paid_broadcast_passes_allow_paid_broadcast_and_counts_it(
    tg: FakeTelegramServer, sessionmaker: Sessions
) -> None:
    ann, bob = tg.add_user("Ann"), tg.add_user("Bob")
    async with running_sender(tg, sessionmaker, paid_broadcast=True) as outbox:
        await outbox.push("b1", [ann.id, bob.id], kind="broadcast", text="news")
        await outbox.settle(2)
        stats = await outbox.sender.stats()
    assert [call.params.get("allow_paid_broadcast") for call in tg.calls_to("sendMessage")] == [True, True]
    assert (stats.paid_total, stats.process.paid) == (2, 2)


async def test_backlog_and_oldest_pending_age(tg: FakeTelegramServer, sessionmaker: Sessions) -> None:
    ann = tg.add_user("Ann")
    clock = ShiftedClock()
    async with running_sender(tg, sessionmaker, clock=clock) as outbox:
        await outbox.sender.stop()
        await outbox.push("s1", [ann.id, 555], text="one")
        clock.advance(90)
        stats = await outbox.sender.stats()
    assert stats.backlog == 2 and 89 <= stats.oldest_pending_age <= 91
    assert timedelta(seconds=stats.oldest_pending_age) < timedelta(minutes=2)


@pytest.mark.parametrize(
    ("error", "status", "stored_error"),
    [
        (ApiError(401, "Unauthorized"), DeliveryStatus.FAILED, "TelegramUnauthorizedError: Unauthorized"),
        (ApiError(404, "Not Found"), DeliveryStatus.FAILED, "TelegramNotFound: Not Found"),
        (ApiError(413, "Request Entity Too Large"), DeliveryStatus.DEAD, "Request Entity Too Large"),
    ],
)
async def test_answers_that_are_not_about_the_chat(
    tg: FakeTelegramServer, sessionmaker: Sessions, error: ApiError, status: DeliveryStatus, stored_error: str
) -> None:
    """A revoked token or a wrong API URL is no reason to drop a message (retried); too large is."""
    ann = tg.add_user("Ann")
    tg.inject_error(error, chat_id=ann.id)
    async with running_sender(tg, sessionmaker) as outbox:
        await outbox.push("s1", [ann.id], text="hello")
        await outbox.settle(1)
        row = await outbox.row("s1", ann.id)
    assert (row.status, row.error) == (status, stored_error)


async def test_a_row_that_cannot_be_read_back_is_dead(tg: FakeTelegramServer, sessionmaker: Sessions) -> None:
    ann, bob = tg.add_user("Ann"), tg.add_user("Bob")
    async with sessionmaker() as session:
        repository = DeliveryRepository(session)
        broken = NewDelivery(kind="signal", ref_id="s1", chat_id=ann.id, payload='{"text": ')
        await repository.enqueue([broken], utcnow())
        sha256 = await add_media(session, make_png(8, 8), "chart.png")
        await session.commit()
    await push(sessionmaker, "chart", [bob.id], text="chart", photo=sha256)
    async with sessionmaker() as session:  # the file is gone before any sender gets to the row
        await session.execute(delete(DeliveryMedia))
        await session.commit()
    async with running_sender(tg, sessionmaker) as outbox:
        await outbox.settle(2)
        unreadable, no_media = await outbox.row("s1", ann.id), await outbox.row("chart", bob.id)
    assert unreadable.status == DeliveryStatus.DEAD and (unreadable.error or "").startswith("invalid payload: ")
    assert (no_media.status, no_media.error) == (DeliveryStatus.DEAD, f"invalid payload: media {sha256} is not stored")
    assert tg.calls_to("sendMessage") == [] and tg.calls_to("sendPhoto") == []
