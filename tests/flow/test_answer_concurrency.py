"""Work bounded by its kind: many updates in flight (UPDATES_CONCURRENCY), few analyst answers
(ANSWER_CONCURRENCY). A burst of questions shows "typing…" to everyone at once, then the answers
run a few at a time, first come first served; /help is answered meanwhile; nothing fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from bot.settings import Settings
from standins.openai_server import FakeOpenAI
from standins.telegram import FakeTelegramServer, FakeUser
from tests.flow.chat_helpers import language_aware_answer
from tests.flow.test_backpressure import QUIET, PoolWatch, errors
from tests.harness import running_bot, without_scheduler

QUESTION = "how is BTC doing on the 4h?"


class HeldModel(FakeOpenAI):
    """The stand-in model, streaming an answer only once the test releases a request; counts the
    chat requests in flight (arrived, their stream not yet finished)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.arrived = 0
        self.in_flight = 0
        self.peak = 0
        self._released = asyncio.Semaphore(0)
        self._changed = asyncio.Condition()

    def release(self, count: int) -> None:
        for _ in range(count):
            self._released.release()

    async def wait_arrived(self, count: int, timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: self.arrived >= count)

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        async with self._changed:
            self.arrived += 1
            self._changed.notify_all()
        try:
            await self._released.acquire()
            return await super()._chat(request)
        finally:
            self.in_flight -= 1


@pytest.fixture
async def held() -> AsyncIterator[HeldModel]:
    model = HeldModel(responder=language_aware_answer)
    await model.start()
    try:
        yield model
    finally:
        await model.close()


def typing_shown(tg: FakeTelegramServer, user: FakeUser) -> bool:
    return any(
        str(call.params.get("chat_id")) == str(user.id) and call.params.get("action") == "typing"
        for call in tg.calls_to("sendChatAction")
    )


def draft_shown(tg: FakeTelegramServer, user: FakeUser) -> bool:
    """The first feedback in a private chat: the answer's draft (its "thinking" placeholder)."""
    return any(str(call.params.get("chat_id")) == str(user.id) for call in tg.calls_to("sendMessageDraft"))


def answered(tg: FakeTelegramServer, user: FakeUser) -> bool:
    return any(message.photo is not None for message in tg.bot_messages(user))


async def test_six_questions_with_two_answer_slots_all_see_typing_at_once_and_all_get_answered(
    tg: FakeTelegramServer, held: HeldModel, settings_factory: Callable[..., Settings]
) -> None:
    settings = settings_factory(
        openai_api_key="sk-test",
        openai_base_url=held.base_url,
        llm_max_retries=0,
        llm_timeout=30,
        answer_concurrency=2,
        **QUIET,
    )
    async with running_bot(settings, tg) as app:
        await without_scheduler(app)  # its minute jobs take connections of their own (a flake at :00)
        slots = app.resources.services.answer_slots
        watch = PoolWatch(app.resources.engine)
        users = [tg.add_user(f"Asker{i}") for i in range(6)]
        for user in users:
            await tg.send_message(user, QUESTION)
        # Everyone sees the answer's draft at once; the four waiting their turn also see "typing…".
        await held.wait_arrived(2)
        await tg.wait_until(
            lambda: (
                all(draft_shown(tg, u) for u in users)
                and sum(typing_shown(tg, u) for u in users) == 4
                and slots.waiting == 4
            ),
            what="a draft shown to all six, typing to the four waiting",
        )
        assert not any(answered(tg, u) for u in users)
        assert (held.arrived, held.in_flight, slots.active) == (2, 2, 2)
        assert watch.checked_out == 0, "a database connection is held while questions wait for their turn"
        # Another user's /help is answered at once, the model still holding both answers.
        bob = tg.add_user("Bob")
        await tg.send_command(bob, "/help")
        await tg.wait_for_messages(bob, 1)
        assert tg.bot_messages(bob)[0].plain_text.startswith("What I can do")
        assert (held.arrived, slots.active, slots.waiting) == (2, 2, 4)

        held.release(6)
        await tg.wait_until(lambda: all(answered(tg, u) for u in users), timeout=60, what="every answer and chart")
        await app.settle()
        assert (slots.active, slots.waiting, slots.peak) == (0, 0, 2)
    assert held.peak == 2 and held.arrived == 6 == len(held.chat_requests)
    assert errors(tg, [*users, bob]) == []
    for user in users:
        texts = [message.plain_text for message in tg.bot_messages(user)]
        assert any(text.startswith("Market analysis") for text in texts), texts
