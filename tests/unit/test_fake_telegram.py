"""The fake Bot API server, driven by the real aiogram Bot over HTTP: messages, validation, limits."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyParameters,
)

from standins.telegram import FakeTelegramServer, ManualClock, RateLimits, make_bot, make_png


@pytest.fixture
async def server():
    async with FakeTelegramServer() as srv:
        yield srv


@pytest.fixture
async def bot(server):
    client = make_bot(server)
    yield client
    await client.session.close()


@pytest.fixture
def ann(server):
    return server.add_user("Ann", "ann", language_code="en")


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=f"cb:{label}") for label in labels]]
    )


async def test_get_me_parses_with_the_plain_aiohttp_session(server):
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    client = Bot(server.token, session=session, default=DefaultBotProperties(parse_mode="HTML"))
    try:
        me = await client.get_me()
    finally:
        await session.close()
    assert me.id == 123456789
    assert me.is_bot is True
    assert me.username == "coinsight_test_bot"
    assert me.can_join_groups is True
    assert me.can_read_all_group_messages is False
    assert me.supports_inline_queries is False
    assert server.calls_to("getme")[0].status == 200


async def test_send_message_is_recorded_and_visible(server, bot, ann):
    sent = await bot.send_message(ann.id, "<b>BTC</b> is up &amp; <a href='https://x.io/c'>chart</a>")
    assert sent.text == "BTC is up & chart"
    assert sent.from_user is not None and sent.from_user.id == server.bot_user.id
    assert sent.chat.id == ann.id and sent.message_id == 1
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [("bold", 0, 3), ("text_link", 12, 5)]
    call = server.calls_to("sendMessage")[0]
    assert call.params["chat_id"] == ann.id
    assert call.params["parse_mode"] == "HTML"
    assert call.status == 200 and call.response["message_id"] == 1
    shown = server.bot_messages(ann)
    assert [m.plain_text for m in shown] == ["BTC is up & chart (https://x.io/c)"]
    assert shown[0].source == "<b>BTC</b> is up &amp; <a href='https://x.io/c'>chart</a>"
    second = await bot.send_message(ann.id, "two")
    assert second.message_id == 2


async def test_bad_html_is_rejected_like_telegram(bot, ann, server):
    with pytest.raises(TelegramBadRequest) as bad_tag:
        await bot.send_message(ann.id, "<foo>x</foo>")
    assert bad_tag.value.message == ('Bad Request: can\'t parse entities: Unsupported start tag "foo" at byte offset 0')
    with pytest.raises(TelegramBadRequest, match='Can\'t find end tag corresponding to start tag "b"'):
        await bot.send_message(ann.id, "<b>bold")
    with pytest.raises(TelegramBadRequest, match='Unmatched end tag at byte offset 7, expected "</b>", found "</i>"'):
        await bot.send_message(ann.id, "<b>bold</i>")
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "" at byte offset 6'):
        await bot.send_message(ann.id, "price < 5")
    assert server.bot_messages(ann) == []
    assert [c.status for c in server.calls_to("sendMessage")] == [400, 400, 400, 400]
    # Without parse_mode the same text is plain text.
    plain = await bot.send_message(ann.id, "price < 5 <foo>", parse_mode=None)
    assert plain.text == "price < 5 <foo>"


async def test_text_length_is_measured_after_entity_parsing(bot, ann):
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(ann.id, "x" * 4097)
    long_with_tags = "<b>" + "x" * 4000 + "</b><i>" + "y" * 96 + "</i>"
    sent = await bot.send_message(ann.id, long_with_tags)
    assert sent.text is not None and len(sent.text) == 4096
    escaped = "&lt;" * 4096  # 16 384 characters of HTML, 4096 visible
    assert (await bot.send_message(ann.id, escaped)).text == "<" * 4096
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ann.id, "😀" * 2049)  # 4098 UTF-16 code units


async def test_empty_text_is_rejected(bot, ann):
    with pytest.raises(TelegramBadRequest, match=r"^Telegram server says - Bad Request: message text is empty$"):
        await bot.send_message(ann.id, "")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(ann.id, "<b> </b>\n")


async def test_edits_follow_telegram_rules(server, bot, ann):
    sent = await bot.send_message(ann.id, "<b>Price</b> 100", reply_markup=keyboard("Refresh"))
    with pytest.raises(TelegramBadRequest) as same:
        await bot.edit_message_text(
            text="<b>Price</b> 100", chat_id=ann.id, message_id=sent.message_id, reply_markup=keyboard("Refresh")
        )
    assert "message is not modified: specified new message content and reply markup are exactly the same" in (
        same.value.message
    )
    # Same text but no reply_markup: Telegram removes the keyboard, which is a modification.
    edited = await bot.edit_message_text(text="<b>Price</b> 100", chat_id=ann.id, message_id=sent.message_id)
    assert edited.reply_markup is None and edited.edit_date is not None
    await bot.edit_message_reply_markup(chat_id=ann.id, message_id=sent.message_id, reply_markup=keyboard("A", "B"))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=ann.id, message_id=sent.message_id, reply_markup=keyboard("A", "B"))
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=ann.id, message_id=99)
    message = server.bot_messages(ann)[0]
    assert message.plain_text == "Price 100"
    assert message.button_texts() == [["A", "B"]]
    assert len(message.history) == 2 and message.history[0].reply_markup is not None
    assert await bot.delete_message(ann.id, sent.message_id) is True
    assert server.bot_messages(ann) == []
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="gone", chat_id=ann.id, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(ann.id, sent.message_id)


async def test_keyboards_replies_and_button_data_limits(server, bot, ann):
    with pytest.raises(TelegramBadRequest, match=r"^Telegram server says - Bad Request: BUTTON_DATA_INVALID$"):
        await bot.send_message(
            ann.id,
            "x",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="long", callback_data="x" * 65)]]
            ),
        )
    ok = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="max", callback_data="é" * 32)]])
    first = await bot.send_message(ann.id, "first", reply_markup=ok)
    reply = await bot.send_message(
        ann.id,
        "reply",
        reply_parameters=ReplyParameters(message_id=first.message_id),
        reply_markup=ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="BTC"), KeyboardButton(text="ETH")]]),
    )
    assert reply.reply_to_message is not None and reply.reply_to_message.text == "first"
    assert reply.reply_markup is None  # reply keyboards are not part of the returned Message
    assert server.chat(ann).reply_keyboard is not None
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(ann.id, "x", reply_parameters=ReplyParameters(message_id=77))


async def test_unknown_chat_and_unstarted_user(server, bot):
    with pytest.raises(TelegramBadRequest, match=r"^Telegram server says - Bad Request: chat not found$"):
        await bot.send_message(424242, "hello")
    shy = server.add_user("Shy", started=False)
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation with a user"):
        await bot.send_message(shy.id, "hello")
    await server.send_command(shy, "/start")
    assert (await bot.send_message(shy.id, "hello")).text == "hello"


async def test_blocked_user_gets_403_and_the_bot_a_my_chat_member_update(server, bot, ann):
    server.block_bot(ann)
    with pytest.raises(TelegramForbiddenError) as blocked:
        await bot.send_message(ann.id, "signal")
    assert blocked.value.message == "Forbidden: bot was blocked by the user"
    assert server.calls_to("sendMessage")[-1].status == 403
    updates = await bot.get_updates()
    assert updates[0].my_chat_member is not None
    assert updates[0].my_chat_member.new_chat_member.status == "kicked"
    server.unblock_bot(ann)
    assert (await bot.send_message(ann.id, "back")).text == "back"


async def test_private_chat_burst_then_429_with_retry_after():
    clock = ManualClock()
    async with FakeTelegramServer(clock=clock) as server:
        client = make_bot(server)
        try:
            ann = server.add_user("Ann")
            for n in range(3):
                await client.send_message(ann.id, f"m{n}")
            with pytest.raises(TelegramRetryAfter) as flood:
                await client.send_message(ann.id, "too fast")
            assert flood.value.retry_after == 1
            assert server.calls[-1].response == {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            }
            # Edits count too.
            with pytest.raises(TelegramRetryAfter):
                await client.edit_message_text(text="edited", chat_id=ann.id, message_id=1)
            # sendChatAction and answers are not counted.
            assert await client.send_chat_action(ann.id, "typing") is True
            clock.advance(1.0)
            await client.send_message(ann.id, "paced")
            assert server.count_429 == 2
            assert len(server.bot_messages(ann)) == 4
        finally:
            await client.session.close()


async def test_paced_sends_never_get_429():
    clock = ManualClock()
    async with FakeTelegramServer(clock=clock) as server:
        client = make_bot(server)
        try:
            ann = server.add_user("Ann")
            for n in range(12):
                await client.send_message(ann.id, f"tick {n}")
                clock.advance(1.0)
            assert server.count_429 == 0
            assert len(server.bot_messages(ann)) == 12
        finally:
            await client.session.close()


async def test_group_allows_20_in_any_minute():
    """Telegram: 20 messages per any 60 s in a group — a sliding window, not a bucket that refills."""
    clock = ManualClock()
    async with FakeTelegramServer(clock=clock) as server:
        client = make_bot(server)
        try:
            owner = server.add_user("Owner")
            group = server.add_group("Traders", owner)
            for n in range(20):
                await client.send_message(group.id, f"signal {n}")
                clock.advance(1.0)
            with pytest.raises(TelegramRetryAfter) as flood:
                await client.send_message(group.id, "one more")
            assert flood.value.retry_after == 40  # the first of the 20 leaves the window at 60 s
            clock.advance(39.5)
            with pytest.raises(TelegramRetryAfter):
                await client.send_message(group.id, "still too soon")
            clock.advance(0.5)
            await client.send_message(group.id, "after the pause")
            assert len(server.bot_messages(group)) == 21
        finally:
            await client.session.close()


async def test_global_limit_is_any_second_not_a_refilling_bucket():
    clock = ManualClock()
    async with FakeTelegramServer(clock=clock) as server:
        client = make_bot(server)
        try:
            users = [server.add_user(f"U{n}") for n in range(31)]
            clock.advance(0.9)
            for user in users[:30]:
                await client.send_message(user.id, "hi")
            clock.advance(0.2)  # a new calendar second, but the 30 are still within the last second
            with pytest.raises(TelegramRetryAfter):
                await client.send_message(users[30].id, "hi")
            clock.advance(0.8)
            await client.send_message(users[30].id, "hi")
        finally:
            await client.session.close()


async def test_injected_429_pauses_one_chat_or_all():
    clock = ManualClock()
    async with FakeTelegramServer(clock=clock) as server:
        client = make_bot(server)
        try:
            ann, bob = server.add_user("Ann"), server.add_user("Bob")
            server.limiter.inject_429(5, chat_id=ann.id)
            with pytest.raises(TelegramRetryAfter) as flood:
                await client.send_message(ann.id, "hi")
            assert flood.value.retry_after == 5
            await client.send_message(bob.id, "Bob is not paused")
            clock.advance(2.0)
            with pytest.raises(TelegramRetryAfter) as again:
                await client.send_message(ann.id, "Ann still is")
            assert again.value.retry_after == 3
            clock.advance(3.0)
            await client.send_message(ann.id, "and no longer")
            server.limiter.inject_429(2)
            for user in (ann, bob):
                with pytest.raises(TelegramRetryAfter):
                    await client.send_message(user.id, "everyone waits")
            clock.advance(2.0)
            await client.send_message(bob.id, "resumed")
            assert [m.plain_text for m in server.bot_messages(bob)] == ["Bob is not paused", "resumed"]
        finally:
            await client.session.close()


async def test_paid_broadcast_lifts_the_overall_limit_not_the_chats():
    clock = ManualClock()
    async with FakeTelegramServer(clock=clock) as server:
        client = make_bot(server)
        try:
            users = [server.add_user(f"P{n}") for n in range(60)]
            for user in users:
                await client.send_message(user.id, "paid", allow_paid_broadcast=True)
            assert server.count_429 == 0 and server.limiter.paid_sent == 60
            for _ in range(2):
                await client.send_message(users[0].id, "again", allow_paid_broadcast=True)
            with pytest.raises(TelegramRetryAfter):  # the private chat's own limit still holds
                await client.send_message(users[0].id, "too many", allow_paid_broadcast=True)
        finally:
            await client.session.close()


async def test_global_limit_across_chats_and_disabled_limits():
    clock = ManualClock()
    limits = RateLimits(global_capacity=5, global_per_second=5)
    async with FakeTelegramServer(clock=clock, rate_limits=limits) as server:
        client = make_bot(server)
        try:
            users = [server.add_user(f"U{n}") for n in range(6)]
            for user in users[:5]:
                await client.send_message(user.id, "hi")
            with pytest.raises(TelegramRetryAfter):
                await client.send_message(users[5].id, "hi")
        finally:
            await client.session.close()
    async with FakeTelegramServer(rate_limits=RateLimits.disabled()) as server:
        client = make_bot(server)
        try:
            ann = server.add_user("Ann")
            for n in range(40):
                await client.send_message(ann.id, str(n))
            assert server.count_429 == 0
        finally:
            await client.session.close()


async def test_send_photo_multipart_keeps_the_bytes(server, bot, ann):
    png = make_png(1000, 500)
    sent = await bot.send_photo(ann.id, BufferedInputFile(png, "chart.png"), caption="<b>BTC</b> 4h")
    assert sent.caption == "BTC 4h"
    assert sent.photo is not None
    assert (sent.photo[-1].width, sent.photo[-1].height, sent.photo[-1].file_size) == (1000, 500, len(png))
    assert [p.width for p in sent.photo] == [90, 320, 800, 1000]
    stored = server.bot_messages(ann)[0]
    assert stored.photo is not None and stored.photo.data == png
    assert server.calls_to("sendPhoto")[0].params["photo"] == f"<file chart.png {len(png)} bytes>"
    again = await bot.send_photo(ann.id, sent.photo[-1].file_id)
    assert again.photo is not None and again.photo[-1].file_unique_id == sent.photo[-1].file_unique_id
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(ann.id, BufferedInputFile(png, "c.png"), caption="x" * 1025)
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(ann.id, BufferedInputFile(b"not an image", "c.png"))
    with pytest.raises(TelegramBadRequest, match="wrong file identifier/HTTP URL specified"):
        await bot.send_photo(ann.id, "no-such-file-id")
    # The bot can download what it uploaded.
    downloaded = await bot.download(sent.photo[-1].file_id)
    assert downloaded is not None and downloaded.read() == png
    edited = await bot.edit_message_caption(chat_id=ann.id, message_id=sent.message_id, caption="<i>1d</i>")
    assert not isinstance(edited, bool) and edited.caption == "1d"
    assert server.bot_messages(ann)[0].caption == "1d"
    assert repr(server.bot_messages(ann)[0]) == (
        f"<FakeMessage chat={ann.id} id={sent.message_id} from=bot photo edited text='1d'>"
    )


async def test_commands_are_stored_per_scope_and_language(server, bot, ann):
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await bot.set_my_commands([BotCommand(command="start", description="开始")], language_code="zh")
    await bot.set_my_commands(
        [BotCommand(command="buy", description="Buy")], scope=BotCommandScopeAllPrivateChats(), language_code="en"
    )
    assert [c.description for c in await bot.get_my_commands()] == ["Start"]
    assert [c.description for c in await bot.get_my_commands(language_code="zh")] == ["开始"]
    assert await bot.get_my_commands(language_code="de") == []
    assert [c["command"] for c in server.commands_for(ann)] == ["buy"]
    zh_user = server.add_user("Li", language_code="zh")
    assert [c["description"] for c in server.commands_for(zh_user)] == ["开始"]
    await bot.delete_my_commands(language_code="zh")
    assert await bot.get_my_commands(language_code="zh") == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Command", description="x")])


async def test_unknown_method_and_wrong_token(server):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.base_url}/bot{server.token}/noSuchMethod") as response:
            assert response.status == 404
            assert await response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        async with http.post(f"{server.base_url}/bot1:wrong/getMe") as response:
            assert response.status == 401
            assert await response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        # Method names are case-insensitive; JSON, form and query-string parameters all work.
        async with http.get(f"{server.base_url}/bot{server.token}/GETME") as response:
            assert (await response.json())["result"]["username"] == "coinsight_test_bot"
        ann = server.add_user("Ann")
        async with http.post(
            f"{server.base_url}/bot{server.token}/sendMessage",
            json={
                "chat_id": ann.id,
                "text": "json",
                "reply_markup": {"inline_keyboard": [[{"text": "ok", "callback_data": "ok"}]]},
            },
        ) as response:
            assert (await response.json())["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "ok"
        async with http.post(
            f"{server.base_url}/bot{server.token}/sendMessage", data={"chat_id": str(ann.id), "text": "form"}
        ) as response:
            assert response.status == 200
        async with http.get(
            f"{server.base_url}/bot{server.token}/sendMessage", params={"chat_id": str(ann.id), "text": "query"}
        ) as response:
            assert response.status == 200
    assert [m.text for m in server.bot_messages(ann)] == ["json", "form", "query"]
    client = make_bot(server.base_url, "42:WRONG")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await client.get_me()
    finally:
        await client.session.close()


async def test_group_members_and_admins(server, bot):
    owner = server.add_user("Owner", "owner")
    admin = server.add_user("Admin", "admin")
    member = server.add_user("Member", "member")
    outsider = server.add_user("Out")
    group = server.add_group("Alpha", owner, admins=[admin], members=[member], bot_status="administrator")
    statuses = {u.id: (await bot.get_chat_member(group.id, u.id)).status for u in (owner, admin, member, outsider)}
    assert statuses == {owner.id: "creator", admin.id: "administrator", member.id: "member", outsider.id: "left"}
    admins = await bot.get_chat_administrators(group.id)
    assert [a.user.id for a in admins] == [owner.id, admin.id, server.bot_user.id]
    chat = await bot.get_chat(group.id)
    assert (chat.type, chat.title) == ("supergroup", "Alpha")
    with pytest.raises(TelegramBadRequest, match="there are no administrators in the private chat"):
        await bot.get_chat_administrators(owner.id)
    assert await bot.leave_chat(group.id) is True
    with pytest.raises(TelegramForbiddenError, match="bot is not a member of the supergroup chat"):
        await bot.send_message(group.id, "hi")


async def test_message_drafts_and_chat_actions(server, bot, ann):
    events = server.subscribe()
    assert await bot.send_message_draft(chat_id=ann.id, draft_id=7, text="<b>Think</b>ing") is True
    assert server.chat(ann).draft is not None and server.chat(ann).draft.text == "Thinking"
    await bot.send_chat_action(ann.id, "typing")
    await bot.send_message(ann.id, "done")
    assert server.chat(ann).draft is None
    kinds = [events.get_nowait().kind for _ in range(events.qsize())]
    assert kinds == ["draft", "chat_action", "sent"]
    with pytest.raises(TelegramBadRequest, match="wrong parameter action in request"):
        await bot.send_chat_action(ann.id, "dancing")


async def test_migrated_group_and_deactivated_user(server, bot):
    owner = server.add_user("Owner")
    group = server.add_group("Old", owner, type="group")
    assert group.id < 0 and not str(group.id).startswith("-100")
    supergroup = server.migrate_group(group)
    with pytest.raises(TelegramMigrateToChat) as migrated:
        await bot.send_message(group.id, "hi")
    assert migrated.value.migrate_to_chat_id == supergroup.id
    assert str(supergroup.id).startswith("-100")
    assert (await bot.send_message(supergroup.id, "hi")).chat.type == "supergroup"
    server.deactivate_user(owner)
    with pytest.raises(TelegramForbiddenError, match="Forbidden: user is deactivated"):
        await bot.send_message(owner.id, "hi")


async def test_inline_keyboard_shape_errors(server, ann):
    bad_markups = {
        '{"inline_keyboard": [{"text": "x"}]}': 'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array',
        '{"inline_keyboard": [[{"text": "x"}]]}': "Text buttons are unallowed in the inline keyboard",
        '{"inline_keyboard": [[{"url": "https://a.io"}]]}': 'Can\'t find field "text"',
        '{"inline_keyboard": [[{"text": "x", "url": "not a url"}]]}': "BUTTON_URL_INVALID",
        "[1, 2": "can't parse reply keyboard markup JSON object",
    }
    async with aiohttp.ClientSession() as http:
        for markup, error in bad_markups.items():
            form = aiohttp.FormData({"chat_id": str(ann.id), "text": "x", "reply_markup": markup})
            async with http.post(f"{server.base_url}/bot{server.token}/sendMessage", data=form) as response:
                body = await response.json()
            assert response.status == 400
            assert error in body["description"], body
    assert server.bot_messages(ann) == []
