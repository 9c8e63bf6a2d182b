"""Who got a push: the chats of one (kind, ref_id) in `deliveries`, with what a follow-up needs.

A signal's outcome goes to every chat that got the signal, as a reply to the message each received
(its `message_id` once sent), in the same forum topic and with the same silent flag (the stored
payload), in the chat's language. Never commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Chat, Delivery, DeliveryStatus, User


@dataclass(frozen=True, slots=True)
class PushedTo:
    chat_id: int
    status: str
    message_id: int | None  # set once sent
    payload: str  # the OutboxMessage JSON (its forum topic, silent flag)
    locale: str | None  # the chat's language, else its user's (/language, else Telegram's; not normalized)


async def pushed_to(session: AsyncSession, kind: str, ref_id: str) -> list[PushedTo]:
    """The chats a push reached or is still going to (every row but dead and skipped ones), in row
    order, with their language."""
    statement = (
        select(
            Delivery.chat_id,
            Delivery.status,
            Delivery.message_id,
            Delivery.payload,
            Chat.locale,
            User.locale,
            User.language_code,
        )
        .outerjoin(Chat, Chat.id == Delivery.chat_id)
        .outerjoin(User, User.telegram_id == Delivery.chat_id)
        .where(
            Delivery.kind == kind,
            Delivery.ref_id == ref_id,
            Delivery.status.not_in([DeliveryStatus.DEAD, DeliveryStatus.SKIPPED]),
        )
        .order_by(Delivery.id)
    )
    rows = (await session.execute(statement)).all()
    return [
        PushedTo(chat_id, status, message_id, payload, chat_locale or user_locale or language_code)
        for chat_id, status, message_id, payload, chat_locale, user_locale, language_code in rows
    ]
