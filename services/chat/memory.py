"""Conversation memory: one running conversation per (user, chat); idle ones start afresh."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories.conversations import ConversationRepository

HISTORY_MESSAGES = 20  # the prompt builder trims these further to its token budget


@dataclass(frozen=True)
class ConversationState:
    id: int
    last_symbol: str | None
    last_timeframe: str | None
    history: tuple[tuple[str, str], ...]  # (role, content), oldest first
    fresh: bool


async def current(
    session: AsyncSession, user_id: int, chat_id: int, now: datetime, idle: timedelta
) -> ConversationState:
    """The running conversation, or a new one when there is none or it has been idle too long."""
    repo = ConversationRepository(session)
    conversation = await repo.latest(user_id, chat_id)
    if conversation is None or now - conversation.updated_at > idle:
        conversation = await repo.create(user_id, chat_id, now)
        await session.commit()
        return ConversationState(conversation.id, None, None, (), True)
    messages = await repo.recent_messages(conversation.id, HISTORY_MESSAGES)
    return ConversationState(
        conversation.id,
        conversation.last_symbol,
        conversation.last_timeframe,
        tuple((m.role, m.content) for m in messages),
        False,
    )


async def start_new(session: AsyncSession, user_id: int, chat_id: int, now: datetime) -> None:
    """`/new`: forget the conversation (the old one stays in the database)."""
    await ConversationRepository(session).create(user_id, chat_id, now)
    await session.commit()


def record_exchange(
    session: AsyncSession,
    conversation_id: int,
    now: datetime,
    question: str,
    answer: str,
    *,
    question_tokens: int,
    answer_tokens: int,
    model: str | None,
) -> None:
    """Stage the question and the answer (the caller commits with the rest of its unit of work)."""
    repo = ConversationRepository(session)
    repo.add_message(conversation_id, "user", question, now, question_tokens)
    repo.add_message(conversation_id, "assistant", answer, now + timedelta(microseconds=1), answer_tokens, model)


async def touch(session: AsyncSession, conversation_id: int, now: datetime, symbols: str, timeframe: str) -> None:
    await ConversationRepository(session).touch(conversation_id, now, symbols[:32], timeframe)
