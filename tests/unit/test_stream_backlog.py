"""An analyst answer's previews in a burst (handlers/streaming.py with services.ratelimit.Backlog):
while the outgoing limiter holds a second's worth of replies or more, the answer's draft is not
updated (the budget goes to every asker's first feedback and final answer); once the queue is
short again the preview shows the whole text so far; the final answer is the same either way.
Driven through the real aiogram Bot against the stand-in Bot API."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from aiogram import Bot

from handlers.streaming import AnswerStream
from services.chat import Answer, ChatEvent, Delta, Done
from services.chat.stops import RunningAnswers
from services.i18n import Translations
from services.ratelimit import Backlog
from standins.telegram import FakeTelegramServer, FakeUser


def drafts(tg: FakeTelegramServer, user: FakeUser) -> list[str]:
    return [str(c.params.get("text")) for c in tg.calls_to("sendMessageDraft") if c.params.get("chat_id") == user.id]


async def answer(tg: FakeTelegramServer, bot: Bot, backlog: Backlog, *, ends_after_first: bool) -> FakeUser:
    """Stream "Hello " then "world" (the burst over between the two when `ends_after_first`)."""
    user = tg.add_user("Ann")
    running = RunningAnswers().start(user.id, user.id)
    stream = AnswerStream(
        bot, user.id, t=Translations().get("en"), running=running, group=False, congested=backlog.congested
    )

    async def events() -> AsyncGenerator[ChatEvent, None]:
        yield Delta("Hello ")
        if ends_after_first:
            backlog.waiting = 0
        yield Delta("world")
        yield Done(Answer("Hello world", source="llm"))

    delivered = await stream.deliver(events())
    assert delivered.delivered and delivered.answer is not None
    assert [m.plain_text for m in tg.bot_messages(user)] == ["Hello world"]
    return user


async def test_no_preview_while_a_second_of_replies_is_queued(tg: FakeTelegramServer, bot: Bot) -> None:
    backlog = Backlog(limit=30, waiting=30)
    user = await answer(tg, bot, backlog, ends_after_first=False)
    assert drafts(tg, user) == []


async def test_previews_resume_with_the_whole_text_once_the_queue_is_short(tg: FakeTelegramServer, bot: Bot) -> None:
    backlog = Backlog(limit=30, waiting=30)
    user = await answer(tg, bot, backlog, ends_after_first=True)
    shown = drafts(tg, user)
    assert shown and "Hello world" in shown[0], shown  # the first preview already has both parts


async def test_a_short_queue_shows_the_first_part_at_once(tg: FakeTelegramServer, bot: Bot) -> None:
    backlog = Backlog(limit=30, waiting=29)
    user = await answer(tg, bot, backlog, ends_after_first=False)
    shown = drafts(tg, user)
    assert shown and "Hello" in shown[0] and "world" not in shown[0], shown
