"""Putting deliveries in the outbox, inside the caller's transaction (never commits).

Whatever causes a push (a signal, an alert, a broadcast) writes its rows in the same transaction as
itself: both are committed, or neither. UNIQUE(kind, ref_id, chat_id) makes enqueueing idempotent —
a chat gets a given push once, across retries, restarts and replicas. Passing `wake` (the
`Services.outbox_wake` of this process) wakes this process's sender right after the commit
(services/delivery/wake.py); other replicas' senders find the rows at their next poll.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
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


def _check_keys(kind: str, refs: Iterable[str]) -> None:
    if not 1 <= len(kind) <= KIND_LIMIT or any(not 1 <= len(ref) <= REF_LIMIT for ref in refs):
        raise InvalidDelivery(f"kind is 1-{KIND_LIMIT} characters and ref_id 1-{REF_LIMIT}")


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
    _check_keys(kind, [ref])  # even with no chat to send to
    items = [(ref, chat_id, payload) for chat_id in dict.fromkeys(chat_ids)]
    return await enqueue_many(session, kind=kind, items=items, priority=priority, now=now, wake=wake)


async def enqueue_many(
    session: Session,
    *,
    kind: str,
    items: Sequence[tuple[str, int, OutboxMessage]],
    priority: int = 0,
    now: datetime | None = None,
    wake: OutboxWake | None = None,
) -> int:
    """Rows of one kind, each (ref_id, chat_id, message) its own (an alert tick: one ref id per alert
    and arming), in one statement, in the caller's transaction; otherwise as `enqueue`."""
    _check_keys(kind, [ref for ref, _, _ in items])
    if not items:
        return 0
    repository = DeliveryRepository(session)
    for photo in {message.photo for _, _, message in items if message.photo is not None}:
        if await repository.media(photo) is None:
            raise InvalidDelivery(f"photo {photo} was not stored with add_media")
    unreachable = await repository.unreachable_chats({chat_id for _, chat_id, _ in items})
    bodies: dict[int, str] = {}  # one JSON per message object (a push to 10,000 chats shares one)

    def row(ref: str, chat_id: int, message: OutboxMessage) -> NewDelivery:
        body = bodies.get(id(message))
        if body is None:
            body = bodies[id(message)] = message.to_json()
        if chat_id in unreachable:
            return NewDelivery(kind, ref, chat_id, body, priority, DeliveryStatus.SKIPPED, UNREACHABLE)
        return NewDelivery(kind, ref, chat_id, body, priority)

    rows = [row(ref, chat_id, message) for ref, chat_id, message in items]
    inserted = await repository.enqueue(rows, now or utcnow())
    if wake is not None and inserted:
        wake.after_commit(session)
    return inserted
