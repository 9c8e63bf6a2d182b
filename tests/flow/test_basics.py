"""Issue 2 flows through the production dispatcher, over HTTP to the fake Bot API."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from db.models import Chat, User
from standins.telegram import FakeTelegramServer
from tests.harness import RunningBot


async def test_start_in_english_and_chinese(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann", "ann", language_code="en")
    li = tg.add_user("李雷", "lilei", language_code="zh-hans")
    await tg.send_command(ann, "/start")
    await tg.send_command(li, "/start")
    (en,) = await tg.wait_for_messages(ann, 1)
    (zh,) = await tg.wait_for_messages(li, 1)
    assert en.plain_text.startswith("👋 Hi, Ann! I'm Coinsight")
    assert zh.plain_text.startswith("👋 你好，李雷！我是 Coinsight")
    async with app.resources.sessionmaker() as session:
        users = {u.telegram_id: u for u in (await session.scalars(select(User))).all()}
        chats = (await session.scalars(select(Chat))).all()
    assert users[ann.id].username == "ann" and users[ann.id].language_code == "en"
    assert users[li.id].first_name == "李雷" and users[li.id].locale is None
    assert {c.id for c in chats} == {ann.id, li.id}


async def test_deep_link_payload_is_kept_for_new_users_only(app: RunningBot, tg: FakeTelegramServer) -> None:
    bob = tg.add_user("Bob", "bob")
    await tg.send_command(bob, "/start", "ref-abc123")
    await tg.wait_for_messages(bob, 1)
    await tg.send_command(bob, "/start", "other")
    await tg.wait_for_messages(bob, 2)
    async with app.resources.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == bob.id))
    assert user is not None and user.start_payload == "ref-abc123"


async def test_language_choice_wins_over_telegram_language(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann", language_code="en")
    await tg.send_command(ann, "/language")
    (menu,) = await tg.wait_for_messages(ann, 1)
    assert menu.button_texts() == [["English", "中文"]]
    await tg.press_button(ann, "中文")
    await tg.wait_until(lambda: tg.bot_messages(ann)[0].plain_text == "✅ 语言已切换为中文。", what="edit")
    await tg.send_command(ann, "/help")
    messages = await tg.wait_for_messages(ann, 2)
    assert messages[-1].plain_text.startswith("我能做什么")
    async with app.resources.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == ann.id))
    assert user is not None and user.locale == "zh"


async def test_settings_shows_language_and_offers_change(app: RunningBot, tg: FakeTelegramServer) -> None:
    li = tg.add_user("Li", language_code="zh")
    await tg.send_command(li, "/settings")
    (settings,) = await tg.wait_for_messages(li, 1)
    assert "语言：中文" in settings.plain_text
    await tg.press_button(li, "🌐 切换语言")
    messages = await tg.wait_for_messages(li, 2)
    assert messages[-1].button_texts() == [["English", "中文"]]


async def test_unknown_command_and_non_text_get_hints(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann", language_code="en")
    await tg.send_command(ann, "/frobnicate")
    await tg.wait_for_messages(ann, 1)
    await tg.send_sticker(ann)
    await tg.wait_for_messages(ann, 2)
    li = tg.add_user("Li", language_code="zh")
    await tg.send_photo(li)
    texts = [m.plain_text for m in await tg.wait_for_messages(ann, 2)]
    assert texts == [
        "I don't know that command. Send /help to see what I can do.",
        "I understand text messages. Ask me about a coin, e.g. how does BTC look?",
    ]
    (zh,) = await tg.wait_for_messages(li, 1)
    assert zh.plain_text.startswith("我能理解文字消息")


async def test_command_menu_is_set_per_language(app: RunningBot, tg: FakeTelegramServer) -> None:
    await tg.wait_until(lambda: len(tg.calls_to("setMyCommands")) == 2, what="the menu in both languages")
    calls = tg.calls_to("setMyCommands")
    by_language = {call.params.get("language_code"): call.params["commands"] for call in calls}
    assert set(by_language) == {None, "zh"}
    english = {c["command"]: c["description"] for c in by_language[None]}
    chinese = {c["command"]: c["description"] for c in by_language["zh"]}
    assert english["help"] == "How to use the bot" and chinese["help"] == "使用说明"
    assert set(english) == set(chinese)


async def test_banned_users_get_one_line_and_nothing_else(app: RunningBot, tg: FakeTelegramServer) -> None:
    eve = tg.add_user("Eve")
    await tg.send_command(eve, "/start")
    await tg.wait_for_messages(eve, 1)
    async with app.resources.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == eve.id))
        assert user is not None
        user.banned = True
        await session.commit()
    await tg.send_command(eve, "/help")
    ann = tg.add_user("Ann")
    await tg.send_command(ann, "/help")
    await tg.wait_for_messages(ann, 1)
    await tg.wait_for_messages(eve, 2)
    await app.settle()
    assert [m.plain_text for m in tg.bot_messages(eve)[1:]] == ["Sorry, this account can no longer use the bot."]


async def test_blocking_and_unblocking_the_bot_is_recorded(app: RunningBot, tg: FakeTelegramServer) -> None:
    ann = tg.add_user("Ann", language_code="en")
    await tg.send_command(ann, "/start")
    await tg.wait_for_messages(ann, 1)

    async def blocked() -> bool | None:
        async with app.resources.sessionmaker() as session:
            return await session.scalar(select(User.bot_blocked).where(User.telegram_id == ann.id))

    assert await blocked() is False
    tg.block_bot(ann)
    await tg.wait_until(lambda: not tg.updates.pending, what="the my_chat_member update consumed")
    for _ in range(50):
        if await blocked():
            break
        await asyncio.sleep(0.05)
    assert await blocked() is True
    tg.unblock_bot(ann)
    for _ in range(50):
        if not await blocked():
            break
        await asyncio.sleep(0.05)
    assert await blocked() is False
    assert tg.bot_messages(ann)[-1].plain_text.startswith("👋 Hi, Ann!")  # nothing sent in between
