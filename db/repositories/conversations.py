from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ChatMessage, Conversation


class ConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def latest(self, user_id: int, chat_id: int) -> Conversation | None:
        return await self.session.scalar(
            select(Conversation)
            .where(Conversation.user_id == user_id, Conversation.chat_id == chat_id)
            .order_by(Conversation.id.desc())
            .limit(1)
        )

    async def create(self, user_id: int, chat_id: int, now: datetime) -> Conversation:
        conversation = Conversation(user_id=user_id, chat_id=chat_id, created_at=now, updated_at=now)
        self.session.add(conversation)
        await self.session.flush()
        return conversation

    async def recent_messages(self, conversation_id: int, limit: int) -> Sequence[ChatMessage]:
        rows = await self.session.scalars(
            select(ChatMessage)
            .where(ChatMessage.conversation_id == conversation_id)
            .order_by(ChatMessage.id.desc())
            .limit(limit)
        )
        return list(reversed(rows.all()))

    def add_message(
        self, conversation_id: int, role: str, content: str, now: datetime, tokens: int = 0, model: str | None = None
    ) -> None:
        self.session.add(
            ChatMessage(
                conversation_id=conversation_id, role=role, content=content, tokens=tokens, model=model, created_at=now
            )
        )

    async def touch(self, conversation_id: int, now: datetime, symbol: str | None, timeframe: str | None) -> None:
        values: dict[str, object] = {"updated_at": now}
        if symbol is not None:
            values["last_symbol"] = symbol
        if timeframe is not None:
            values["last_timeframe"] = timeframe
        await self.session.execute(update(Conversation).where(Conversation.id == conversation_id).values(**values))
