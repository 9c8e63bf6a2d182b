"""/broadcast through the production bot (dispatcher, outbox sender, progress loop) and the fake Bot
API under its default flood limits: 2,000 users, some who blocked the bot, a progress message edited
while the broadcast runs, a summary whose counts are the outbox rows', /broadcast cancel stopping the
rest, no 429; a copied photo to one plan's users; refusals, usage, and nothing for non-operators."""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.broadcasts import BroadcastProgress
from db.models import AuditLog, Delivery, DeliveryStatus, User, utcnow
from standins.telegram import FakeMessage, FakeTelegramServer, FakeUser
from tests.flow.admin_helpers import UNKNOWN_COMMAND, audit_rows, press_data, reply_to, snapshot, started
from tests.harness import RunningBot, running_bot, without_scheduler

SEND, CANCEL = "✅ Send", "✖️ Cancel"
USERS = 2000
COUNTS = re.compile(r"sent ([\d,]+) · ⚠️ failed ([\d,]+) · 🚫 blocked ([\d,]+) · ⏳ remaining ([\d,]+)")


@pytest.fixture
def operator(tg: FakeTelegramServer) -> FakeUser:
    return tg.add_user("Olga", "olga", language_code="en")


@pytest.fixture
async def app(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any], operator: FakeUser
) -> AsyncIterator[RunningBot]:
    settings = settings_factory(
        throttle_enabled=False,
        admin_ids=[operator.id],
        outbox_concurrency=4,
        broadcast_progress_seconds=0.05,
    )
    async with running_bot(settings, tg) as running:
        yield running


def progress_loop(app: RunningBot) -> BroadcastProgress:
    loop = app.resources.broadcasts
    assert loop is not None
    return loop


def counts_in(text: str) -> tuple[int, ...]:
    found = COUNTS.search(text)
    assert found is not None, text
    return tuple(int(value.replace(",", "")) for value in found.groups())


async def seed_users(app: RunningBot, rng: random.Random, count: int) -> dict[str, list[FakeUser]]:
    """`count` users who started the bot: plans (some paid plans expired), languages, a few banned, some
    who blocked the bot (the database knows of a third of them; Telegram answers 403 for all)."""
    # Plans ending within days get the scheduler's reminders (and expired ones its downgrade notice)
    # whenever its plan check comes due on the wall clock: not what these tests count.
    await without_scheduler(app)
    tg, now = app.tg, utcnow()
    groups: dict[str, list[FakeUser]] = {"blocked": [], "known_blocked": [], "banned": [], "vip": [], "zh": []}
    rows = []
    for n in range(count):
        zh = rng.random() < 0.3
        user = tg.add_user(f"U{n}", language_code="zh-hans" if zh else "en")
        plan, expires, roll = "free", None, rng.random()
        if roll < 0.2:
            plan, expires = "vip", now + timedelta(days=rng.randint(1, 30))
            groups["vip"].append(user)
        elif roll < 0.25:
            plan, expires = "vip", now - timedelta(days=1)  # expired: a free user now
        elif roll < 0.3:
            plan, expires = "pro", now + timedelta(days=3)
        banned = rng.random() < 0.005
        blocked = not banned and rng.random() < 0.06
        known = blocked and rng.random() < 0.33
        if banned:
            groups["banned"].append(user)
        elif zh:
            groups["zh"].append(user)
        if blocked:  # while the bot was down: Telegram knows, the bot got no update about it
            chat = tg.chat(user)
            chat.blocked, chat.bot_status = True, "kicked"
            groups["known_blocked" if known else "blocked"].append(user)
        rows.append(
            User(
                telegram_id=user.id,
                first_name=user.first_name,
                language_code=user.language_code,
                invite_code=f"b{n}x{rng.randrange(10**9)}",
                plan=plan,
                plan_expires_at=expires,
                banned=banned,
                bot_blocked=known,
            )
        )
    async with app.resources.sessionmaker() as session:
        session.add_all(rows)
        await session.commit()
    return groups


async def outbox_counts(app: RunningBot, broadcast_id: int) -> dict[str, int]:
    """The rows of the broadcast, classified here independently of the product's query."""
    async with app.resources.sessionmaker() as session:
        rows = (
            await session.execute(
                select(Delivery.status, Delivery.error, User.bot_blocked)
                .outerjoin(User, User.telegram_id == Delivery.chat_id)
                .where(Delivery.kind == "broadcast", Delivery.ref_id == str(broadcast_id))
            )
        ).all()
    result = {"sent": 0, "failed": 0, "blocked": 0, "cancelled": 0, "open": 0}
    for status, error, blocked in rows:
        if status == DeliveryStatus.SENT:
            result["sent"] += 1
        elif status == DeliveryStatus.SKIPPED:
            result["cancelled" if (error or "").startswith("cancelled") else "blocked"] += 1
        elif status == DeliveryStatus.DEAD:
            result["blocked" if blocked else "failed"] += 1
        else:
            result["open"] += 1
    return result


async def preview(app: RunningBot, operator: FakeUser, text: str) -> FakeMessage:
    """/broadcast …: the message as users will see it, then the preview with its buttons."""
    count = len(app.tg.bot_messages(operator))
    command, _, args = text.partition(" ")
    await app.tg.send_command(operator, command, args or None)
    messages = await app.tg.wait_for_messages(operator, count + 2, timeout=15)
    assert len(messages[-1].buttons()) == 1 and len(messages[-1].buttons()[0]) == 2, messages[-1]
    return messages[-1]


async def test_a_broadcast_to_2000_users_shows_progress_is_cancelled_and_sums_up_the_outbox(
    app: RunningBot, tg: FakeTelegramServer, operator: FakeUser
) -> None:
    rng = random.Random(14)
    groups = await seed_users(app, rng, USERS)
    await started(tg, operator)
    audience = USERS - len(groups["banned"]) + 1  # the operator is a user too
    control = await preview(app, operator, "/broadcast all Big news: <b> is not a tag & /help works")
    shown = tg.bot_messages(operator)[-2]
    assert shown.plain_text == "Big news: <b> is not a tag & /help works"
    assert f"{audience:,} users" in control.plain_text

    await tg.press_button(operator, SEND, message_id=control.message_id)
    sender = app.resources.sender
    assert sender is not None
    await sender.wait_recorded(300, timeout=60)
    cancelled_reply = await reply_to(tg, operator, "/broadcast cancel", timeout=30)
    (start,) = await audit_rows(app, "broadcast_start")
    broadcast_id = start.id
    assert re.fullmatch(rf"✖️ Broadcast #{broadcast_id}: [\d,]+ messages will not be sent\.", cancelled_reply.plain_text)

    loop = progress_loop(app)
    await tg.wait_until(lambda: loop.finished == 1, timeout=60, what="the broadcast's summary")
    await tg.wait_until(lambda: tg.bot_messages(operator)[-1].reply_to is not None, timeout=30, what="the summary")
    summary = tg.bot_messages(operator)[-1]
    rows = await outbox_counts(app, broadcast_id)

    # The summary is the outbox: sent, failed, blocked, and the rest cancelled; nothing left open.
    assert rows["open"] == 0 and rows["cancelled"] > 0 and rows["sent"] + rows["blocked"] >= 300
    assert summary.plain_text.startswith(f"📣 Broadcast #{broadcast_id} stopped (all users, {audience:,} messages)")
    assert counts_in(summary.plain_text) == (rows["sent"], rows["failed"], rows["blocked"], 0)
    assert f"✖️ cancelled {rows['cancelled']:,}" in summary.plain_text
    assert sum(rows.values()) == audience
    assert summary.reply_to is not None and summary.reply_to.message_id == control.message_id
    # The progress message: edited while rows were still to go, and finally the summary.
    progress = tg.state.get_message(tg.chat(operator), control.message_id)
    assert progress is not None and progress.plain_text == summary.plain_text and not progress.buttons()
    during = [counts_in(version.text or "") for version in progress.history[1:]]
    assert any(sent > 0 and remaining > 0 for sent, _, _, remaining in during), during
    assert loop.edits >= 2

    # Telegram got exactly the sent rows: one message per user, the known-blocked never tried.
    received = [user for user in tg.state.users.values() if not user.is_bot and user is not operator]
    got = [user for user in received if [m.plain_text for m in tg.bot_messages(user)] == [shown.plain_text]]
    to_operator = tg.bot_texts(operator).count(shown.plain_text) - 1  # the first one was the preview
    assert len(got) + to_operator == rows["sent"]
    assert not any(tg.bot_messages(user) for user in groups["banned"] + groups["known_blocked"])
    tried = {call.params["chat_id"] for call in tg.calls_to("sendMessage") if call.status == 403}
    assert tried <= {user.id for user in groups["blocked"]}
    assert tg.count_429 == 0
    actions = [row.action for row in await audit_rows(app) if row.action.startswith("broadcast")]
    assert actions == ["broadcast_preview", "broadcast_start", "broadcast_cancel", "broadcast_done"]
    (done,) = await audit_rows(app, "broadcast_done")
    assert done.target == f"broadcast:{broadcast_id}" and f"sent={rows['sent']} " in (done.details or "")


async def test_a_copied_photo_goes_to_one_plans_users_only_and_finishes(
    app: RunningBot, tg: FakeTelegramServer, operator: FakeUser
) -> None:
    groups = await seed_users(app, random.Random(7), 120)
    await started(tg, operator)
    before = len(tg.bot_messages(operator))
    update = await tg.send_photo(operator, caption="Weekly chart")
    photo_id = update["message"]["message_id"]
    count = len(await tg.wait_for_messages(operator, before + 1))  # the bot's hint: it reads text
    vip = [user for user in groups["vip"] if user not in groups["banned"]]
    await tg.send_message(operator, "/broadcast vip", reply_to=photo_id)
    shown, control = (await tg.wait_for_messages(operator, count + 2, timeout=15))[-2:]
    assert shown.photo is not None and shown.caption == "Weekly chart"
    assert f"VIP plan users: {len(vip)} users" in control.plain_text
    await tg.press_button(operator, SEND, message_id=control.message_id)
    loop = progress_loop(app)
    await tg.wait_until(lambda: loop.finished == 1, timeout=30, what="the broadcast's summary")
    await tg.wait_until(lambda: tg.bot_messages(operator)[-1].reply_to is not None, timeout=30, what="the summary")
    summary = tg.bot_messages(operator)[-1].plain_text
    (start,) = await audit_rows(app, "broadcast_start")
    rows = await outbox_counts(app, start.id)
    reachable = [user for user in vip if user not in groups["blocked"] + groups["known_blocked"]]
    assert (rows["sent"], rows["blocked"], rows["cancelled"], rows["open"]) == (
        len(reachable),
        len(vip) - len(reachable),
        0,
        0,
    )
    assert summary.startswith(f"📣 Broadcast #{start.id} finished (VIP plan users, {len(vip)} messages)")
    assert counts_in(summary) == (rows["sent"], 0, rows["blocked"], 0)
    for user in reachable:
        (message,) = tg.bot_messages(user)
        assert message.photo is not None and message.caption == "Weekly chart"
    non_vip = [user for user in tg.state.users.values() if not user.is_bot and user not in [*vip, operator]]
    assert not any(tg.bot_messages(user) for user in non_vip)
    assert tg.count_429 == 0


async def test_cancel_sends_nothing_a_chinese_operator_and_a_second_press(
    app: RunningBot, tg: FakeTelegramServer, operator: FakeUser
) -> None:
    groups = await seed_users(app, random.Random(3), 40)
    await started(tg, operator)
    control = await preview(app, operator, "/broadcast zh 新功能上线")
    await tg.press_button(operator, CANCEL, message_id=control.message_id)
    await tg.wait_until(lambda: not control.buttons(), timeout=10, what="the preview to close")
    assert control.plain_text == "📣 Broadcast cancelled: nothing was sent."
    async with app.resources.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0
    # A Chinese operator's preview; the audience is the users whose language is Chinese.
    async with app.resources.sessionmaker() as session:
        row = await session.scalar(select(User).where(User.telegram_id == operator.id))
        assert row is not None
        row.locale = "zh"
        await session.commit()
    control = await preview(app, operator, "/broadcast zh 新功能上线")
    zh = len(groups["zh"]) + 1  # and the operator, who reads Chinese now
    assert control.plain_text.startswith(f"📣 群发预览：上面这条消息将发给中文用户，共 {zh} 人")
    assert control.button_texts() == [["✅ 发送", "✖️ 取消"]]
    send = control.find_button("✅ 发送")
    assert send is not None
    await tg.press_button(operator, "✅ 发送", message_id=control.message_id)
    await tg.wait_until(lambda: progress_loop(app).finished == 1, timeout=30, what="the broadcast's summary")
    # The same button pressed again (a double tap that arrives late): an alert, nothing sent again.
    query = await press_data(tg, operator, control, str(send["callback_data"]))
    answer = await tg.wait_callback_answer(query)
    assert (answer.get("text"), answer.get("show_alert")) == ("此预览已过期或已处理。", True)
    (refused,) = await audit_rows(app, "broadcast_confirm")
    assert refused.details == "refused: the preview expired or was handled already"
    async with app.resources.sessionmaker() as session:
        rows = await session.scalar(select(func.count()).select_from(Delivery).where(Delivery.kind == "broadcast"))
    assert rows == zh
    assert (await reply_to(tg, operator, "/broadcast cancel")).plain_text == "当前没有正在进行的群发。"


@pytest.mark.parametrize(
    "text",
    [
        "/broadcast",
        "/broadcast everyone hello",
        "/broadcast vip",  # no text and no reply
        "/broadcast cancel soon",
    ],
)
async def test_a_malformed_broadcast_gets_the_usage_and_is_audited(
    app: RunningBot, tg: FakeTelegramServer, operator: FakeUser, text: str
) -> None:
    await started(tg, operator)
    reply = await reply_to(tg, operator, text)
    assert reply.plain_text.startswith("Usage: /broadcast <audience> <text>")
    (row,) = await audit_rows(app, "broadcast")
    assert (row.details or "").startswith("refused:")
    async with app.resources.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0


async def test_broadcast_is_an_unknown_command_for_everyone_else(
    app: RunningBot, tg: FakeTelegramServer, operator: FakeUser
) -> None:
    ann = tg.add_user("Ann", "ann")
    await started(tg, ann, operator)
    before = await snapshot(app)
    for text in ("/broadcast all hello", "/broadcast", "/broadcast cancel", "/broadcast vip hi"):
        assert (await reply_to(tg, ann, text)).plain_text == UNKNOWN_COMMAND, text
    # A forged Send button of an operator's preview, pressed by Ann: answered, nothing done.
    query = await press_data(tg, ann, tg.bot_messages(ann)[0], "bcast:go:forged-token")
    await tg.wait_callback_answer(query)
    assert await snapshot(app) == before
    async with app.resources.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0
        assert (
            await session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.actor_telegram_id == ann.id))
            == 0
        )


async def test_a_text_too_long_and_an_empty_audience_are_refused_with_the_reason(
    app: RunningBot, tg: FakeTelegramServer, operator: FakeUser
) -> None:
    await started(tg, operator)
    long_text = "🚀 " + "x" * 4100
    reply = await reply_to(tg, operator, f"/broadcast all {long_text}")
    assert reply.plain_text == "This message cannot be broadcast: it is longer than Telegram allows (4,096 characters)."
    reply = await reply_to(tg, operator, "/broadcast pro Only for Pro")
    assert reply.plain_text == "Nobody to send to: there are no Pro plan users right now."
    details = [row.details or "" for row in await audit_rows(app, "broadcast")]
    assert [d.split(":")[0] for d in details] == ["refused", "refused"]
    assert "invalid message" in details[0] and "audience pro is empty" in details[1]
    async with app.resources.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0


async def test_a_deleted_progress_message_does_not_stop_the_broadcast_or_its_summary(
    app: RunningBot, tg: FakeTelegramServer, operator: FakeUser
) -> None:
    groups = await seed_users(app, random.Random(11), 30)
    await started(tg, operator)
    control = await preview(app, operator, "/broadcast en Hello")
    send = control.find_button(SEND)
    assert send is not None
    await press_data(tg, operator, control, str(send["callback_data"]))
    control.deleted = True  # then deleted the preview (Telegram sends no update for that)
    loop = progress_loop(app)
    await tg.wait_until(lambda: loop.finished == 1, timeout=30, what="the broadcast's summary")
    await tg.wait_until(
        lambda: tg.bot_messages(operator)[-1].plain_text.startswith("📣 Broadcast #"), timeout=10, what="the summary"
    )
    summary = tg.bot_messages(operator)[-1]
    (start,) = await audit_rows(app, "broadcast_start")
    rows = await outbox_counts(app, start.id)
    assert summary.plain_text.startswith(f"📣 Broadcast #{start.id} finished")
    assert summary.reply_to is None  # the message it answers is gone: sent without the reply
    assert counts_in(summary.plain_text) == (rows["sent"], 0, rows["blocked"], 0)
    english = [u for u in tg.state.users.values() if u.language_code == "en" and u not in groups["banned"]]
    assert rows["sent"] + rows["blocked"] == len(english)  # the operator among them
    assert [row.action for row in await audit_rows(app, "broadcast_done")] == ["broadcast_done"]


async def test_a_reply_to_a_message_telegram_will_not_copy_is_refused_with_its_reason(
    app: RunningBot, tg: FakeTelegramServer, operator: FakeUser
) -> None:
    await started(tg, operator)
    invoice = {
        "title": "Credits",
        "description": "100 credits",
        "currency": "XTR",
        "total_amount": 50,
        "start_parameter": "",
    }
    bill = tg.state.add_message(tg.chat(operator), tg.state.bot, invoice=invoice)
    reply = await reply_to_message(tg, operator, "/broadcast all", bill.message_id)
    assert reply == "This message cannot be copied to users (Telegram says: Bad Request: the message can't be copied)."
    (row,) = await audit_rows(app, "broadcast")
    assert row.details == "refused: telegram refused the preview: Bad Request: the message can't be copied"
    async with app.resources.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0


async def reply_to_message(tg: FakeTelegramServer, user: FakeUser, text: str, message_id: int) -> str:
    count = len(tg.bot_messages(user))
    await tg.send_message(user, text, reply_to=message_id)
    return (await tg.wait_for_messages(user, count + 1, timeout=10))[-1].plain_text
