"""Shared steps of the operators' flow tests: commands and their replies, the audit log, and a
snapshot of everything an admin command could change (to prove a non-admin changed nothing)."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, select

from db.models import AuditLog, CreditAccount, CreditTransaction, User
from standins.telegram import CallbackQueryRecord, FakeMessage, FakeTelegramServer, FakeUser
from tests.harness import RunningBot

UNKNOWN_COMMAND = "I don't know that command. Send /help to see what I can do."


async def reply_to(tg: FakeTelegramServer, user: FakeUser, text: str, timeout: float = 8.0) -> FakeMessage:
    """Send `text` (a command with its arguments) and wait for the bot's next message in the chat."""
    count = len(tg.bot_messages(user))
    command, _, args = text.partition(" ")
    await tg.send_command(user, command, args or None)
    return (await tg.wait_for_messages(user, count + 1, timeout))[-1]


async def command_reply(tg: FakeTelegramServer, user: FakeUser, text: str) -> str:
    return (await reply_to(tg, user, text)).plain_text


async def started(tg: FakeTelegramServer, *users: FakeUser) -> None:
    for user in users:
        await tg.send_command(user, "/start")
        await tg.wait_for_messages(user, 1)


async def audit_rows(app: RunningBot, action: str | None = None) -> list[AuditLog]:
    statement = select(AuditLog).where(AuditLog.actor_telegram_id != 0).order_by(AuditLog.id)
    if action is not None:
        statement = statement.where(AuditLog.action == action)
    async with app.resources.sessionmaker() as session:
        return list((await session.scalars(statement)).all())


async def db_user(app: RunningBot, telegram_id: int) -> User:
    async with app.resources.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    assert user is not None
    return user


async def balance(app: RunningBot, telegram_id: int) -> int:
    async with app.resources.sessionmaker() as session:
        value = await session.scalar(
            select(CreditAccount.available)
            .join(User, User.id == CreditAccount.user_id)
            .where(User.telegram_id == telegram_id)
        )
    return int(value or 0)


async def snapshot(app: RunningBot) -> tuple[Any, ...]:
    """Every user's plan, expiry and flags, every balance, the ledger and audit sizes."""
    async with app.resources.sessionmaker() as session:
        users = (
            await session.execute(
                select(User.telegram_id, User.plan, User.plan_expires_at, User.banned).order_by(User.id)
            )
        ).all()
        accounts = (await session.execute(select(CreditAccount.user_id, CreditAccount.available))).all()
        ledger = await session.scalar(select(func.count()).select_from(CreditTransaction))
        audit = await session.scalar(select(func.count()).select_from(AuditLog))
    return tuple(map(tuple, users)), tuple(map(tuple, accounts)), ledger, audit


async def press_data(tg: FakeTelegramServer, user: FakeUser, message: FakeMessage, data: str) -> str:
    """A callback query with any data on one of the bot's messages (a forged or an old button), as
    Telegram would deliver it; the query id, to wait for its answer."""
    record = CallbackQueryRecord(str(secrets.randbits(63)), user, message, data, tg.clock())
    tg.state.callback_queries[record.id] = record
    payload = {
        "id": record.id,
        "from": user.to_api(),
        "message": message.to_api(),
        "chat_instance": tg.chat(user).chat_instance,
        "data": data,
    }
    tg.push_update("callback_query", payload)
    return record.id
