"""Issue 4: free-text questions → live numbers + analysis + LLM answer, streamed, with memory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from db.models import ChatMessage, User
from standins.exchanges import FakeBybit, FakeClock, default_specs
from standins.openai_server import FakeOpenAI
from standins.telegram import FakeTelegramServer
from tests.flow.chat_helpers import ask, expected_view, key_numbers
from tests.harness import RunningBot


@pytest.fixture
async def exchange() -> AsyncIterator[FakeBybit]:
    """Frozen market clock, so the bot and the test compute from the very same candles."""
    async with FakeBybit(default_specs(), clock=FakeClock()) as fake:
        yield fake


async def test_english_and_chinese_answers_carry_the_exchange_numbers(
    app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI, exchange: FakeBybit
) -> None:
    ann = tg.add_user("Ann", language_code="en")
    li = tg.add_user("Li", language_code="zh-hans")
    en = await ask(app_llm, tg, ann, "how does SOL look on the 4h?")
    zh = await ask(app_llm, tg, li, "比特币日线怎么样")
    sol = key_numbers(await expected_view(exchange.url, "SOL", "4h"))
    btc = key_numbers(await expected_view(exchange.url, "BTC", "1d"))

    en_request, zh_request = llm.chat_requests
    assert "Answer in English" in en_request.messages[0]["content"]
    assert "Simplified Chinese" in zh_request.messages[0]["content"]
    for request, numbers in ((en_request, sol), (zh_request, btc)):
        prompt = request.messages[-1]["content"]
        for name, value in numbers.items():
            assert f"{name}: {value}" in prompt, (name, value)

    en_text, zh_text = en[0].plain_text, zh[0].plain_text
    assert en_text.startswith("Market analysis") and zh_text.startswith("行情分析")
    assert f"price: {sol['price']}" in en_text and f"rsi14: {sol['rsi14']}" in en_text
    assert f"ema20: {btc['ema20']}" in zh_text
    # A chart photo follows the answer, with the caption every chart has (the one /chart sends).
    assert en[-1].photo is not None and en[-1].photo.data and en[-1].photo.data[:4] == b"\x89PNG"
    assert en[-1].plain_text.startswith("📈 SOL/USDT · 4h · Bybit\n")
    assert zh[-1].plain_text.startswith("📈 BTC/USDT · 1d · Bybit\n价格 ")
    assert tg.count_429 == 0


async def test_follow_up_reuses_the_coin_and_new_forgets_it(
    app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI
) -> None:
    ann = tg.add_user("Ann")
    await ask(app_llm, tg, ann, "ETH on the 1h please")
    await ask(app_llm, tg, ann, "and the daily?")
    follow_up = llm.chat_requests[-1].messages
    assert "symbol: ETH/USDT" in follow_up[-1]["content"] and "timeframe: 1d" in follow_up[-1]["content"]
    # The earlier exchange is in the history sent to the model.
    assert any(m["role"] == "assistant" for m in follow_up[1:-1])
    await tg.send_command(ann, "/new")
    await tg.wait_until(lambda: tg.bot_texts(ann)[-1].startswith("🆕 New conversation"), what="/new")
    reply = await ask(app_llm, tg, ann, "and the weekly?")
    assert reply[-1].plain_text.startswith("Which coin do you mean?")
    assert reply[-1].button_texts() == [["BTC 4h", "ETH daily", "SOL 1h"]]
    assert len(llm.chat_requests) == 2
    async with app_llm.resources.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == ann.id))
        stored = (await session.scalars(select(ChatMessage).order_by(ChatMessage.id))).all()
    assert user is not None and user.dialog_count == 2
    assert [m.role for m in stored] == ["user", "assistant", "user", "assistant"]
    assert stored[1].model == "gpt-4o-mini" and stored[1].tokens > 0


async def test_example_button_asks_the_question(app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI) -> None:
    ann = tg.add_user("Ann")
    await ask(app_llm, tg, ann, "hello there")
    await tg.press_button(ann, "ETH daily")
    await tg.wait_until(lambda: len(llm.chat_requests) == 1 and app_llm.resources.inflight.count == 0)
    assert "symbol: ETH/USDT" in llm.chat_requests[0].messages[-1]["content"]


async def test_long_streamed_answer_arrives_complete_without_429(
    app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI
) -> None:
    from standins.openai_server import Reply

    paragraphs = [
        f"**Point {i}.** " + ("Support holds near the range low while momentum cools. " * 6) for i in range(14)
    ]
    long_answer = "\n\n".join(paragraphs)
    assert len(long_answer) > 4000
    llm.script(Reply(long_answer, chunks=60, delay=0.05))
    ann = tg.add_user("Ann")
    messages = await ask(app_llm, tg, ann, "BTC 4h", timeout=40)
    texts = [m for m in messages if m.photo is None]
    assert len(texts) >= 2
    assert all(len(m.plain_text) <= 4096 for m in texts)
    received = " ".join(" ".join(m.plain_text for m in texts).split())
    assert received == " ".join(long_answer.replace("**", "").split())
    # A private chat: the answer grows in a message draft (previews), then comes as real messages.
    drafts = [c for c in tg.calls_to("sendMessageDraft") if c.params.get("chat_id") in (ann.id, str(ann.id))]
    assert len(drafts) >= 3 and all(c.ok for c in drafts)  # the placeholder, then previews
    assert tg.calls_to("editMessageText") == []
    assert tg.chat(ann).draft is None  # replaced by the final message
    assert tg.count_429 == 0


async def test_broken_markdown_still_reads_well(app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI) -> None:
    from standins.openai_server import Reply

    llm.script(Reply("**Bullish <b>above** 65,000 & `unclosed code\n\n<script>alert(1)</script> _end", chunks=5))
    ann = tg.add_user("Ann")
    messages = await ask(app_llm, tg, ann, "btc?")
    text = messages[0].plain_text
    assert "Bullish" in text and "65,000 &" in text and "<script>alert(1)</script>" in text
    assert all(call.ok for call in tg.calls if call.method in ("sendMessage", "editMessageText"))
