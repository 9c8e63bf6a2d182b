"""Work bounded by its kind: many updates in flight (UPDATES_CONCURRENCY), few analyst answers
(ANSWER_CONCURRENCY). A burst of questions shows "typing…" to everyone at once, then the answers
run a few at a time, first come first served; /help is answered meanwhile; nothing fails."""

from __future__ import annotations

from collections.abc import Callable

from bot.settings import Settings
from standins.telegram import FakeTelegramServer
from tests.flow.held_model import QUESTION, HeldModel, answered, draft_shown, typing_shown
from tests.flow.test_backpressure import QUIET, PoolWatch, errors
from tests.harness import running_bot, without_scheduler


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
