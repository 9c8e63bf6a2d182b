"""Operators' commands through the real Dispatcher: /admin, /stats, /user, /grant, /revoke, /plan,
/audit — each with its effect and its audit row; malformed input answered with a usage line."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest

from db.models import utcnow
from standins.telegram import FakeTelegramServer, FakeUser
from tests.flow.admin_helpers import audit_rows, balance, command_reply, db_user, reply_to, started
from tests.flow.payments_helpers import wait_text
from tests.harness import RunningBot, running_bot


@pytest.fixture
def operator(tg: FakeTelegramServer) -> FakeUser:
    return tg.add_user("Olga", "olga", language_code="en")


@pytest.fixture
async def admin_app(
    tg: FakeTelegramServer, settings_factory: Callable[..., Any], operator: FakeUser
) -> AsyncIterator[RunningBot]:
    async with running_bot(settings_factory(throttle_enabled=False, admin_ids=[operator.id]), tg) as running:
        yield running


async def test_menu_in_the_operators_language_and_stats_from_its_button(
    admin_app: RunningBot, tg: FakeTelegramServer, operator: FakeUser
) -> None:
    menu = await reply_to(tg, operator, "/admin")
    assert menu.plain_text.startswith("🛠 Operator menu")
    assert menu.button_texts() == [["📊 Stats", "📜 Audit log"], ["👤 Find a user", "💳 Credits, plans, bans"]]

    count = len(tg.bot_messages(operator))
    await tg.press_button(operator, "📊 Stats")
    stats = (await tg.wait_for_messages(operator, count + 1))[-1].plain_text
    assert stats.startswith("📊 Stats")
    assert "👥 Users: 1 · active 1d 1" in stats  # the operator
    assert "📮 Outbox: backlog 0" in stats
    await tg.press_button(operator, "💳 Credits, plans, bans")
    await tg.wait_for_messages(operator, count + 2)
    assert "/grant <user> <credits> <reason>" in tg.bot_messages(operator)[-1].plain_text
    assert [row.action for row in await audit_rows(admin_app)] == ["menu", "stats"]


async def test_menu_in_chinese(tg: FakeTelegramServer, settings_factory: Callable[..., Any]) -> None:
    zhang = tg.add_user("Zhang", "zhang", language_code="zh-hans")
    async with running_bot(settings_factory(throttle_enabled=False, admin_ids=[zhang.id]), tg):
        menu = await reply_to(tg, zhang, "/admin")
        assert menu.plain_text.startswith("🛠 运营菜单")
        assert menu.button_texts()[0] == ["📊 统计", "📜 审计日志"]
        assert (await command_reply(tg, zhang, "/grant")).startswith("用法：/grant")
        await command_reply(tg, zhang, f"/grant {zhang.id} 8 测试")
        stats = await command_reply(tg, zhang, "/stats")
        assert stats.startswith("📊 统计") and "👥 用户：1 · 1 天活跃 1" in stats and "发放 8" in stats
        profile = await reply_to(tg, zhang, "/user @zhang")
        assert profile.plain_text.startswith(f"👤 Zhang @zhang · id {zhang.id}")
        assert "积分：可用 8（共获得 8，已用 0）" in profile.plain_text and "+8 · 客服发放" in profile.plain_text
        assert profile.button_texts()[0] == ["🚫 封禁", "➕ 发放", "➖ 扣回"]
        assert "{" not in stats + profile.plain_text  # every placeable filled


async def test_stats_command_counts_users_questions_and_credits(
    admin_app: RunningBot, tg: FakeTelegramServer, operator: FakeUser
) -> None:
    ann, bob = tg.add_user("Ann", "ann"), tg.add_user("Bob", "bob")
    await started(tg, ann, bob)
    await command_reply(tg, operator, f"/grant {ann.id} 40 welcome")
    stats = await command_reply(tg, operator, "/stats")
    assert "👥 Users: 3 · active 1d 3 · 7d 3 · 30d 3 · new today 3" in stats
    assert "💳 Credits: sold 0 · spent 0 · refunded 0 · granted 40 · revoked 0" in stats
    assert "⭐ Stars: 0 payments" in stats
    assert "🎟 Active plans: none" in stats
    [row] = await audit_rows(admin_app, "stats")
    assert row.actor_telegram_id == operator.id and row.details == "users=3"


async def test_user_profile_and_its_buttons(admin_app: RunningBot, tg: FakeTelegramServer, operator: FakeUser) -> None:
    ann = tg.add_user("Ann", "ann_t")
    await started(tg, ann)
    await command_reply(tg, operator, "/grant @ann_t 25 support")
    profile = await reply_to(tg, operator, "/user @ANN_T")  # usernames match in any case
    text = profile.plain_text
    assert text.startswith(f"👤 Ann @ann_t · id {ann.id}")
    assert "Plan: Free" in text and "Credits: 25 available (25 received, 0 used)" in text
    assert "Banned: no · blocked the bot: no" in text
    assert "+25 · granted by support" in text
    assert profile.button_texts()[0] == ["🚫 Ban", "➕ Grant", "➖ Revoke"]

    await tg.press_button(operator, "VIP 30d")
    await wait_text(tg, operator, f"✅ User {ann.id} is on VIP until")
    await tg.wait_until(lambda: "Plan: VIP until" in tg.bot_messages(operator)[-2].plain_text, 8.0, "the edit")
    user = await db_user(admin_app, ann.id)
    assert user.plan == "vip" and user.plan_expires_at is not None
    assert abs(user.plan_expires_at - (utcnow() + timedelta(days=30))) < timedelta(minutes=1)

    await tg.press_button(operator, "🚫 Ban")
    await tg.wait_until(lambda: any(m.find_button("✅ Unban") for m in tg.bot_messages(operator)), 8.0, "Unban")
    assert (await db_user(admin_app, ann.id)).banned

    # Grant…: the command to complete; Audit: the user's rows; Refresh with nothing new: no error.
    count = len(tg.bot_messages(operator))
    await tg.press_button(operator, "➕ Grant")
    hint = await wait_text(tg, operator, "Complete and send")
    assert hint.plain_text == f"Complete and send: /grant {ann.id} 100 reason"
    await tg.press_button(operator, "📜 Audit")
    log = await wait_text(tg, operator, f"📜 Audit log for {ann.id}")
    assert [line.split(" · ")[2] for line in log.plain_text.splitlines()[1:]] == ["ban", "plan", "user", "grant"]
    for _ in range(2):
        query = (await tg.press_button(operator, "🔄 Refresh"))["callback_query"]["id"]
        await tg.wait_callback_answer(query)
    await admin_app.settle()
    assert len(tg.bot_messages(operator)) == count + 2
    edits = [call for call in tg.calls_to("editMessageText") if call.status == 400]
    assert edits and all("message is not modified" in str(call.response) for call in edits)
    actions = [(row.action, row.target) for row in await audit_rows(admin_app)]
    tg_id = str(ann.id)
    assert actions == [("grant", tg_id), ("user", tg_id), ("plan", tg_id), ("ban", tg_id), ("audit", tg_id)]


async def test_grant_revoke_never_below_zero_and_usage(
    admin_app: RunningBot, tg: FakeTelegramServer, operator: FakeUser
) -> None:
    ann = tg.add_user("Ann", "ann")
    await started(tg, ann)
    assert await command_reply(tg, operator, f"/grant {ann.id} 50 compensation") == (
        f"✅ Granted 50 credits to {ann.id}. Balance 0 → 50."
    )
    assert await command_reply(tg, operator, "/revoke @ann 80 mistake") == (
        f"❌ Not revoked: user {ann.id} has 50 credits, fewer than 80. A balance never goes below zero."
    )
    assert await balance(admin_app, ann.id) == 50
    assert await command_reply(tg, operator, "/revoke @ann 30 mistake") == (
        f"✅ Revoked 30 credits from {ann.id}. Balance 50 → 20."
    )
    assert await balance(admin_app, ann.id) == 20
    for malformed in ("/grant", f"/grant {ann.id} 50", f"/grant {ann.id} lots of credits", "/grant ann 5 x"):
        assert (await command_reply(tg, operator, malformed)).startswith("Usage: /grant <user> <credits> <reason>")
    assert (await command_reply(tg, operator, f"/revoke {ann.id} 0 zero")).startswith("Usage: /revoke")
    assert await command_reply(tg, operator, "/grant @nobody 5 hi") == (
        "No user @nobody in the database (they must have started the bot)."
    )
    assert await balance(admin_app, ann.id) == 20
    rows = await audit_rows(admin_app)
    assert [row.action for row in rows] == ["grant", "revoke", "revoke"] + ["grant"] * 4 + ["revoke", "grant"]
    assert all(row.actor_telegram_id == operator.id and row.created_at is not None for row in rows)
    assert rows[1].details is not None and rows[1].details.startswith("refused: balance 50 < 80")
    assert rows[3].details is not None and rows[3].details.startswith("refused: usage")
    assert (rows[-1].target, rows[-1].details) == ("@nobody", "refused: no such user")


async def test_plan_command(admin_app: RunningBot, tg: FakeTelegramServer, operator: FakeUser) -> None:
    ann = tg.add_user("Ann", "ann")
    await started(tg, ann)
    reply = await command_reply(tg, operator, f"/plan {ann.id} pro 7")
    assert reply.startswith(f"✅ User {ann.id} is on Pro until ")
    user = await db_user(admin_app, ann.id)
    assert user.plan == "pro" and user.plan_expires_at is not None
    assert abs(user.plan_expires_at - (utcnow() + timedelta(days=7))) < timedelta(minutes=1)
    assert await command_reply(tg, operator, "/plan @ann free") == f"✅ User {ann.id} is on Free now."
    user = await db_user(admin_app, ann.id)
    assert (user.plan, user.plan_expires_at) == ("free", None)
    for malformed in ("/plan @ann vip", "/plan @ann gold 3", "/plan @ann vip 0", "/plan @ann vip 9999", "/plan"):
        assert (await command_reply(tg, operator, malformed)).startswith("Usage: /plan <user> <free|vip|pro> <days>")
    assert (await db_user(admin_app, ann.id)).plan == "free"
    rows = await audit_rows(admin_app, "plan")
    assert len(rows) == 7 and rows[0].details is not None and rows[0].details.startswith("free->pro days=7")


async def test_audit_command(admin_app: RunningBot, tg: FakeTelegramServer, operator: FakeUser) -> None:
    ann, bob = tg.add_user("Ann", "ann"), tg.add_user("Bob", "bob")
    await started(tg, ann, bob)
    await command_reply(tg, operator, f"/grant {ann.id} 5 one")
    await command_reply(tg, operator, f"/grant {bob.id} 6 two")
    await command_reply(tg, operator, "/ban @bob spam")
    log = await command_reply(tg, operator, "/audit 2")
    lines = log.splitlines()
    assert lines[0] == "📜 Audit log, last 2"
    assert f"· {operator.id} · ban · {bob.id} · done reason='spam'" in lines[1]
    assert f"· grant · {bob.id} · done: 6 balance 0->6" in lines[2]
    for_ann = await command_reply(tg, operator, "/audit @ann")
    assert for_ann.splitlines()[0] == f"📜 Audit log for {ann.id}, last 1"
    assert str(bob.id) not in for_ann
    assert (await command_reply(tg, operator, "/audit 5 @ann extra")).startswith("Usage: /audit [n] [user]")
    assert (await command_reply(tg, operator, "/audit 0")).startswith("Usage: /audit")
    # The views are audited too, and so is the refused attempt.
    actions = [row.action for row in await audit_rows(admin_app)]
    assert actions[-4:] == ["audit", "audit", "audit", "audit"]
    assert [row.details for row in await audit_rows(admin_app, "audit")][-1].startswith("refused: usage")  # type: ignore[union-attr]
