"""Which user and chat rows a unit of work changed, announced once it has committed.

Views of users and chats are cached for a short while (services/users.py `ViewCache`); a change
must drop them, or a ban or a language choice would take effect only when the cache expires.
Sessions from `create_sessionmaker(engine, listener)` keep, per transaction:

- the `User` and `Chat` objects an ORM flush modified or deleted (noticed automatically), and
- the rows a bulk UPDATE changed, noted by the repository that ran it (`user_changed`,
  `chat_changed`), for columns the views show.

After the transaction commits, the listener hears the changed rows (`ChangeListener.rows_changed`);
a rollback forgets them. Announcing after the commit (never before) means a reader that refills the
cache meanwhile cannot put back what the commit replaced.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from db.models import Chat, User

_PENDING = "row_changes.pending"  # this transaction's changes (Session.info)
_COMMITTED = "row_changes.committed"  # committed, not yet announced
LISTENER = "row_changes.listener"


@dataclass
class RowChanges:
    user_ids: set[int] = field(default_factory=set)  # users.id
    telegram_ids: set[int] = field(default_factory=set)  # users.telegram_id
    chat_ids: set[int] = field(default_factory=set)  # chats.id

    def __bool__(self) -> bool:
        return bool(self.user_ids or self.telegram_ids or self.chat_ids)

    def merge(self, other: RowChanges) -> None:
        self.user_ids |= other.user_ids
        self.telegram_ids |= other.telegram_ids
        self.chat_ids |= other.chat_ids


class ChangeListener(Protocol):
    async def rows_changed(self, changes: RowChanges) -> None:
        """Called after a commit that changed users or chats. Must not raise (the commit is done)."""
        ...


AnySession = Session | AsyncSession


def _pending(session: AnySession) -> RowChanges:
    changes: RowChanges = session.info.setdefault(_PENDING, RowChanges())
    return changes


def user_changed(session: AnySession, *, user_id: int | None = None, telegram_id: int | None = None) -> None:
    """Note that this transaction changed a user's row (by id or Telegram id)."""
    changes = _pending(session)
    if user_id is not None:
        changes.user_ids.add(user_id)
    if telegram_id is not None:
        changes.telegram_ids.add(telegram_id)


def users_changed(session: AnySession, user_ids: Iterable[int]) -> None:
    _pending(session).user_ids.update(user_ids)


def chat_changed(session: AnySession, chat_id: int) -> None:
    _pending(session).chat_ids.add(chat_id)


class TrackingSession(Session):
    """The sync session behind `AnnouncingSession`: the events below are registered on this class only."""


@event.listens_for(TrackingSession, "before_flush")
def _note_flushed(session: Session, _context: UOWTransaction, _instances: object) -> None:
    modified = [obj for obj in session.dirty if session.is_modified(obj)]
    for obj in (*modified, *session.deleted):
        if isinstance(obj, User):
            user_changed(session, user_id=obj.id, telegram_id=obj.telegram_id)
        elif isinstance(obj, Chat):
            chat_changed(session, obj.id)


@event.listens_for(TrackingSession, "after_commit")
def _committed(session: Session) -> None:
    pending: RowChanges | None = session.info.pop(_PENDING, None)
    if pending:
        session.info.setdefault(_COMMITTED, RowChanges()).merge(pending)


@event.listens_for(TrackingSession, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


class AnnouncingSession(AsyncSession):
    """An AsyncSession that tells its listener (`info[LISTENER]`) which users and chats a commit changed."""

    sync_session_class = TrackingSession

    async def commit(self) -> None:
        await super().commit()
        await self._announce()

    async def close(self) -> None:
        try:
            await self._announce()  # a commit not made through `commit()` (e.g. `async with session.begin()`)
        finally:
            # A session never used (most updates' own: DbSessionMiddleware) has nothing to close: no
            # transaction, no objects. Skipping the call spares every such update a greenlet switch.
            if self.in_transaction() or self.sync_session.identity_map:
                await super().close()

    async def _announce(self) -> None:
        committed: RowChanges | None = self.info.pop(_COMMITTED, None)
        listener: ChangeListener | None = self.info.get(LISTENER)
        if committed and listener is not None:
            await listener.rows_changed(committed)
