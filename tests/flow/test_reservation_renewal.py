"""A question waiting for its answer slot keeps its reservation (handlers/chat.py `answer_slot`): it
is renewed every third of its lifetime while it waits and once more when its turn comes, so a long
queue in a burst never lets the sweeper give it back under the answer (which would then be free).
The reservation's lifetime is set short here (0.3 s: renewals every 0.1 s); the renewals are seen
as the UPDATEs they are, through the engine's statement events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.settings import Settings
from db.models import QuotaSlot, User
from services.credits.charging import CreditsPolicy
from services.credits.config import CreditsConfig
from standins.telegram import FakeTelegramServer
from tests.flow.held_model import QUESTION, HeldModel, answered
from tests.flow.test_backpressure import QUIET, errors
from tests.harness import running_bot

LIFETIME = timedelta(seconds=0.3)


async def test_a_question_waiting_for_its_turn_keeps_its_reservation(
    tg: FakeTelegramServer, held: HeldModel, settings_factory: Callable[..., Settings]
) -> None:
    settings = settings_factory(
        openai_api_key="sk-test", openai_base_url=held.base_url, llm_max_retries=0, llm_timeout=30,
        answer_concurrency=1, **QUIET,
    )  # fmt: skip
    async with running_bot(settings, tg) as app:
        services = app.resources.services
        services.chat_service.charge = CreditsPolicy(CreditsConfig(hold_ttl=LIFETIME))
        assert services.chat_service.renew_every == pytest.approx(0.1)
        renewals: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.startswith("UPDATE quota_slots SET expires_at"):
                renewals.append(statement)
                tg.changed.notify()

        event.listen(app.resources.engine.sync_engine, "after_cursor_execute", count)
        ann, bob = tg.add_user("Ann"), tg.add_user("Bob")
        await tg.send_message(ann, QUESTION)
        await held.wait_arrived(1)  # Ann's answer runs (the one slot); Bob's question waits for it
        await tg.send_message(bob, QUESTION)
        await tg.wait_until(lambda: services.answer_slots.waiting == 1, what="Bob waiting for the slot")
        expiry = await _bobs_expiry(app, bob.id)
        await tg.wait_until(lambda: len(renewals) >= 2, what="Bob's reservation renewed while he waits")
        renewed = await _bobs_expiry(app, bob.id)
        assert renewed > expiry
        assert held.arrived == 1  # still waiting: renewed, not answered
        held.release(2)
        await tg.wait_until(lambda: answered(tg, ann) and answered(tg, bob), timeout=30, what="both answers")
        await app.settle()
        event.remove(app.resources.engine.sync_engine, "after_cursor_execute", count)
        async with app.resources.sessionmaker() as session:
            statuses = (
                await session.execute(
                    select(User.telegram_id, QuotaSlot.status).join(User, User.id == QuotaSlot.user_id)
                )
            ).all()
    assert sorted(statuses) == [(ann.id, "captured"), (bob.id, "captured")]  # both charged (free quota)
    assert errors(tg, [ann, bob]) == []


async def _bobs_expiry(app: Any, telegram_id: int) -> Any:
    async with app.resources.sessionmaker() as session:
        value = await session.scalar(
            select(QuotaSlot.expires_at).join(User, User.id == QuotaSlot.user_id).where(User.telegram_id == telegram_id)
        )
    assert value is not None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
