"""/signal for operators, through the production dispatcher and the fake Bot API: usage and refusals,
invisible to everyone else, a preview with its chart and R multiples, Publish → stored, audited and
delivered once per subscribed chat (one chart, one file_id), a double press publishing once, Cancel
sending nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from db.models import AuditLog, Delivery, DeliveryMedia, DeliveryStatus, User
from db.models.market import Signal
from standins.exchanges import FakeBybit
from standins.telegram import FakeMessage, FakeTelegramServer, FakeUser
from tests.flow.feeds_helpers import command, drain, set_plan
from tests.harness import RunningBot, running_bot

PUBLISH, CANCEL = "✅ Publish", "✖️ Cancel"
UNKNOWN = "I don't know that command. Send /help to see what I can do."
SIGNAL = "/signal btc long 4h entry=65000 sl=63500 tp=67000,69000 valid=12h note=Breakout <retest> & hold"


@pytest.fixture
def operator(tg: FakeTelegramServer) -> FakeUser:
    return tg.add_user("Olga", "olga")


@pytest.fixture
async def app(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any], operator: FakeUser
) -> AsyncIterator[RunningBot]:
    # The sender sends when a commit wakes it (or a test drains it), never on a poll.
    settings = settings_factory(throttle_enabled=False, admin_ids=[operator.id], outbox_poll_seconds=3600)
    async with running_bot(settings, tg) as running:
        yield running


async def subscriber(app: RunningBot, name: str, *, plan: str, locale: str | None = None) -> FakeUser:
    user = app.tg.add_user(name)
    await command(app, user, "/start")
    await set_plan(app, user.id, plan)
    if locale is not None:
        async with app.resources.sessionmaker() as session:
            row = await session.scalar(select(User).where(User.telegram_id == user.id))
            assert row is not None
            row.locale = locale
            await session.commit()
    await command(app, user, "/subscribe btc 4h")
    return user


async def counts(app: RunningBot) -> tuple[int, int, int]:
    """(signals, signal deliveries, audit rows of /signal)."""
    async with app.resources.sessionmaker() as session:
        signals = await session.scalar(select(func.count()).select_from(Signal))
        rows = await session.scalar(select(func.count()).select_from(Delivery).where(Delivery.kind == "signal"))
        audit = await session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "signal"))
    return int(signals or 0), int(rows or 0), int(audit or 0)


async def press_twice(app: RunningBot, user: FakeUser, button: str) -> list[dict[str, object]]:
    """Two presses of one button before the bot handles either (a double tap)."""
    first = await app.tg.press_button(user, button)
    second = await app.tg.press_button(user, button)
    answers = [
        await app.tg.wait_callback_answer(str(update["callback_query"]["id"]), timeout=15) for update in (first, second)
    ]
    await app.settle()
    return answers


async def test_usage_refusals_and_unknown_coins_change_nothing(
    app: RunningBot, tg: FakeTelegramServer, operator: FakeUser
) -> None:
    usage = await command(app, operator, "/signal")
    assert usage.plain_text.startswith(
        "I need a coin, a direction and a timeframe.\n\n✍️ Manual signal: /signal BTC long"
    )
    assert "valid=12h" in usage.plain_text and "5m 15m 1h 4h 1d 1w" in usage.plain_text

    problems = {
        "/signal btc long 4h entry=abc sl=63500 tp=67000": "entry=abc is not a price I can read",
        "/signal btc long 4h sl=63500 tp=67000": "entry= is missing.",
        "/signal btc long 4h entry=65000 sl=63500 tp=67000 lev=5": "I don't know lev=.",
        "/signal btc long 4h entry=65000 sl=63500 tp=1,2,3,4": "Give 1-3 targets",
        "/signal btc long 4h entry=65000 sl=63500 tp=67000 valid=90d": "valid=90d: write a duration",
        "/signal btc long 4h entry=65000 sl=63500 tp=67000 conf=0": "conf=0: the confidence",
        "/signal btc long 3h entry=65000 sl=63500 tp=67000": "I don't know the timeframe 3h.",
        "/signal btc 4h entry=65000 sl=63500 tp=67000": "I need a coin, a direction and a timeframe.",
    }
    for text, expected in problems.items():
        reply = (await command(app, operator, text)).plain_text
        assert reply.startswith(expected), (text, reply)
        assert "✍️ Manual signal: /signal BTC long 4h entry=65000" in reply  # the usage line with its example

    wrong_stop = (await command(app, operator, "/signal btc long 4h entry=65000 sl=66000 tp=67000")).plain_text
    assert wrong_stop == (
        "⛔ Refused: the stop is on the wrong side of the entry (a long's stop is below the entry, a short's above)."
    )
    short = (await command(app, operator, "/signal eth 空 1h entry=3000 sl=3100 tp=3200")).plain_text
    assert short.startswith("⛔ Refused: a target is on the wrong side of the entry")
    unknown = (await command(app, operator, "/signal nopecoin long 4h entry=1 sl=0.9 tp=1.2")).plain_text
    assert "I can't find nopecoin on Bybit" in unknown
    assert await counts(app) == (0, 0, 0)
    assert not tg.calls_to("sendPhoto")


async def test_non_admins_get_the_unknown_command_answer(
    app: RunningBot, tg: FakeTelegramServer, operator: FakeUser
) -> None:
    bob = await subscriber(app, "Bob", plan="vip")
    for text in (SIGNAL, "/signal"):
        assert (await command(app, bob, text)).plain_text == UNKNOWN
    assert await counts(app) == (0, 0, 0)
    assert not tg.calls_to("sendPhoto")


async def test_publish_delivers_once_per_subscribed_chat_with_one_chart(
    app: RunningBot, tg: FakeTelegramServer, operator: FakeUser
) -> None:
    ann = await subscriber(app, "Ann", plan="vip", locale="zh")
    bob = await subscriber(app, "Bob", plan="vip")
    cat = await subscriber(app, "Cat", plan="free")  # her plan delays signals by 15 minutes
    ann_before, bob_before = len(tg.bot_messages(ann)), len(tg.bot_messages(bob))

    preview = await command(app, operator, SIGNAL)
    assert preview.photo is not None
    caption = preview.plain_text
    assert caption.startswith(
        "👀 Preview: nothing is sent until you publish. Chats subscribed to BTC/USDT 4h now: 3.\n\n"
        "🟢 LONG BTC/USDT · 4h · Bybit\n✍️ Manual signal from the team\nEntry: 65,000.0\nStop: 63,500.0 (-2.31%)\n"
        "🎯 TP1: 67,000.0 (+3.08%, 1.3R)\n🎯 TP2: 69,000.0 (+6.15%, 2.7R)\n"
    )
    assert "(12h)" in caption and "📝 Note: Breakout <retest> & hold" in caption
    assert preview.button_texts() == [[PUBLISH, CANCEL]]
    assert await counts(app) == (0, 0, 0)  # nothing stored or sent before Publish

    before = datetime.now(UTC)
    answers = await press_twice(app, operator, PUBLISH)
    assert sorted(bool(answer.get("show_alert")) for answer in answers) == [False, True]
    gone = next(answer for answer in answers if answer.get("show_alert"))
    assert gone["text"] == "This preview has expired or was already handled."

    edited = tg.bot_messages(operator)[-1]
    assert edited.message_id == preview.message_id and edited.reply_markup in (None, {})
    async with app.resources.sessionmaker() as session:
        (signal,) = await session.scalars(select(Signal))
        rows = {row.chat_id: row for row in await session.scalars(select(Delivery).where(Delivery.kind == "signal"))}
        (audit,) = await session.scalars(select(AuditLog).where(AuditLog.action == "signal"))
        media = list(await session.scalars(select(DeliveryMedia)))
    assert edited.plain_text.startswith(f"✅ Published as signal #{signal.id}: queued for 3 chats.\n\n🟢 LONG BTC/USDT")
    assert (signal.source, signal.created_by, signal.strategy, signal.strategy_version) == (
        "manual",
        operator.id,
        "manual",
        "1",
    )
    assert (signal.symbol, signal.timeframe, signal.direction, signal.entry, signal.stop) == (
        "BTC",
        "4h",
        "long",
        65_000.0,
        63_500.0,
    )
    assert signal.take_profits == "67000.0,69000.0" and signal.note == "Breakout <retest> & hold"
    assert (audit.actor_telegram_id, audit.target) == (operator.id, str(signal.id))
    assert audit.details is not None and audit.details.startswith("outcome=published chats=3 BTC 4h long")
    assert set(rows) == {ann.id, bob.id, cat.id} and all(row.ref_id == str(signal.id) for row in rows.values())
    delay = rows[cat.id].next_attempt_at.replace(tzinfo=UTC) - before
    assert timedelta(minutes=15) <= delay <= timedelta(minutes=16)
    assert len(media) == 1 and media[0].file_id == preview.photo.file_id  # the preview's upload, reused

    sender = app.resources.sender
    assert sender is not None
    await sender.wait_recorded(2, timeout=15)
    (to_ann,) = tg.bot_messages(ann)[ann_before:]
    (to_bob,) = tg.bot_messages(bob)[bob_before:]
    assert to_ann.photo is not None and to_bob.photo is not None
    assert to_ann.plain_text.startswith("🟢 做多 BTC/USDT · 4h · Bybit\n✍️ 团队手动信号")
    assert to_bob.plain_text.startswith("🟢 LONG BTC/USDT · 4h · Bybit\n✍️ Manual signal from the team")
    assert "Preview" not in to_bob.plain_text
    pushed = [call for call in tg.calls_to("sendPhoto") if int(call.params["chat_id"]) in (ann.id, bob.id)]
    assert [call.params["photo"] for call in pushed] == [preview.photo.file_id] * 2  # never uploaded again
    async with app.resources.sessionmaker() as session:
        statuses = {row.chat_id: row.status for row in await session.scalars(select(Delivery))}
    assert statuses[ann.id] == statuses[bob.id] == DeliveryStatus.SENT
    assert statuses[cat.id] == DeliveryStatus.PENDING and not _signals_to(tg, cat)

    # The same signal again while it is open: previewed, but Publish refuses it.
    await command(app, operator, SIGNAL)
    await app.tg.press_button(operator, PUBLISH)
    await app.settle()
    refused = tg.bot_messages(operator)[-1].plain_text
    assert refused.startswith("⛔ Not published: a manual long signal for BTC/USDT 4h is still open.")
    assert (await counts(app))[:2] == (1, 3)


def _signals_to(tg: FakeTelegramServer, user: FakeUser) -> list[FakeMessage]:
    return [message for message in tg.bot_messages(user) if message.photo is not None]


async def test_cancel_sends_nothing(app: RunningBot, tg: FakeTelegramServer, operator: FakeUser) -> None:
    bob = await subscriber(app, "Bob", plan="vip")
    preview = await command(app, operator, "/signal btc short 4h entry=65000 sl=66000 tp=63000")
    answers = await press_twice(app, operator, CANCEL)
    assert sorted(bool(answer.get("show_alert")) for answer in answers) == [False, True]
    edited = tg.bot_messages(operator)[-1]
    assert edited.message_id == preview.message_id and not edited.button_texts()
    assert edited.plain_text.startswith("✖️ Cancelled: nothing was sent.\n\n🔴 SHORT BTC/USDT")
    await drain(app, operator)
    assert not _signals_to(tg, bob)
    async with app.resources.sessionmaker() as session:
        (audit,) = await session.scalars(select(AuditLog).where(AuditLog.action == "signal"))
    assert audit.details == "outcome=cancelled BTC 4h short"
    assert (await counts(app))[:2] == (0, 0)


async def test_without_a_chart_when_the_exchange_does_not_answer(
    app: RunningBot, tg: FakeTelegramServer, operator: FakeUser, exchange: FakeBybit
) -> None:
    bob = await subscriber(app, "Bob", plan="vip")  # /subscribe loaded the markets
    exchange.inject("http503", path="/v5/market/kline")
    preview = await command(app, operator, "/signal btc long 4h entry=65000 sl=63500 tp=67000")
    assert preview.photo is None and preview.button_texts() == [[PUBLISH, CANCEL]]
    assert "(No chart: the exchange did not answer; the signal goes out without one.)" in preview.plain_text
    before = len(tg.bot_messages(bob))
    await app.tg.press_button(operator, PUBLISH)
    await app.settle()
    assert ": queued for 1 chat.\n\n" in tg.bot_messages(operator)[-1].plain_text
    sender = app.resources.sender
    assert sender is not None
    await sender.wait_recorded(1, timeout=15)
    (pushed,) = tg.bot_messages(bob)[before:]
    assert pushed.photo is None and pushed.plain_text.startswith("🟢 LONG BTC/USDT · 4h · Bybit")
    async with app.resources.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(DeliveryMedia)) == 0
