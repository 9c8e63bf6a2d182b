"""Waking this process's outbox sender once new deliveries are committed.

A push's rows are written in its cause's transaction (`enqueue`); the sender only sees them once that
transaction commits. `enqueue(..., wake=services.outbox_wake)` arms the wake on the session: it is
set right after the commit (never before, so the sender cannot look and find nothing; never on a
rollback), and the sender, waiting on the same object, claims the rows at once instead of at its
next poll (`OUTBOX_POLL_SECONDS`).

Only this process's sender is woken. With several replicas the others find the rows at their next
poll (2 s by default): the enqueueing replica starts the push at once and the others join it within
a poll, which costs a push nothing measurable, so no Redis pub/sub is used.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import event
from sqlalchemy.orm import Session as SyncSession

from services.uow import Session

_ARMED = "outbox.wake"  # Session.info: the wakes to set when this transaction commits
_HOOKED = "outbox.wake.hooked"


class OutboxWake(asyncio.Event):
    """An asyncio.Event shared by the services (which set it after a commit) and the sender (which
    waits on it, with a timeout of its poll interval, and clears it before each claim)."""

    def after_commit(self, session: Session) -> None:
        """Set this once `session`'s current transaction commits; forgotten if it rolls back."""
        sync = session.sync_session
        sync.info.setdefault(_ARMED, set()).add(self)
        if not sync.info.get(_HOOKED):
            sync.info[_HOOKED] = True
            event.listen(sync, "after_commit", _committed)
            event.listen(sync, "after_rollback", _rolled_back)


def _committed(session: SyncSession) -> None:
    if session.in_nested_transaction():  # a savepoint released: the rows are not committed yet
        return
    wakes: set[OutboxWake] = session.info.pop(_ARMED, set())
    for wake in wakes:
        wake.set()


def _rolled_back(session: SyncSession) -> None:
    if session.in_nested_transaction():  # a savepoint: what was armed outside it may still commit
        return
    session.info.pop(_ARMED, None)
