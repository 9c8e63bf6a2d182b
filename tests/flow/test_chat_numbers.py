"""Issue 13 (3, 7): a price the model invents is never shown as fact, and the answer is in the
language of the question whatever the interface language."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from db.models import User
from services.format import format_price
from standins.exchanges import FakeBybit, FakeClock, default_specs
from standins.openai_server import FakeOpenAI, Reply
from standins.telegram import FakeTelegramServer
from tests.flow.chat_helpers import ask, expected_view
from tests.harness import RunningBot


@pytest.fixture
async def exchange() -> AsyncIterator[FakeBybit]:
    """Frozen market clock, so the bot and the test compute from the very same candles."""
    async with FakeBybit(default_specs(), clock=FakeClock()) as fake:
        yield fake


def shown_texts(tg: FakeTelegramServer, chat_id: int) -> list[str]:
    """Every text the bot put on the user's screen: sent messages, every edit, every draft."""
    texts: list[str] = []
    for method in ("sendMessage", "editMessageText", "sendMessageDraft"):
        for call in tg.calls_to(method):
            if str(call.params.get("chat_id")) == str(chat_id) and call.params.get("text"):
                texts.append(html.unescape(str(call.params["text"])))
    return texts


async def test_an_invented_price_is_never_shown_as_fact(
    app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI, exchange: FakeBybit
) -> None:
    view = await expected_view(exchange.url, "ETH", "4h")
    price = format_price(view.ticker.price)
    invented = format_price(view.ticker.price * 1.137 + 0.37)  # no level, no round number, no ATR step
    support = format_price(view.analysis.levels.support[0].price)
    answer = (
        f"**ETH** trades at {price}. Support sits at **{support}**, and the next resistance is "
        f"**{invented}**, where sellers stepped in last month.\n\n_Not financial advice._"
    )
    llm.script(Reply(answer, chunks=40, delay=0.01))
    ann = tg.add_user("Ann", language_code="en")
    messages = await ask(app_llm, tg, ann, "how does ETH look on the 4h?")

    final = messages[0].plain_text
    assert f"{invented} (⚠️ unverified)" in final
    assert "Numbers marked “unverified” are not in the live market data" in final
    assert f"{price} (" not in final and f"{support} (" not in final  # the data's numbers are left alone
    shown = shown_texts(tg, ann.id)
    assert len(shown) >= 2  # previews while streaming, then the final text
    for text in shown:
        if invented in text:
            assert f"{invented} (⚠️ unverified)" in text, text
    counts = app_llm.resources.services.chat_service.numbers
    assert counts.answers == 1 and counts.answers_unverified == 1 and counts.numbers_unverified == 1


async def test_an_answer_built_from_the_data_is_left_as_it_is(
    app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI
) -> None:
    ann = tg.add_user("Ann", language_code="en")
    # The stand-in model repeats the data block and the question: the user's own number is no invention.
    messages = await ask(app_llm, tg, ann, "can SOL get back to 171.37 this week?")
    assert "171.37" in messages[0].plain_text and "unverified" not in messages[0].plain_text
    counts = app_llm.resources.services.chat_service.numbers
    assert counts.answers == 1 and counts.numbers > 10 and counts.numbers_unverified == 0


async def test_a_chinese_question_gets_a_chinese_answer_in_an_english_interface(
    app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI
) -> None:
    ann = tg.add_user("Ann", language_code="en")
    zh = await ask(app_llm, tg, ann, "以太坊今天怎么样？")
    assert "Simplified Chinese" in llm.chat_requests[-1].messages[0]["content"]
    assert "timeframe: 1d" in llm.chat_requests[-1].messages[-1]["content"]  # 今天 → the daily view
    assert "question_horizon: today" in llm.chat_requests[-1].messages[-1]["content"]
    assert zh[0].plain_text.startswith("行情分析")
    en = await ask(app_llm, tg, ann, "and how does it look short term?")
    assert "Answer in English" in llm.chat_requests[-1].messages[0]["content"]
    assert "timeframe: 1h" in llm.chat_requests[-1].messages[-1]["content"]  # short term → 1h
    assert en[0].plain_text.startswith("Market analysis")
    async with app_llm.resources.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == ann.id))
    assert user is not None and user.locale != "zh"  # the interface language stays as set (Telegram's "en")
    await tg.send_command(ann, "/new")
    await tg.wait_until(lambda: tg.bot_texts(ann)[-1].startswith("🆕 New conversation"), what="/new in English")


async def test_the_rule_based_answer_follows_the_question_language_too(app: RunningBot, tg: FakeTelegramServer) -> None:
    li = tg.add_user("Li", language_code="zh-hans")
    en = await ask(app, tg, li, "how does BTC look today?")
    assert en[0].plain_text.startswith("🤖 Automatic analysis")
    assert "BTC/USDT · 1d" in en[0].plain_text
    ann = tg.add_user("Ann", language_code="en")
    zh = await ask(app, tg, ann, "比特币短线怎么看")
    assert zh[0].plain_text.startswith("🤖 自动分析")
    assert "BTC/USDT · 1h" in zh[0].plain_text
    ticker_only = await ask(app, tg, li, "ETH 4h")  # no words: the interface language
    assert ticker_only[0].plain_text.startswith("🤖 自动分析")


async def test_a_timeframe_written_in_the_question_wins_over_a_time_word(
    app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI
) -> None:
    ann = tg.add_user("Ann", language_code="en")
    await ask(app_llm, tg, ann, "BTC 4h, how is it doing today?")
    prompt = llm.chat_requests[-1].messages[-1]["content"]
    assert "timeframe: 4h" in prompt and "question_horizon: today" in prompt
    await ask(app_llm, tg, ann, "and the long term?")  # a follow-up: the coin is kept, the horizon picks 1d
    prompt = llm.chat_requests[-1].messages[-1]["content"]
    assert "symbol: BTC/USDT" in prompt and "timeframe: 1d" in prompt and "question_horizon: long term" in prompt
