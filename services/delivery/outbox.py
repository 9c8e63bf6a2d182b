"""Putting deliveries in the outbox, inside the caller's transaction (never commits).

Whatever causes a push (a signal, an alert, a broadcast) writes its rows in the same transaction as
itself: both are committed, or neither. UNIQUE(kind, ref_id, chat_id) makes enqueueing idempotent —
a chat gets a given push once, across retries, restarts and replicas. Passing `wake` (the
`Services.outbox_wake` of this process) wakes this process's sender right after the commit
(services/delivery/wake.py); other replicas' senders find the rows at their next poll.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from db.models import DeliveryStatus, utcnow
from db.repositories.deliveries import DeliveryRepository, NewDelivery
from services.delivery.message import InvalidDelivery, OutboxMessage
from services.delivery.wake import OutboxWake
from services.uow import Session

KIND_LIMIT = 16
REF_LIMIT = 64
UNREACHABLE = "chat unreachable (blocked the bot, left, or gone)"


async def add_media(session: Session, data: bytes, filename: str = "image.png") -> str:
    """Store a file to push (a chart); its sha256 is the `photo` of an `OutboxMessage`."""
    if not data:
        raise InvalidDelivery("empty media")
    sha256 = hashlib.sha256(data).hexdigest()
    await DeliveryRepository(session).add_media(sha256, data, filename[:128])
    return sha256


async def enqueue(
    session: Session,
    *,
    kind: str,
    ref_id: str | int,
    chat_ids: Iterable[int],
    payload: OutboxMessage,
    priority: int = 0,
    now: datetime | None = None,
    wake: OutboxWake | None = None,
) -> int:
    """One row per chat for this (kind, ref_id); rows already there are left alone. Chats known to
    refuse messages get a `skipped` row, never an attempt. With `wake`, new rows wake the sender
    once the caller's transaction commits. Returns how many rows are new."""
    ref = str(ref_id)
    if not 1 <= len(kind) <= KIND_LIMIT or not 1 <= len(ref) <= REF_LIMIT:
        raise InvalidDelivery(f"kind is 1-{KIND_LIMIT} characters and ref_id 1-{REF_LIMIT}")
    repository = DeliveryRepository(session)
    if payload.photo is not None and await repository.media(payload.photo) is None:
        raise InvalidDelivery(f"photo {payload.photo} was not stored with add_media")
    targets = list(dict.fromkeys(chat_ids))
    if not targets:
        return 0
    unreachable = await repository.unreachable_chats(targets)
    body = payload.to_json()
    rows = [
        NewDelivery(kind=kind, ref_id=ref, chat_id=chat_id, payload=body, priority=priority)
        if chat_id not in unreachable
        else NewDelivery(
            kind=kind,
            ref_id=ref,
            chat_id=chat_id,
            payload=body,
            priority=priority,
            status=DeliveryStatus.SKIPPED,
            error=UNREACHABLE,
        )
        for chat_id in targets
    ]
    inserted = await repository.enqueue(rows, now or utcnow())
    if wake is not None and inserted:
        wake.after_commit(session)
    return inserted
