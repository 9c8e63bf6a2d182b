"""/alert, /alerts, /position, /positions through the production dispatcher (fake Bot API over HTTP,
real ccxt → fake Bybit), and an alert fired by the risk tick reaching the chat through the outbox."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from standins.exchanges import FakeBybit
from standins.telegram import FakeMessage, FakeTelegramServer, FakeUser
from tests.harness import RunningBot, running_bot


@pytest.fixture
async def calm(tg: FakeTelegramServer, settings_factory: Callable[..., Any]) -> AsyncIterator[RunningBot]:
    """The bot without flood control: these tests send several commands in a row."""
    async with running_bot(settings_factory(throttle_enabled=False), tg) as running:
        yield running


def new_user(tg: FakeTelegramServer, name: str, language: str) -> FakeUser:
    return tg.add_user(name, language_code=language, user_id=10**12 + secrets.randbelow(10**12))


async def ask(tg: FakeTelegramServer, user: FakeUser, command: str, args: str = "") -> FakeMessage:
    count = len(tg.bot_messages(user))
    await tg.send_command(user, command, args)
    return (await tg.wait_for_messages(user, count + 1, timeout=15))[-1]


async def test_alert_commands_buttons_and_a_fired_alert(
    calm: RunningBot, tg: FakeTelegramServer, exchange: FakeBybit
) -> None:
    ann = new_user(tg, "Ann", "en")
    assert "Price alerts" in (await ask(tg, ann, "/alert")).plain_text
    assert "between 0.1 % and 100 %" in (await ask(tg, ann, "/alert", "btc ±500% 1h")).plain_text
    assert "I don't know the window" in (await ask(tg, ann, "/alert", "btc ±5% 3m")).plain_text
    assert "can't find" in (await ask(tg, ann, "/alert", "zzzcoin > 5")).plain_text

    price = exchange.book.last_price("BTC")
    level = round(price * 1.05)
    created = await ask(tg, ann, "/alert", f"btc > {level}")
    assert created.plain_text.startswith("🔔 Alert set: BTC/USDT above ")
    listing = await ask(tg, ann, "/alerts")
    assert "(1 of 3 active)" in listing.plain_text and listing.button_texts() == [["❌ 1"]]

    exchange.set_price("BTC", level * 1.01)
    report = await calm.resources.services.risk.tick(datetime.now(UTC))
    assert report.fired == 1
    (pushed,) = [m for m in await tg.wait_for_messages(ann, 7, timeout=15) if "rose above" in m.plain_text]
    assert "BTC/USDT" in pushed.plain_text and "/alerts" in pushed.plain_text
    assert (await calm.resources.services.risk.tick(datetime.now(UTC))).fired == 0

    fired = await ask(tg, ann, "/alerts")
    assert "fired" in fired.plain_text and fired.button_texts() == [["❌ 1", "🔁 Re-arm 1"]]
    await tg.press_button(ann, "🔁 Re-arm 1", message_id=fired.message_id)
    await tg.wait_until(lambda: "armed" in fired.plain_text and "fired" not in fired.plain_text, what="re-armed")
    await tg.press_button(ann, "❌ 1", message_id=fired.message_id)
    await tg.wait_until(lambda: "no price alerts" in fired.plain_text, what="deleted")
    assert (await calm.resources.services.risk.tick(datetime.now(UTC))).alerts == 0


async def test_alert_plan_limit_shows_the_upgrade(calm: RunningBot, tg: FakeTelegramServer) -> None:
    bo = new_user(tg, "Bo", "en")
    for n in (1, 2, 3):
        assert "Alert set" in (await ask(tg, bo, "/alert", f"eth > {n}m")).plain_text
    limit = await ask(tg, bo, "/alert", "eth > 4m")
    assert "3 active alerts, the most the Free plan allows" in limit.plain_text and "/buy" in limit.plain_text


async def test_positions_in_chinese(calm: RunningBot, tg: FakeTelegramServer) -> None:
    li = new_user(tg, "李雷", "zh-hans")
    assert "价格提醒" in (await ask(tg, li, "/alert", "btc 高于 很多")).plain_text
    assert "需要开仓价" in (await ask(tg, li, "/position", "add btc 多 10倍")).plain_text
    assert (
        "做多时止损须低于开仓价" in (await ask(tg, li, "/position", "add btc 多 10倍 开仓65000 止损66000")).plain_text
    )
    saved = await ask(tg, li, "/position", "add btc 多 10倍 开仓65000 止损62000")
    assert "持仓已保存" in saved.plain_text and "强平价 ≈ 58,825" in saved.plain_text
    assert "维持保证金率 0.50%" in saved.plain_text
    listing = await ask(tg, li, "/positions")
    assert listing.button_texts() == [["✅ 平仓 1", "❌ 1"]]
    await tg.press_button(li, "✅ 平仓 1", message_id=listing.message_id)
    await tg.wait_until(lambda: "你还没有持仓" in listing.plain_text, what="closed")
    assert "无法计算强平价" in (await ask(tg, li, "/position", "add sol 空 125x 开仓 150")).plain_text


async def test_a_fired_alert_is_re_armed_from_its_own_message(
    calm: RunningBot, tg: FakeTelegramServer, exchange: FakeBybit
) -> None:
    cy = new_user(tg, "Cy", "en")
    level = round(exchange.book.last_price("SOL") * 0.95, 2)
    assert "Alert set" in (await ask(tg, cy, "/alert", f"sol < {level}")).plain_text
    risk = calm.resources.services.risk

    exchange.set_price("SOL", level * 0.98)
    assert (await risk.tick(datetime.now(UTC))).fired == 1
    (pushed,) = [m for m in await tg.wait_for_messages(cy, 2, timeout=15) if "fell below" in m.plain_text]
    assert pushed.button_texts() == [["🔁 Re-arm this alert"]]
    exchange.set_price("SOL", level * 1.02)
    assert (await risk.tick(datetime.now(UTC))).fired == 0

    await tg.press_button(cy, "🔁 Re-arm this alert", message_id=pushed.message_id)
    await tg.wait_until(lambda: pushed.button_texts() == [], what="the button gone once re-armed")
    assert "fell below" in pushed.plain_text  # the alert's own text stays
    exchange.set_price("SOL", level * 0.97)
    assert (await risk.tick(datetime.now(UTC))).fired == 1
    fired = [m for m in await tg.wait_for_messages(cy, 3, timeout=15) if "fell below" in m.plain_text]
    assert len(fired) == 2
