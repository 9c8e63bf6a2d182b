"""The cheap update path: a returning user's update costs no database write and, while cached, no
query.

- `ViewCache` keeps the views of users and chats (`UserView`, `ChatView`) for `ttl` seconds in the
  key-value store (in process, or Redis shared by replicas). A commit that changes a user or chat
  drops its entry (it is the session's change listener: db/changes.py), so a ban or a language
  choice shows on the next update.
- `LastSeen` collects the users seen and writes `last_seen_at` for all of them in one UPDATE per
  flush (a periodic task, and once more at shutdown).
- `Registrar.register` is what the context middleware calls per update: the cached views when they
  still match what the update shows, else `Registrations` (inserts new users and chats, refreshes
  changed ones) and the result cached.
- `Registrations` writes the registrations of concurrent updates together (a group commit): those
  that come while a group is being written wait for it, then the first of them writes them all in
  one transaction of a few statements (`services.users.register_many`), so a burst of new users
  costs a handful of statements per group instead of several per user. Its session is its own: the
  update's session is not opened for it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.changes import RowChanges
from db.models import utcnow
from db.repositories.users import TelegramProfile, UserRepository
from services.kv import KeyValueStore
from services.users import ChatInfo, ChatView, Registration, Seen, UserView, chat_matches, profile_of, register_many

log = logging.getLogger(__name__)
_View = TypeVar("_View", UserView, ChatView)

DEFAULT_TTL = 60.0
FLUSH_CHUNK = 500  # user ids per UPDATE … WHERE id IN (…)


def _dump(values: list[Any]) -> bytes:
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode()


def dump_user(view: UserView) -> bytes:
    expires = view.plan_expires_at.isoformat() if view.plan_expires_at is not None else None
    return _dump(
        [
            view.id,
            view.telegram_id,
            view.username,
            view.first_name,
            view.language_code,
            view.locale,
            view.plan,
            expires,
            view.invite_code,
            int(view.banned),
            int(view.bot_blocked),
        ]
    )


def load_user(raw: bytes) -> UserView:
    (id_, telegram_id, username, first_name, language_code, locale, plan, expires, invite, banned, blocked) = (
        json.loads(raw)
    )
    return UserView(
        id=int(id_),
        telegram_id=int(telegram_id),
        username=username,
        first_name=first_name,
        language_code=language_code,
        locale=locale,
        plan=plan,
        plan_expires_at=datetime.fromisoformat(expires) if expires is not None else None,
        invite_code=invite,
        banned=bool(banned),
        bot_blocked=bool(blocked),
    )


def dump_chat(view: ChatView) -> bytes:
    return _dump([view.id, view.type, view.title, view.locale, int(view.active)])


def load_chat(raw: bytes) -> ChatView:
    id_, type_, title, locale, active = json.loads(raw)
    return ChatView(id=int(id_), type=type_, title=title, locale=locale, active=bool(active))


class ViewCache:
    """Views of users (by Telegram id) and chats, `ttl` seconds in the store; `ttl` 0 turns it off."""

    def __init__(self, store: KeyValueStore, ttl: float = DEFAULT_TTL) -> None:
        self.store = store
        self.ttl = ttl

    @staticmethod
    def _user_key(telegram_id: int) -> str:
        return f"uv1:{telegram_id}"

    @staticmethod
    def _id_key(user_id: int) -> str:
        return f"uv1-id:{user_id}"  # users.id → Telegram id, to drop a user changed by id

    @staticmethod
    def _chat_key(chat_id: int) -> str:
        return f"cv1:{chat_id}"

    async def user(self, telegram_id: int) -> UserView | None:
        return (await self.views(telegram_id, None))[0]

    async def chat(self, chat_id: int) -> ChatView | None:
        return (await self.views(None, chat_id))[1]

    async def views(self, telegram_id: int | None, chat_id: int | None) -> tuple[UserView | None, ChatView | None]:
        """The cached user and chat views an update needs, in one read (one round trip on Redis)."""
        keys = self.keys(telegram_id, chat_id)
        return self.loaded(telegram_id, chat_id, await self.store.get_many(keys) if keys else [])

    def keys(self, telegram_id: int | None, chat_id: int | None) -> list[str]:
        """The store keys of these views (none when caching is off): for a caller that reads them
        together with other keys in one call (`KeyValueStore.read`), then hands them to `loaded`."""
        if not self.ttl:
            return []
        return [
            *([self._user_key(telegram_id)] if telegram_id is not None else []),
            *([self._chat_key(chat_id)] if chat_id is not None else []),
        ]

    def loaded(
        self, telegram_id: int | None, chat_id: int | None, raws: Sequence[bytes | None]
    ) -> tuple[UserView | None, ChatView | None]:
        """The views from the values read at `keys(telegram_id, chat_id)`, in that order."""
        if not raws:
            return None, None
        values = iter(raws)
        user_raw = next(values) if telegram_id is not None else None
        chat_raw = next(values) if chat_id is not None else None
        return _loaded(load_user, user_raw, "user", telegram_id), _loaded(load_chat, chat_raw, "chat", chat_id)

    async def keep(self, user: UserView | None, chat: ChatView | None) -> None:
        if not self.ttl:
            return
        items: dict[str, bytes] = {}
        if user is not None:
            items[self._user_key(user.telegram_id)] = dump_user(user)
            items[self._id_key(user.id)] = str(user.telegram_id).encode()
        if chat is not None:
            items[self._chat_key(chat.id)] = dump_chat(chat)
        await self.store.set_many(items, self.ttl)  # one round trip on Redis

    async def rows_changed(self, changes: RowChanges) -> None:
        """Drop the views of changed users and chats (the session's change listener). Never raises:
        the change is committed; should the store fail now, the entry expires after `ttl`."""
        try:
            telegram_ids = set(changes.telegram_ids)
            for user_id in changes.user_ids:
                raw = await self.store.get(self._id_key(user_id))
                if raw is not None:
                    telegram_ids.add(int(raw))
                await self.store.delete(self._id_key(user_id))
            for telegram_id in telegram_ids:
                await self.store.delete(self._user_key(telegram_id))
            for chat_id in changes.chat_ids:
                await self.store.delete(self._chat_key(chat_id))
        except (RedisError, OSError, ValueError) as exc:
            log.warning("cached views not dropped (they expire in %.0f s): %s", self.ttl, exc)


class LastSeen:
    """`users.last_seen_at`, written in batches: `note` per update, one UPDATE per `flush`.

    The ids wait in this process (at most one entry per user); a flush that fails keeps them for
    the next one. Precision is the flush interval."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self._ids: set[int] = set()

    def note(self, user_id: int) -> None:
        self._ids.add(user_id)

    @property
    def pending(self) -> int:
        return len(self._ids)

    async def flush(self) -> None:
        """Write the noted users' `last_seen_at` (now)."""
        ids, self._ids = self._ids, set()
        if not ids:
            return
        now = self.clock()
        try:
            async with self.sessionmaker() as session:
                users = UserRepository(session)
                ordered = sorted(ids)
                for start in range(0, len(ordered), FLUSH_CHUNK):
                    await users.touch_seen(ordered[start : start + FLUSH_CHUNK], now)
                await session.commit()
        except BaseException:
            self._ids |= ids
            raise


@dataclass(frozen=True)
class _Waiting:
    registration: Registration
    seen: asyncio.Future[Seen]


class Registrations:
    """Registrations of concurrent updates, written together (a group commit).

    Should a group fail, each of its updates is written alone: one update's failure costs no other
    its registration."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self._waiting: list[_Waiting] = []  # for the next group
        self._writing: asyncio.Future[None] | None = None  # done when the group being written is

    async def register(self, profile: TelegramProfile | None, chat: ChatInfo | None, now: datetime) -> Seen:
        loop = asyncio.get_running_loop()
        entry = _Waiting(Registration(profile, chat, now), loop.create_future())
        self._waiting.append(entry)
        while not entry.seen.done():
            if self._writing is not None:
                # Everyone waiting wakes together when the group is written (not one per turn of the
                # loop, as behind a lock): those written return, the first of the others writes next.
                await asyncio.wait([self._writing])
                continue
            group, self._waiting = self._waiting, []
            self._writing = writing = loop.create_future()
            try:
                await self._write(group)
            finally:
                self._writing = None
                writing.set_result(None)
                # A writer cancelled mid-way: the next one writes the others of its group.
                self._waiting[:0] = [e for e in group if e is not entry and not e.seen.done()]
        return entry.seen.result()  # this update's error, if writing it failed

    async def _write(self, group: list[_Waiting]) -> None:
        if len(group) > 1:
            try:
                seen = await self._register([entry.registration for entry in group])
            except (SQLAlchemyError, OSError) as exc:
                log.warning("registering %d updates together failed, one by one now: %s", len(group), exc)
            else:
                for entry, one in zip(group, seen, strict=True):
                    entry.seen.set_result(one)
                return
        for entry in group:
            try:
                [one] = await self._register([entry.registration])
            except (SQLAlchemyError, OSError) as exc:
                entry.seen.set_exception(exc)
            else:
                entry.seen.set_result(one)

    async def _register(self, registrations: list[Registration]) -> list[Seen]:
        async with self.sessionmaker() as session:
            return await register_many(session, registrations)


class Registrar:
    """The user and chat behind each update: cached views while they match, the database otherwise
    (`Registrations`, by default through the sessions `last_seen` writes with)."""

    def __init__(self, *, cache: ViewCache, last_seen: LastSeen, registrations: Registrations | None = None) -> None:
        self.cache = cache
        self.last_seen = last_seen
        self.registrations = registrations or Registrations(last_seen.sessionmaker)

    async def register(
        self,
        profile: TelegramProfile | None,
        chat: ChatInfo | None,
        now: datetime,
        cached: tuple[UserView | None, ChatView | None] | None = None,
    ) -> Seen:
        """`cached`: the views already read for this update (`ViewCache.keys`/`loaded`), else read here."""
        if cached is None:
            cached = await self.cache.views(
                profile.telegram_id if profile is not None else None, chat.chat_id if chat is not None else None
            )
        user, chat_view = cached
        if user is not None and (profile is None or profile_of(user) != profile):
            user = None  # Telegram shows a new name or language: refresh the row
        if chat_view is not None and (chat is None or not chat_matches(chat_view, chat)):
            chat_view = None
        need_user = profile is not None and user is None
        need_chat = chat is not None and chat_view is None
        created = False
        if need_user or need_chat:
            fresh = await self.registrations.register(profile if need_user else None, chat if need_chat else None, now)
            created = fresh.user_created
            user = fresh.user if need_user else user
            chat_view = fresh.chat if need_chat else chat_view
            await self.cache.keep(fresh.user, fresh.chat)
        if user is not None and not created:
            self.last_seen.note(user.id)
        return Seen(user=user, user_created=created, chat=chat_view)


def _loaded(load: Callable[[bytes], _View], raw: bytes | None, what: str, key: int | None) -> _View | None:
    if raw is None:
        return None
    try:
        return load(raw)
    except (ValueError, TypeError) as exc:  # an entry another version wrote: read the row
        log.warning("unreadable cached %s %s: %s", what, key, exc)
        return None
