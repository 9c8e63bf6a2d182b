"""Issue 13 (understanding): unknown coins are said to be unknown, never answered with the last coin."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from db.models import DailyUsage, User
from standins.exchanges import FakeBinance, FakeBybit, default_specs
from standins.openai_server import ErrorReply, FakeOpenAI
from standins.telegram import FakeTelegramServer
from tests.flow.chat_helpers import ask
from tests.harness import RunningBot, running_bot


async def _questions_today(app: RunningBot, telegram_id: int) -> int:
    async with app.resources.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        assert user is not None
        usage = await session.get(DailyUsage, (user.id, datetime.now(UTC).date()))
    return usage.questions if usage else 0


async def test_unknown_coin_after_a_question_is_said_to_be_unknown_and_free(
    app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI
) -> None:
    ann = tg.add_user("Ann")
    await ask(app_llm, tg, ann, "BTC and ETH on the 4h")
    assert len(llm.chat_requests) == 1 and await _questions_today(app_llm, ann.id) == 1
    messages = await ask(app_llm, tg, ann, "how is FOOBARCOIN doing?")
    assert len(messages) == 1
    assert messages[0].plain_text == "I can't find FOOBARCOIN on Bybit."
    assert len(llm.chat_requests) == 1  # the earlier coins were not analysed again
    assert await _questions_today(app_llm, ann.id) == 1  # and nothing was charged


async def test_near_matches_are_buttons_that_ask_about_the_coin(
    app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI
) -> None:
    ann = tg.add_user("Ann")
    await ask(app_llm, tg, ann, "BTC 4h")
    messages = await ask(app_llm, tg, ann, "how is SOLL doing?")
    assert messages[0].plain_text == "I can't find SOLL on Bybit.\nDid you mean: SOL? Tap one to ask about it."
    assert messages[0].button_texts() == [["SOL"]]
    assert len(llm.chat_requests) == 1
    await tg.press_button(ann, "SOL")
    await tg.wait_until(lambda: len(llm.chat_requests) == 2 and app_llm.resources.inflight.count == 0)
    assert "symbol: SOL/USDT" in llm.chat_requests[-1].messages[-1]["content"]
    assert await _questions_today(app_llm, ann.id) == 2


async def test_unknown_coin_in_chinese_and_in_a_comparison(
    app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI
) -> None:
    li = tg.add_user("Li", language_code="zh-hans")
    await ask(app_llm, tg, li, "ETH 1h")
    zh = await ask(app_llm, tg, li, "FOOBAR币怎么样")
    assert zh[0].plain_text == "在 Bybit 上找不到 FOOBAR。"
    both = await ask(app_llm, tg, li, "比较 BTC 和 FOOBARCOIN")
    assert both[0].plain_text == "在 Bybit 上找不到 FOOBARCOIN。"
    assert len(llm.chat_requests) == 1 and await _questions_today(app_llm, li.id) == 1
    # An ordinary follow-up still reuses the conversation's coin.
    await ask(app_llm, tg, li, "日线呢？")
    assert "symbol: ETH/USDT" in llm.chat_requests[-1].messages[-1]["content"]


async def test_the_configured_exchanges_are_named(
    tg: FakeTelegramServer, llm: FakeOpenAI, settings_factory: Callable[..., Any], exchange: FakeBybit
) -> None:
    async with FakeBinance(default_specs(["BTC", "ETH"]), clock=exchange.clock) as binance:
        settings = settings_factory(
            exchanges=["bybit", "binance"],
            exchange_api_urls={"bybit": exchange.url, "binance": binance.url},
            openai_api_key="sk-test",
            openai_base_url=llm.base_url,
        )
        async with running_bot(settings, tg) as app:
            ann = tg.add_user("Ann")
            messages = await ask(app, tg, ann, "what about FOOBARCOIN?")
    assert messages[0].plain_text == "I can't find FOOBARCOIN on Bybit/Binance."
    assert llm.chat_requests == []


async def test_compare_gives_one_comparison_with_one_chart_charged_once(
    app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI
) -> None:
    ann = tg.add_user("Ann")
    messages = await ask(app_llm, tg, ann, "Compare BTC and ETH")
    prompt = llm.chat_requests[0].messages[-1]["content"]
    assert "symbol: BTC/USDT" in prompt and "symbol: ETH/USDT" in prompt
    assert "comparison: BTC/USDT vs ETH/USDT on 4h, the last 120 shared candles" in prompt
    assert "correlation_of_returns_BTC_ETH: " in prompt and "ratio_BTC_ETH: " in prompt
    photos = [m for m in messages if m.photo is not None]
    assert len(photos) == 1 and photos[0].plain_text.startswith("📊 BTC/USDT vs ETH/USDT · 4h · Bybit\n")
    assert len(llm.chat_requests) == 1 and await _questions_today(app_llm, ann.id) == 1
    # A follow-up keeps comparing the same coins.
    more = await ask(app_llm, tg, ann, "and on the daily?")
    assert "comparison: BTC/USDT vs ETH/USDT on 1d" in llm.chat_requests[-1].messages[-1]["content"]
    captions = [m.plain_text.split("\n")[0] for m in more if m.photo is not None]
    assert captions == ["📊 BTC/USDT vs ETH/USDT · 1d · Bybit"]


async def test_rule_based_comparison_in_both_languages(app: RunningBot, tg: FakeTelegramServer) -> None:
    li = tg.add_user("Li", language_code="zh-hans")
    ann = tg.add_user("Ann")
    zh = await ask(app, tg, li, "比较 BTC 和 ETH")
    en = await ask(app, tg, ann, "BTC vs ETH")
    expected = ((zh, ("价格", "相对强弱", "相关性", "结论")), (en, ("Price", "Relative strength", "Verdict")))
    for messages, words in expected:
        text = messages[0].plain_text
        assert all(word in text for word in words), text
        assert text.count("BTC/ETH") >= 2  # the ratio: relative strength and verdict
        assert "Key levels" not in text and "关键价位：" not in text  # not two stacked analyses
        assert [m.photo is not None for m in messages] == [False, True]
        assert messages[-1].plain_text.startswith("📊 BTC/USDT vs ETH/USDT · 4h · Bybit\n")
    assert await _questions_today(app, li.id) == 1 and await _questions_today(app, ann.id) == 1


async def test_a_failing_model_falls_back_to_the_rule_based_comparison_for_free(
    app_llm: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI
) -> None:
    llm.script(ErrorReply(500, should_retry=False), ErrorReply(500, should_retry=False))
    ann = tg.add_user("Ann")
    messages = await ask(app_llm, tg, ann, "SOL vs ETH 1h", timeout=30)
    assert messages[0].plain_text.startswith("⚠️ The AI analyst is unavailable right now")
    assert "Relative strength: the SOL/ETH ratio" in messages[0].plain_text
    assert messages[-1].plain_text.startswith("📊 SOL/USDT vs ETH/USDT · 1h · Bybit\n")
    assert await _questions_today(app_llm, ann.id) == 0
