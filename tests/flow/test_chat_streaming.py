"""Issue 13 (1, 2, 5): answers streamed as message drafts in private chats and as edits in groups,
stopped by the asker (the model's request cancelled, nothing charged), and never showing the system
prompt even when the model reproduces it on its own."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.settings import Settings
from db.models import CreditAccount, CreditHold, DailyUsage, User
from services.credits import ledger
from services.llm.prompts import canary
from standins.openai_server import ErrorReply, FakeOpenAI, Reply
from standins.telegram import Call, FakeTelegramServer, FakeUser
from tests.flow.chat_helpers import ask
from tests.harness import RunningBot, running_bot

THINKING = "🤔 Looking at the market…"
STOPPED = "⏹ Stopped — nothing was charged."
SHOWN_METHODS = ("sendMessage", "sendMessageDraft", "editMessageText", "sendPhoto")
LONG = "\n\n".join(
    f"**Point {i}.** " + "Support holds near the range low while momentum cools. " * 6 for i in range(14)
)


def _to(chat_id: int, method: str, tg: FakeTelegramServer) -> list[Call]:
    return [c for c in tg.calls_to(method) if c.params.get("chat_id") in (chat_id, str(chat_id))]


def _shown_texts(tg: FakeTelegramServer) -> list[str]:
    """Every text or caption the bot asked Telegram to show, drafts and refused calls included."""
    return [str(c.params.get("text") or c.params.get("caption") or "") for c in tg.calls if c.method in SHOWN_METHODS]


async def _funded_user(app: RunningBot, tg: FakeTelegramServer, name: str, credits: int) -> tuple[FakeUser, int]:
    """A user whose free questions are used up today and who has `credits` credits."""
    user = tg.add_user(name)
    await tg.send_command(user, "/start")
    await tg.wait_until(lambda: bool(tg.bot_messages(user)) and app.resources.inflight.count == 0, what="/start")
    async with app.resources.sessionmaker() as session:
        row = await session.scalar(select(User).where(User.telegram_id == user.id))
        assert row is not None
        session.add(DailyUsage(user_id=row.id, day=datetime.now(UTC).date(), questions=5))
        await session.commit()
        await ledger.credit(session, row.id, credits, category="admin_grant", reference_id=f"grant-{user.id}")
    return user, row.id


async def _balance(app: RunningBot, user_id: int) -> int:
    async with app.resources.sessionmaker() as session:
        account = await session.scalar(select(CreditAccount).where(CreditAccount.user_id == user_id))
    return account.available if account else 0


async def _hold_statuses(app: RunningBot) -> list[str]:
    async with app.resources.sessionmaker() as session:
        return list((await session.scalars(select(CreditHold.status))).all())


async def test_private_chat_streams_a_draft_from_before_the_first_token_to_a_real_message(
    app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI
) -> None:
    first_token = asyncio.Event()
    llm.script(Reply("## BTC\n\nHolding **65,000** support. Not financial advice.", chunks=5, hold=first_token))
    ann = tg.add_user("Ann")
    await tg.send_message(ann, "how does BTC look on the 4h?")
    placeholder = await tg.wait_for_call("sendMessageDraft", timeout=10)
    (request,) = await llm.wait_for_chat_requests(1)
    # The model has not produced a token yet (it is held): the placeholder came first.
    assert request.first_chunk_time is None
    assert placeholder.ok and placeholder.params["text"] == THINKING and placeholder.params["can_stop"] is True
    shown = tg.chat(ann).draft
    assert shown is not None and shown.text == THINKING
    first_token.set()
    await tg.wait_until(lambda: app_llm.resources.inflight.count == 0 and len(tg.bot_messages(ann)) >= 2, timeout=20)
    drafts = _to(ann.id, "sendMessageDraft", tg)
    assert len({c.params["draft_id"] for c in drafts}) == 1 and all(c.params["can_stop"] is True for c in drafts)
    answer, chart = tg.bot_messages(ann)
    assert answer.plain_text == "BTC\n\nHolding 65,000 support. Not financial advice."
    assert chart.photo is not None
    assert tg.chat(ann).draft is None and _to(ann.id, "editMessageText", tg) == []
    assert tg.count_429 == 0


async def test_a_4000_character_answer_streams_without_429_and_arrives_whole(
    app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI
) -> None:
    assert len(LONG) > 4000
    llm.script(Reply(LONG, chunks=80, delay=0.03))
    ann = tg.add_user("Ann")
    messages = await ask(app_llm, tg, ann, "BTC 4h", timeout=40)
    texts = [m.plain_text for m in messages if m.photo is None]
    assert len(texts) == 2 and all(len(text) <= 4096 for text in texts)
    assert " ".join(" ".join(texts).split()) == " ".join(LONG.replace("**", "").split())
    previews = [c for c in _to(ann.id, "sendMessageDraft", tg) if c.params["text"] != THINKING]
    assert len(previews) >= 2 and all(c.ok for c in previews)
    assert tg.count_429 == 0


async def test_groups_get_throttled_edits_with_a_stop_button_and_no_drafts(
    app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI
) -> None:
    llm.script(Reply("ETH grinds higher above **3,050**. Not financial advice.", chunks=6, delay=0.05))
    owner = tg.add_user("Owner")
    group = tg.add_group("Traders", owner, bot_status="administrator")
    await tg.send_message(owner, "@coinsight_bot how does ETH look?", chat=group)
    await tg.wait_until(lambda: len(llm.chat_requests) == 1 and app_llm.resources.inflight.count == 0, timeout=20)
    assert tg.calls_to("sendMessageDraft") == []
    answer = next(m for m in tg.bot_messages(group) if m.photo is None)
    assert answer.plain_text == "ETH grinds higher above 3,050. Not financial advice."
    assert answer.reply_markup is None  # the final text took the Stop button away
    assert answer.history and answer.history[0].reply_markup is not None
    assert [b["text"] for row in answer.history[0].reply_markup["inline_keyboard"] for b in row] == ["⏹ Stop"]


async def test_stopping_the_draft_cancels_the_model_keeps_the_text_and_charges_nothing(
    app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI
) -> None:
    ann, user_id = await _funded_user(app_llm, tg, "Ann", credits=3)
    llm.script(Reply(LONG, chunks=400, delay=0.05))  # ~20 s: stopped long before its end
    await tg.send_message(ann, "BTC 4h")
    await tg.wait_for_call(
        "sendMessageDraft", lambda c: "Point 0.</b> Support" in str(c.params.get("text")), timeout=20
    )
    (request,) = llm.chat_requests
    assert await _hold_statuses(app_llm) == ["held"]
    tg.stop_generation(ann)
    await llm.wait_disconnected(request, timeout=10)  # the model's request was cancelled
    await tg.wait_until(lambda: app_llm.resources.inflight.count == 0 and bool(tg.bot_messages(ann)[1:]), timeout=20)
    final = tg.bot_messages(ann)[-1]
    assert final.photo is None and final.plain_text.endswith(STOPPED)
    kept = final.plain_text.removesuffix(STOPPED).strip()
    assert kept.startswith("Point 0.") and " ".join(LONG.replace("**", "").split()).startswith(" ".join(kept.split()))
    assert len(kept) < len(LONG) / 2
    assert await _balance(app_llm, user_id) == 3 and await _hold_statuses(app_llm) == ["released"]
    assert tg.count_429 == 0


async def test_only_the_asker_can_stop_a_group_answer(
    app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI
) -> None:
    llm.script(Reply(LONG, chunks=400, delay=0.05))
    owner, other = tg.add_user("Owner"), tg.add_user("Bob")
    group = tg.add_group("Traders", owner, members=[other], bot_status="administrator")
    await tg.send_message(owner, "@coinsight_bot BTC 4h", chat=group)
    await tg.wait_until(lambda: any(m.find_button("⏹ Stop") for m in tg.bot_messages(group)), timeout=20)
    pressed = await tg.press_button(other, "⏹ Stop", chat=group)
    toast = await tg.wait_callback_answer(pressed["callback_query"]["id"])
    assert toast.get("text") == "Only the person who asked can stop this answer."
    (request,) = llm.chat_requests
    assert not request.disconnected
    pressed = await tg.press_button(owner, "⏹ Stop", chat=group)
    await llm.wait_disconnected(request, timeout=10)
    await tg.wait_until(lambda: app_llm.resources.inflight.count == 0, timeout=20)
    (answer,) = [m for m in tg.bot_messages(group) if m.photo is None]
    # The text so far is kept (a number at its end may still be held back by the number check).
    kept = answer.plain_text.removesuffix(STOPPED).strip()
    assert kept and LONG.replace("**", "").startswith(kept) and answer.plain_text.endswith(STOPPED)
    assert answer.reply_markup is None


def _flat(text: str) -> str:
    """Text as read: no tags, entities decoded, no Markdown marks, case and spacing ignored."""
    return " ".join(re.sub(r"<[^>]*>|[>*_`#]", " ", html.unescape(text)).lower().split())


def _leaks(text: str, system: str) -> bool:
    flat, prompt = _flat(text), _flat(system)
    return canary() in flat or any(prompt[i : i + 50] in flat for i in range(max(1, len(prompt) - 49)))


@pytest.mark.parametrize("leak", ["prompt", "canary"])
async def test_a_model_leaking_its_prompt_on_an_innocent_question_is_cut_off(
    app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI, caplog: pytest.LogCaptureFixture, leak: str
) -> None:
    def misbehaving(body: dict[str, object]) -> str:
        system = body["messages"][0]["content"]  # type: ignore[index]
        if leak == "canary":
            return f"BTC trades near its range high. Session reference: {canary()} — keep it handy."
        # Innocent start, then the prompt re-wrapped as a quote, split over many chunks.
        return "BTC trades near its range high.\n\n> " + re.sub(r"\s+", "\n> ", str(system))

    llm.responder, llm.default_chunks = misbehaving, 97
    ann = tg.add_user("Ann")
    li = tg.add_user("Li", language_code="zh")
    caplog.set_level(logging.INFO)
    en = await ask(app_llm, tg, ann, "how does BTC look today?")
    zh = await ask(app_llm, tg, li, "比特币现在怎么样？")
    systems = [r.messages[0]["content"] for r in llm.chat_requests]
    for text in _shown_texts(tg):
        assert not any(_leaks(text, system) for system in systems), text
    assert [m.plain_text for m in en] == [
        "I'm Coinsight, your market analyst — I keep my working notes to myself. Ask me about a coin, "
        "a level or a timeframe and I'll dig into the data."
    ]
    assert zh[-1].plain_text.startswith("我是 Coinsight 市场分析师") and zh[-1].photo is None
    blocked = [r for r in caplog.records if "prompt leak blocked" in r.getMessage()]
    assert len(blocked) == 2 and all(leak in r.getMessage() for r in blocked)
    async with app_llm.resources.sessionmaker() as session:
        used = (await session.scalars(select(DailyUsage.questions))).all()
    assert sum(used) == 0  # refused answers cost nothing


async def test_llm_down_still_answers_by_rules_through_the_draft(
    app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI
) -> None:
    llm.script(ErrorReply(500, should_retry=False), ErrorReply(500, should_retry=False))
    ann = tg.add_user("Ann")
    messages = await ask(app_llm, tg, ann, "BTC 4h")
    assert messages[0].plain_text.startswith("⚠️ The AI analyst is unavailable right now")
    assert messages[-1].photo is not None
    drafts = _to(ann.id, "sendMessageDraft", tg)
    assert drafts[0].params["text"] == THINKING and all(c.ok for c in drafts)
    assert _to(ann.id, "editMessageText", tg) == [] and tg.count_429 == 0


async def test_a_question_stopped_while_it_waits_for_its_turn_never_reaches_the_model(
    tg: FakeTelegramServer, llm: FakeOpenAI, settings_factory: Callable[..., Settings]
) -> None:
    settings = settings_factory(
        openai_api_key="sk-test", openai_base_url=llm.base_url, llm_max_retries=0, answer_concurrency=1
    )
    release = asyncio.Event()
    llm.script(Reply("BTC answer.", chunks=2, hold=release))
    async with running_bot(settings, tg) as app:
        ann, bob = tg.add_user("Ann"), tg.add_user("Bob")
        await tg.send_message(ann, "BTC 4h")
        await llm.wait_for_chat_requests(1)  # Ann's answer holds the only answer slot
        await tg.send_message(bob, "ETH 4h")
        await tg.wait_until(lambda: app.resources.services.answer_slots.waiting == 1, what="Bob waiting his turn")
        shown = tg.chat(bob).draft
        assert shown is not None and shown.text == THINKING and shown.can_stop
        tg.stop_generation(bob)
        release.set()
        await tg.wait_until(lambda: app.resources.inflight.count == 0 and bool(tg.bot_messages(bob)), timeout=20)
        assert [m.plain_text for m in tg.bot_messages(bob)] == [STOPPED]
        assert len(llm.chat_requests) == 1  # Bob's question never reached the model
        async with app.resources.sessionmaker() as session:
            rows = {u.telegram_id: u.id for u in (await session.scalars(select(User))).all()}
            usage = {row.user_id: row.questions for row in (await session.scalars(select(DailyUsage))).all()}
        assert usage.get(rows[bob.id], 0) == 0 and usage[rows[ann.id]] == 1
