"""The analyst's stand-in model held until a test releases it, and what a chat shows while it waits
(shared by the answer-concurrency, draft-typing and reservation-renewal flow tests; the `held`
fixture is in tests/flow/conftest.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from standins.openai_server import FakeOpenAI
from standins.telegram import FakeTelegramServer, FakeUser

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
