"""Many outbox rows of one kind, each with its own ref id and chat, in one statement.

`services.delivery.outbox.enqueue` takes one (kind, ref_id) for many chats; an alert tick has many
ref ids (one per alert and arming) for one chat each. This is the same write — the repository's
`INSERT … ON CONFLICT DO NOTHING` on UNIQUE(kind, ref_id, chat_id), chats known to refuse messages
as `skipped` rows — for a whole batch, inside the caller's transaction (never commits).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from db.models import DeliveryStatus, utcnow
from db.repositories.deliveries import DeliveryRepository, NewDelivery
from services.delivery.message import OutboxMessage
from services.delivery.outbox import UNREACHABLE
from services.uow import Session


async def enqueue_many(
    session: Session, kind: str, items: Sequence[tuple[str, int, OutboxMessage]], now: datetime | None = None
) -> int:
    """`items` are (ref_id, chat_id, message); returns how many rows are new."""
    if not items:
        return 0
    repository = DeliveryRepository(session)
    unreachable = await repository.unreachable_chats({chat_id for _, chat_id, _ in items})
    rows = [
        NewDelivery(kind=kind, ref_id=ref_id, chat_id=chat_id, payload=message.to_json())
        if chat_id not in unreachable
        else NewDelivery(
            kind=kind,
            ref_id=ref_id,
            chat_id=chat_id,
            payload=message.to_json(),
            status=DeliveryStatus.SKIPPED,
            error=UNREACHABLE,
        )
        for ref_id, chat_id, message in items
    ]
    return await repository.enqueue(rows, now or utcnow())
