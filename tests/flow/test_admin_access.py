"""Who sees the operators' commands, and what a ban does: for everyone but an operator the admin
commands (and forged admin buttons) are the ordinary unknown command and change nothing; a banned
user gets one polite line, in their language, costs no LLM or exchange call, and is back after
/unban."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from standins.exchanges import FakeBybit
from standins.openai_server import FakeOpenAI
from standins.telegram import FakeTelegramServer, FakeUser, bad_request, too_many_requests
from tests.flow.admin_helpers import (
    UNKNOWN_COMMAND,
    audit_rows,
    balance,
    command_reply,
    db_user,
    press_data,
    snapshot,
    started,
)
from tests.flow.chat_helpers import ask
from tests.harness import RunningBot, running_bot

BANNED_EN = "Sorry, this account can no longer use the bot."
BANNED_ZH = "抱歉，此账号已无法继续使用本机器人。"


@pytest.fixture
def operator(tg: FakeTelegramServer) -> FakeUser:
    return tg.add_user("Olga", "olga", language_code="en")


@pytest.fixture
async def admin_app(
    tg: FakeTelegramServer, llm: FakeOpenAI, settings_factory: Callable[..., Any], operator: FakeUser
) -> AsyncIterator[RunningBot]:
    settings = settings_factory(
        throttle_enabled=False,
        admin_ids=[operator.id],
        openai_api_key="sk-test",
        openai_base_url=llm.base_url,
        llm_max_retries=0,
    )
    async with running_bot(settings, tg) as running:
        yield running


async def test_admin_commands_are_an_unknown_command_for_everyone_else(
    admin_app: RunningBot, tg: FakeTelegramServer, operator: FakeUser
) -> None:
    ann, bob = tg.add_user("Ann", "ann"), tg.add_user("Bob", "bob")
    await started(tg, ann, bob)
    await command_reply(tg, operator, f"/grant {bob.id} 10 seed")  # Bob has credits to revoke
    assert await command_reply(tg, ann, "/frobnicate") == UNKNOWN_COMMAND
    before = await snapshot(admin_app)
    for text in (
        "/admin",
        "/stats",
        f"/user {bob.id}",
        f"/grant {bob.id} 50 gift",
        "/revoke @bob 5 oops",
        "/plan @bob vip 30",
        "/ban @bob",
        f"/unban {bob.id}",
        "/audit",
        "/audit 5 @bob",
        "/grant",  # malformed: still nothing but the unknown command
        f"/refund stxn{bob.id}",
    ):
        assert await command_reply(tg, ann, text) == UNKNOWN_COMMAND, text
    # A forged button of the operator's menus, pressed by Ann: answered (no spinner), nothing done.
    welcome = tg.bot_messages(ann)[0]
    for data in (f"admu:ban:{bob.id}", f"admu:vip:{bob.id}", "adm:stats"):
        query = await press_data(tg, ann, welcome, data)
        answer = await tg.wait_callback_answer(query)
        assert not answer.get("text")
    await admin_app.settle()
    assert await snapshot(admin_app) == before
    assert await balance(admin_app, bob.id) == 10
    assert [row.actor_telegram_id for row in await audit_rows(admin_app)] == [operator.id]


async def test_a_banned_user_gets_one_line_and_costs_nothing(
    admin_app: RunningBot, tg: FakeTelegramServer, operator: FakeUser, llm: FakeOpenAI, exchange: FakeBybit
) -> None:
    ann, zhang = tg.add_user("Ann", "ann", language_code="en"), tg.add_user("Zhang", "zhang", language_code="zh-hans")
    await started(tg, ann, zhang)
    await tg.send_command(ann, "/language")
    await tg.wait_for_messages(ann, 2)
    language_menu = tg.bot_messages(ann)[-1]
    assert (
        await command_reply(tg, operator, "/ban @ann flooding")
        == f"🚫 User {ann.id} is banned: they get one polite line and nothing else."
    )
    assert (
        await command_reply(tg, operator, f"/ban {zhang.id}")
        == f"🚫 User {zhang.id} is banned: they get one polite line and nothing else."
    )
    exchange_calls, llm_calls = len(exchange.requests), len(llm.chat_requests)

    replies = await ask(admin_app, tg, ann, "How does BTC look on the 4h?")
    assert [m.plain_text for m in replies] == [BANNED_EN]
    assert [m.plain_text for m in await ask(admin_app, tg, zhang, "比特币今天怎么样")] == [BANNED_ZH]
    # More messages at once: still the one line (not one per message), and no work for any of them.
    count = len(tg.bot_messages(ann))
    for text in ("ETH 1h", "/help", "/price SOL"):
        await tg.send_message(ann, text)
    await admin_app.settle()
    assert len(tg.bot_messages(ann)) == count
    # A button pressed by a banned user is answered with the line, and does nothing.
    query = await press_data(tg, ann, language_menu, "lang:zh")
    assert (await tg.wait_callback_answer(query)).get("text") == BANNED_EN
    await admin_app.settle()
    assert (await db_user(admin_app, ann.id)).locale is None
    assert len(exchange.requests) == exchange_calls and len(llm.chat_requests) == llm_calls == 0
    assert await balance(admin_app, ann.id) == 0

    assert await command_reply(tg, operator, "/unban @ann") == f"✅ User {ann.id} is no longer banned."
    assert (await command_reply(tg, ann, "/help")).startswith("What I can do")
    assert await command_reply(tg, operator, "/unban @ann") == f"User {ann.id} was not banned."
    rows = [(row.action, row.target, row.details) for row in await audit_rows(admin_app)]
    assert rows == [
        ("ban", str(ann.id), "done reason='flooding'"),
        ("ban", str(zhang.id), "done reason=''"),
        ("unban", str(ann.id), "done reason=''"),
        ("unban", str(ann.id), "unchanged reason=''"),
    ]


async def test_an_operator_cannot_be_banned_and_bad_input_gets_usage(
    admin_app: RunningBot, tg: FakeTelegramServer, operator: FakeUser
) -> None:
    assert (
        await command_reply(tg, operator, "/ban @olga") == f"❌ User {operator.id} is an operator and cannot be banned."
    )
    assert not (await db_user(admin_app, operator.id)).banned
    assert (await command_reply(tg, operator, "/ban")).startswith("Usage: /ban <user> [reason]")
    assert (await command_reply(tg, operator, "/unban @a b")).startswith("Usage: /unban <user>")
    assert (await command_reply(tg, operator, "/user")).startswith("Usage: /user <id|@username>")
    no_user = await command_reply(tg, operator, "/user 42")
    assert no_user == "No user 42 in the database (they must have started the bot)."
    # A profile's button for a user who is gone: an alert, nothing else.
    query = await press_data(tg, operator, tg.bot_messages(operator)[-1], "admu:ban:42")
    answer = await tg.wait_callback_answer(query)
    assert answer.get("text") == no_user and answer.get("show_alert") in (True, "true")
    rows = [(row.action, row.details) for row in await audit_rows(admin_app)]
    assert rows == [
        ("ban", "refused: an operator cannot be banned"),
        ("ban", "refused: usage: ''"),
        ("unban", "refused: usage: '@a b'"),
        ("user", "refused: usage: ''"),
        ("user", "refused: no such user"),
        ("button_ban", "refused: no such user"),
    ]


async def test_a_notice_telegram_refuses_is_dropped_quietly(
    admin_app: RunningBot, tg: FakeTelegramServer, operator: FakeUser
) -> None:
    ann = tg.add_user("Ann", "ann")
    await started(tg, ann)
    await command_reply(tg, operator, "/ban @ann")
    tg.inject_error(bad_request("chat not found"), method="sendMessage", chat_id=ann.id)
    await tg.send_message(ann, "BTC?")
    await admin_app.settle()
    [refused] = [call for call in tg.calls_to("sendMessage") if call.params.get("chat_id") == ann.id][-1:]
    assert refused.status == 400
    assert len(tg.bot_messages(ann)) == 1  # the welcome only: no notice, no error text
    assert (await command_reply(tg, operator, "/stats")).startswith("📊 Stats")  # the bot goes on


async def test_stats_count_telegrams_429s(admin_app: RunningBot, tg: FakeTelegramServer, operator: FakeUser) -> None:
    ann = tg.add_user("Ann", "ann")
    tg.inject_error(too_many_requests(1), method="sendMessage", chat_id=ann.id, count=2)
    await started(tg, ann)  # the welcome: two 429s, then sent (the limiter waits and tries again)
    stats = await command_reply(tg, operator, "/stats")
    assert "429s in the last hour 2 (outbox rows waiting after one: 0)" in stats
