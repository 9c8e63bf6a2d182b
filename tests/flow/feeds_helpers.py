"""Shared steps of the feeds flow tests: commands and buttons through the fake Telegram, the database
read directly, and pushes enqueued the way the signals/risk engines will (recipients → outbox)."""

from __future__ import annotations

from sqlalchemy import func, select

from db.models import Chat, Delivery, DeliveryStatus, Feed, User
from services.delivery import OutboxMessage, enqueue
from services.feeds.recipients import recipients
from standins.telegram import FakeChat, FakeMessage, FakeUser
from tests.harness import RunningBot


async def command(
    app: RunningBot,
    user: FakeUser,
    text: str,
    *,
    chat: FakeChat | None = None,
    thread_id: int | None = None,
) -> FakeMessage:
    """Send a command and wait for the bot to handle it; the bot's newest message in that chat."""
    where = chat if chat is not None else app.tg.chat(user)
    before = len(app.tg.bot_messages(where))
    await app.tg.send_message(user, text, chat=chat, thread_id=thread_id)
    await app.settle()
    messages = app.tg.bot_messages(where)
    assert len(messages) > before, f"no answer to {text!r}"
    return messages[-1]


async def press(app: RunningBot, user: FakeUser, button: str, *, chat: FakeChat | None = None) -> dict[str, object]:
    """Press a button and wait for the bot's answer to the callback query."""
    update = await app.tg.press_button(user, button, chat=chat)
    answer = await app.tg.wait_callback_answer(str(update["callback_query"]["id"]))
    await app.settle()
    return answer


async def feeds(app: RunningBot, chat_id: int) -> dict[str, Feed]:
    async with app.resources.sessionmaker() as session:
        return {f.kind: f for f in await session.scalars(select(Feed).where(Feed.chat_id == chat_id))}


async def chat_row(app: RunningBot, chat_id: int) -> Chat | None:
    async with app.resources.sessionmaker() as session:
        return await session.get(Chat, chat_id)


async def deliveries(app: RunningBot, chat_id: int) -> list[Delivery]:
    async with app.resources.sessionmaker() as session:
        return list(await session.scalars(select(Delivery).where(Delivery.chat_id == chat_id).order_by(Delivery.id)))


async def set_plan(app: RunningBot, telegram_id: int, plan: str) -> None:
    async with app.resources.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        assert user is not None
        user.plan = plan
        await session.commit()


async def push(
    app: RunningBot, ref: str, symbol: str, text: str, *, kind: str = "signals", timeframe: str | None = None
) -> list[int]:
    """Enqueue one push to every recipient of (kind, symbol) — without waking the sender. The chats."""
    async with app.resources.sessionmaker() as session:
        targets = await recipients(session, kind, symbol, timeframe)
        for target in targets:
            payload = target.message(text)
            await enqueue(session, kind="signal", ref_id=ref, chat_ids=[target.chat_id], payload=payload)
        await session.commit()
    return [target.chat_id for target in targets]


async def drain(app: RunningBot, marker: FakeUser) -> None:
    """Wake the sender (with one more push, to `marker`) and wait until it has attempted every row
    that was waiting: whatever is not sent by then was not going to be."""
    sender = app.resources.sender
    assert sender is not None
    async with app.resources.sessionmaker() as session:
        ref = f"m{sender.recorded}"
        await enqueue(session, kind="marker", ref_id=ref, chat_ids=[marker.id], payload=OutboxMessage.build(text="·"))
        await session.commit()
        waiting = await session.scalar(
            select(func.count(Delivery.id)).where(Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.FAILED)))
        )
    before = sender.recorded
    sender.wake()
    await sender.wait_recorded(before + int(waiting or 0), timeout=10)
