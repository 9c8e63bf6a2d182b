"""The fake Bot API's message drafts (sendMessageDraft, Bot API 9.5 / 10.3): validation, flood limits,
the stop button and its `stopped_message_generation` update, driven by the real aiogram Bot."""

from __future__ import annotations

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import Update

from standins.telegram import FakeTelegramServer, FakeTelegramUsageError, ManualClock, RateLimits, make_bot


@pytest.fixture
async def server():
    async with FakeTelegramServer(clock=ManualClock()) as srv:
        yield srv


@pytest.fixture
async def unlimited():
    async with FakeTelegramServer(rate_limits=RateLimits.disabled()) as srv:
        yield srv


@pytest.fixture
async def bot(server):
    client = make_bot(server)
    yield client
    await client.session.close()


async def test_drafts_are_validated_like_messages(server, bot):
    ann = server.add_user("Ann")
    owner = server.add_user("Owner")
    group = server.add_group("Traders", owner, members=[ann])
    with pytest.raises(TelegramBadRequest, match="message drafts can be sent only to private chats"):
        await bot.send_message_draft(chat_id=group.id, draft_id=1, text="hi")
    with pytest.raises(TelegramBadRequest, match="draft_id must be non-zero"):
        await bot.send_message_draft(chat_id=ann.id, draft_id=0, text="hi")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message_draft(chat_id=ann.id, draft_id=1, text="x" * 4097)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message_draft(chat_id=ann.id, draft_id=1, text="<b>open")
    # Empty text is allowed: Telegram shows its own "Thinking…" placeholder.
    assert await bot.send_message_draft(chat_id=ann.id, draft_id=1, text="") is True
    server.block_bot(ann)
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message_draft(chat_id=ann.id, draft_id=1, text="hi")


async def test_drafts_count_against_the_chats_flood_limit(server, bot):
    ann = server.add_user("Ann")
    for n in range(3):
        await bot.send_message_draft(chat_id=ann.id, draft_id=5, text=f"part {n}")
    with pytest.raises(TelegramRetryAfter) as flood:
        await bot.send_message_draft(chat_id=ann.id, draft_id=5, text="too fast")
    assert flood.value.retry_after == 1 and server.count_429 == 1
    assert server.chat(ann).draft is not None and server.chat(ann).draft.text == "part 2"


async def test_stop_button_sends_an_update_and_hides_further_drafts(unlimited):
    server, bot = unlimited, make_bot(unlimited)
    try:
        await _stop_button(server, bot)
    finally:
        await bot.session.close()


async def _stop_button(server, bot):
    ann = server.add_user("Ann")
    await bot.send_message_draft(chat_id=ann.id, draft_id=9, text="no stop button")
    with pytest.raises(FakeTelegramUsageError, match="no draft with a stop button"):
        server.stop_generation(ann)
    await bot.send_message_draft(chat_id=ann.id, draft_id=9, text="<i>thinking</i>", can_stop=True)
    pushed = server.stop_generation(ann)
    update = Update.model_validate(pushed)
    assert update.stopped_message_generation is not None
    assert update.stopped_message_generation.draft_id == 9
    assert update.stopped_message_generation.chat.id == ann.id
    assert server.chat(ann).draft is None  # gone: not sent with keep_on_stop
    assert await bot.send_message_draft(chat_id=ann.id, draft_id=9, text="more", can_stop=True) is True
    assert server.chat(ann).draft is None  # further drafts of a stopped generation are not shown
    await bot.send_message_draft(chat_id=ann.id, draft_id=10, text="kept", can_stop=True, keep_on_stop=True)
    server.stop_generation(ann)
    draft = server.chat(ann).draft
    assert draft is not None and draft.text == "kept"
    await bot.send_message(ann.id, "final")
    assert server.chat(ann).draft is None  # a message replaces the draft


async def test_stop_update_is_delivered_by_get_updates(server, bot):
    ann = server.add_user("Ann")
    await bot.send_message_draft(chat_id=ann.id, draft_id=3, text="x", can_stop=True)
    server.stop_generation(ann)
    updates = await bot.get_updates(allowed_updates=["stopped_message_generation"], timeout=0)
    assert [u.stopped_message_generation.draft_id for u in updates if u.stopped_message_generation] == [3]
