"""Conversation memory: one running conversation per (user, chat); idle ones start afresh."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import utcnow
from db.repositories.conversations import ConversationRepository

HISTORY_MESSAGES = 20  # the prompt builder trims these further to its token budget


@dataclass(frozen=True, kw_only=True)
class ConversationState:
    id: int | None  # None: a new conversation, not stored yet (see `started`)
    last_symbol: str | None
    last_timeframe: str | None
    history: tuple[tuple[str, str], ...]  # (role, content), oldest first
    fresh: bool


async def current(
    session: AsyncSession, user_id: int, chat_id: int, now: datetime, idle: timedelta
) -> ConversationState:
    """The running conversation, or a fresh (not yet stored) one when there is none or it has been
    idle too long. Read-only: a question refused before it is charged leaves nothing behind."""
    repo = ConversationRepository(session)
    conversation = await repo.latest(user_id, chat_id)
    if conversation is None or now - conversation.updated_at > idle:
        return ConversationState(id=None, last_symbol=None, last_timeframe=None, history=(), fresh=True)
    messages = await repo.recent_messages(conversation.id, HISTORY_MESSAGES)
    return ConversationState(
        id=conversation.id,
        last_symbol=conversation.last_symbol,
        last_timeframe=conversation.last_timeframe,
        history=tuple((m.role, m.content) for m in messages),
        fresh=False,
    )


async def started(
    session: AsyncSession, state: ConversationState, user_id: int, chat_id: int, now: datetime
) -> ConversationState:
    """`state` stored: a fresh conversation is staged (flushed, not committed) so it belongs to the
    question's unit of work, which the charge (`authorize`) commits right after."""
    if state.id is not None:
        return state
    conversation = await ConversationRepository(session).create(user_id, chat_id, now)
    return replace(state, id=conversation.id)


async def start_new(session: AsyncSession, user_id: int, chat_id: int, now: datetime | None = None) -> None:
    """`/new`: forget the conversation (the old one stays in the database); commits."""
    await ConversationRepository(session).create(user_id, chat_id, now or utcnow())
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
