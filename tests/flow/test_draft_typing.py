"""A question's first feedback in a private chat is its "thinking" draft, paced like every message;
when a burst of questions makes the outgoing limiter hold a draft back, the asker sees "typing…"
(chat actions are not paced) until it goes. Pacing time moves only when the test moves it, so
"the held-back askers see typing, their drafts wait" is checked while they wait. On the in-process
limiter only: the Redis one reserves on Redis's clock, which a test cannot step (its pacing is
tests/unit/test_ratelimit.py's); what is checked here is the handler's feedback, the same on every
backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from bot.settings import Settings
from handlers import streaming
from standins.telegram import Call, FakeTelegramServer, FakeUser
from tests.backends import SQLITE_ONLY
from tests.flow.held_model import QUESTION, HeldModel, draft_shown, typing_shown
from tests.flow.test_backpressure import QUIET, errors
from tests.harness import SteppedClock, fake_telegram, running_bot


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegramServer]:
    async with fake_telegram(SteppedClock()) as server:
        yield server


def first_call(tg: FakeTelegramServer, method: str, user: FakeUser) -> Call | None:
    return next((call for call in tg.calls_to(method) if str(call.params.get("chat_id")) == str(user.id)), None)


@SQLITE_ONLY
async def test_askers_whose_draft_the_limiter_holds_back_see_typing_meanwhile(
    tg: FakeTelegramServer, held: HeldModel, settings_factory: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = tg.clock
    assert isinstance(clock, SteppedClock)
    monkeypatch.setattr(streaming, "DRAFT_WAIT", 0.05)  # real seconds a draft may wait before "typing…"
    settings = settings_factory(
        openai_api_key="sk-test", openai_base_url=held.base_url, llm_max_retries=0, llm_timeout=30,
        outgoing_per_second=4, **QUIET,
    )  # fmt: skip
    async with running_bot(settings, tg) as app:
        users = [tg.add_user(f"Asker{i}") for i in range(8)]
        for user in users:
            await tg.send_message(user, QUESTION)
        # Four messages a second: four drafts go, four wait for the next second and show typing.
        await tg.wait_until(
            lambda: (
                sum(draft_shown(tg, u) for u in users) == 4
                and all(typing_shown(tg, u) for u in users if not draft_shown(tg, u))
            ),
            what="four drafts, typing in the other four chats",
        )
        waiting = [u for u in users if not draft_shown(tg, u)]
        assert len(waiting) == 4
        clock.wake_next()  # the limiter's next second
        await tg.wait_until(lambda: all(draft_shown(tg, u) for u in users), what="every draft")
        for user in waiting:
            typing, draft = first_call(tg, "sendChatAction", user), first_call(tg, "sendMessageDraft", user)
            assert typing is not None and draft is not None and typing.timestamp <= draft.timestamp
        # Each asker stops the answer (the model is still holding them): the bot stops with nothing in
        # flight; the "stopped" replies are paced too, each leaving when the test moves the clock to it.
        for user in users:
            tg.stop_generation(user)
        for _ in range(20):
            if all(tg.bot_messages(u) for u in users):
                break
            await tg.wait_until(lambda: clock.sleeping > 0 or all(tg.bot_messages(u) for u in users))
            clock.wake_next()
        await app.settle()
    assert errors(tg, users) == []
