"""/balance, /history paging in place, and the out-of-credits answer's buttons."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from handlers.credits_ui import out_of_credits
from services.credits.ledger import credit, debit
from standins.telegram import FakeTelegramServer
from tests.flow.payments_helpers import db_user, offer_menus, wait_text
from tests.harness import RunningBot, running_bot


@pytest.fixture
async def calm_app(tg: FakeTelegramServer, settings_factory: Callable[..., Any]) -> AsyncIterator[RunningBot]:
    async with running_bot(settings_factory(throttle_enabled=False), tg) as running:
        yield running


async def test_balance_of_a_new_user(calm_app: RunningBot, tg: FakeTelegramServer) -> None:
    li = tg.add_user("Li", language_code="zh")
    await tg.send_command(li, "/balance")
    (reply,) = await tg.wait_for_messages(li, 1)
    assert reply.plain_text.splitlines()[:5] == [
        "💼 我的余额",
        "",
        "套餐：免费版",
        "今日剩余免费提问：5 / 5",
        "积分：0（免费次数用完后每次提问 1 积分）",
    ]
    assert "暂无记录。" in reply.plain_text


async def test_balance_shows_the_last_five_transactions(calm_app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann")
    await tg.send_command(ann, "/start")
    await tg.wait_for_messages(ann, 1)
    user = await db_user(calm_app, ann.id)
    async with calm_app.resources.sessionmaker() as session:
        for n in range(1, 8):
            await credit(session, user.id, n, category="purchase", reference_id=f"test:{n}")
        await debit(session, user.id, 3, category="chat", reference_id="test:spend")
    await tg.send_command(ann, "/balance")
    reply = await wait_text(tg, ann, "💼 Your balance")
    lines = [line for line in reply.plain_text.splitlines() if " · balance " in line]
    assert len(lines) == 5
    assert lines[0].startswith("−3 · question · ") and lines[0].endswith("balance 25")
    assert lines[1].startswith("+7 · purchase · ") and lines[1].endswith("balance 28")
    assert "Credits: 25" in reply.plain_text


async def test_history_pages_with_buttons_edit_in_place(calm_app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann")
    await tg.send_command(ann, "/history")
    (empty,) = await tg.wait_for_messages(ann, 1)
    assert "No transactions yet." in empty.plain_text and not empty.buttons()
    user = await db_user(calm_app, ann.id)
    async with calm_app.resources.sessionmaker() as session:
        for n in range(1, 24):
            await credit(session, user.id, n, category="purchase", reference_id=f"test:{n}")
    await tg.send_command(ann, "/history")
    history = (await tg.wait_for_messages(ann, 2))[-1]

    def amounts() -> list[str]:
        return [line.split(" · ")[0] for line in history.plain_text.splitlines() if " · balance " in line]

    assert "page 1" in history.plain_text
    assert amounts() == [f"+{n}" for n in range(23, 13, -1)]
    assert history.button_texts() == [["Older ▶"]]
    await tg.press_button(ann, "Older ▶")
    await tg.wait_until(lambda: "page 2" in history.plain_text, what="page 2")
    assert amounts() == [f"+{n}" for n in range(13, 3, -1)]
    assert history.button_texts() == [["◀ Newer", "Older ▶"]]
    await tg.press_button(ann, "Older ▶")
    await tg.wait_until(lambda: "page 3" in history.plain_text, what="page 3")
    assert amounts() == ["+3", "+2", "+1"]
    assert history.button_texts() == [["◀ Newer"]]
    await tg.press_button(ann, "◀ Newer")
    await tg.wait_until(lambda: "page 2" in history.plain_text, what="back to page 2")
    assert len(tg.bot_messages(ann)) == 2  # edited in place, nothing new sent
    assert len(history.history) >= 3


async def test_out_of_credits_answer_opens_buy_and_invite(calm_app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann")
    li = tg.add_user("Li", language_code="zh")
    for who, locale in ((ann, "en"), (li, "zh")):
        await tg.send_command(who, "/start")
        await tg.wait_for_messages(who, 1)
        text, markup = out_of_credits(calm_app.resources.translations.get(locale), cost=1, available=0)
        await calm_app.bot.send_message(who.id, text, reply_markup=markup)  # what the chat flow sends
    (_, answer) = await tg.wait_for_messages(ann, 2)
    assert answer.plain_text.startswith("🪫 You've used today's free questions and have no credits left.")
    assert answer.button_texts() == [["🛒 Buy credits", "🎁 Invite friends"]]
    (_, zh_answer) = await tg.wait_for_messages(li, 2)
    assert zh_answer.button_texts() == [["🛒 购买积分", "🎁 邀请好友"]]
    assert "积分也已用完" in zh_answer.plain_text

    await tg.press_button(ann, "🛒 Buy credits")
    await tg.wait_until(lambda: bool(offer_menus(tg, ann)), what="the /buy menu")
    await tg.press_button(ann, "🎁 Invite friends")
    invite = await wait_text(tg, ann, "Your personal link")
    assert "https://t.me/coinsight_bot?start=" in invite.plain_text

    text, _ = out_of_credits(calm_app.resources.translations.get("en"), cost=2, available=1)
    assert "and have 1 credit left; a question costs 2." in text


def test_keys_chosen_at_runtime_exist_in_every_locale() -> None:
    from handlers.credits_ui import PRE_CHECKOUT_KEYS, TX_KEYS
    from services.credits.payments import PreCheckoutReason
    from services.i18n import SUPPORTED_LOCALES, Translations

    translations = Translations()
    assert set(PRE_CHECKOUT_KEYS) == set(PreCheckoutReason) - {PreCheckoutReason.OK}
    runtime = {*PRE_CHECKOUT_KEYS.values(), *TX_KEYS.values(), "invoice-package-description"}
    runtime |= {"invoice-plan-description", "package-name-standard", "plan-name-vip", "plan-name-free"}
    for locale in SUPPORTED_LOCALES:
        assert runtime <= translations.keys(locale), locale
