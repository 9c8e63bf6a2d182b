"""Operators' broadcasts: a message to every user, a plan's users or a language's, through the outbox.

- `parse_broadcast`: `/broadcast <all|free|vip|pro|en|zh> [text]` or `/broadcast cancel [id]`;
- `BroadcastDrafts`: a previewed broadcast kept in the key-value store for `DRAFT_TTL` seconds (any
  replica can confirm it), claimed once, so a second Confirm press sends nothing;
- `start_broadcast`: the audience's outbox rows (kind "broadcast", ref_id = the broadcast's id, after
  other pushes) and the `broadcast_start` audit row holding the broadcast's state, in one
  transaction; users who blocked the bot get a skipped row, never an attempt;
- `broadcast_status` / `running_broadcasts`: the rows' counts for the progress message;
- `cancel_broadcast`: the rows still waiting are skipped (the sender never sends them);
- `finish_broadcast`: the `broadcast_done` audit row with the final counts, once.

Audiences are read from the users table in one statement; a plan is the user's effective plan (a paid
plan past its expiry is free) and a language the user's resolved interface language.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime

from db.models import utcnow
from db.repositories.broadcasts import AudienceRow, BroadcastCounts, BroadcastRepository, StartedBroadcast
from services.audit import stage_admin_action
from services.credits.plans import effective_plan_code
from services.delivery import CopySource, OutboxMessage, OutboxWake, enqueue
from services.i18n import SUPPORTED_LOCALES, normalize_locale
from services.kv import KeyValueStore
from services.uow import Session

__all__ = [
    "AUDIENCES",
    "KIND",
    "BroadcastCounts",
    "BroadcastDraft",
    "BroadcastDrafts",
    "BroadcastRequest",
    "BroadcastState",
    "CancelRequest",
    "audience_size",
    "broadcast_status",
    "cancel_broadcast",
    "finish_broadcast",
    "parse_broadcast",
    "running_broadcasts",
    "start_broadcast",
]

KIND = "broadcast"
PRIORITY = 10  # after signals and alerts waiting at the same time (lower goes first)
PLANS = ("free", "vip", "pro")
AUDIENCES = ("all", *PLANS, *SUPPORTED_LOCALES)
DRAFT_TTL = 900.0  # seconds a preview can be confirmed
CANCEL_WORD = "cancel"


@dataclass(frozen=True)
class BroadcastRequest:
    audience: str
    text: str  # Telegram HTML; empty when the replied-to message is copied


@dataclass(frozen=True)
class CancelRequest:
    broadcast_id: int | None  # None: every running broadcast


def parse_broadcast(args_html: str | None) -> BroadcastRequest | CancelRequest | None:
    """The command's arguments as Telegram HTML (the operator's formatting kept) → a request; None
    when malformed (no audience, an unknown one, a bad id)."""
    parts = (args_html or "").strip().split(maxsplit=1)
    if not parts:
        return None
    word = parts[0].lower()
    rest = parts[1].strip() if len(parts) > 1 else ""
    if word == CANCEL_WORD:
        if not rest:
            return CancelRequest(None)
        if rest.isdigit() and 0 < int(rest) < 2**63:
            return CancelRequest(int(rest))
        return None
    if word not in AUDIENCES:
        return None
    return BroadcastRequest(word, rest)


def in_audience(row: AudienceRow, audience: str, now: datetime, default_locale: str) -> bool:
    if audience == "all":
        return True
    if audience in PLANS:
        return effective_plan_code(row.plan, row.plan_expires_at, now) == audience
    locale = row.locale or normalize_locale(row.language_code) or default_locale
    return locale == audience


async def _recipients(session: Session, audience: str, now: datetime, default_locale: str) -> list[int]:
    rows = await BroadcastRepository(session).audience()
    return [row.telegram_id for row in rows if in_audience(row, audience, now, default_locale)]


async def audience_size(session: Session, audience: str, default_locale: str, now: datetime | None = None) -> int:
    """How many users the audience has now (ends the read)."""
    size = len(await _recipients(session, audience, now or utcnow(), default_locale))
    await session.commit()
    return size


@dataclass(frozen=True)
class BroadcastDraft:
    admin_id: int
    audience: str
    text: str = ""  # Telegram HTML
    copy_chat_id: int | None = None  # or a copy of this message
    copy_message_id: int | None = None

    def message(self) -> OutboxMessage:
        """The pushed message (raises InvalidDelivery when Telegram would refuse it)."""
        if self.copy_chat_id is not None and self.copy_message_id is not None:
            source = CopySource(from_chat_id=self.copy_chat_id, message_id=self.copy_message_id)
            return OutboxMessage.build(copy_of=source)
        return OutboxMessage.build(text=self.text)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> BroadcastDraft:
        return cls(**json.loads(raw))


class BroadcastDrafts:
    """Previewed broadcasts for `ttl` seconds; each claimed at most once, by its own operator."""

    def __init__(self, store: KeyValueStore, ttl: float = DRAFT_TTL, prefix: str = "broadcast-draft:") -> None:
        self._store = store
        self._ttl = ttl
        self._prefix = prefix

    async def save(self, draft: BroadcastDraft) -> str:
        token = secrets.token_urlsafe(12)
        await self._store.set(f"{self._prefix}{token}", draft.to_json(), ttl=self._ttl)
        return token

    async def take(self, token: str, admin_id: int) -> BroadcastDraft | None:
        key = f"{self._prefix}{token}"
        raw = await self._store.get(key)
        if raw is None or BroadcastDraft.from_json(raw).admin_id != admin_id:
            return None
        if not await self._store.delete_if(key, raw):
            return None
        return BroadcastDraft.from_json(raw)


@dataclass(frozen=True)
class BroadcastState:
    """A started broadcast: where its progress message is and what it counts."""

    id: int
    admin_id: int
    audience: str
    chat_id: int  # the operator's chat and the message edited with the progress
    message_id: int
    locale: str
    started_at: datetime
    counts: BroadcastCounts

    @classmethod
    def of(cls, started: StartedBroadcast, counts: BroadcastCounts) -> BroadcastState:
        state = json.loads(started.details)
        return cls(
            id=started.id,
            admin_id=started.actor_telegram_id,
            audience=str(state.get("audience", "all")),
            chat_id=int(state.get("chat", started.actor_telegram_id)),
            message_id=int(state.get("message", 0)),
            locale=str(state.get("locale", "en")),
            started_at=started.created_at,
            counts=counts,
        )


async def start_broadcast(
    session: Session,
    draft: BroadcastDraft,
    *,
    chat_id: int,
    message_id: int,
    locale: str,
    default_locale: str,
    now: datetime | None = None,
    wake: OutboxWake | None = None,
) -> BroadcastState:
    """The audience's outbox rows and the start's audit row, in one transaction (commits). `chat_id`
    and `message_id`: the operator's message that shows the progress."""
    now = now or utcnow()
    message = draft.message()
    repository = BroadcastRepository(session)
    chats = await _recipients(session, draft.audience, now, default_locale)
    content = "copy" if message.copy_of is not None else "text"
    state = {"audience": draft.audience, "chat": chat_id, "message": message_id, "locale": locale}
    details = {**state, "content": content, "users": len(chats)}
    if message.copy_of is not None:
        details["copy_of"] = f"{message.copy_of.from_chat_id}:{message.copy_of.message_id}"
    row = repository.stage_start(draft.admin_id, json.dumps(details), now)
    broadcast_id = await repository.name_started(row)
    await enqueue(
        session, kind=KIND, ref_id=broadcast_id, chat_ids=chats, payload=message, priority=PRIORITY, now=now, wake=wake
    )
    counts = await repository.counts(KIND, str(broadcast_id))
    await session.commit()
    started = StartedBroadcast(broadcast_id, draft.admin_id, json.dumps(state), now)
    return BroadcastState.of(started, counts)


async def broadcast_status(session: Session, broadcast_id: int) -> BroadcastState | None:
    repository = BroadcastRepository(session)
    started = await repository.get_started(broadcast_id)
    state = None if started is None else BroadcastState.of(started, await repository.counts(KIND, str(started.id)))
    await session.commit()
    return state


async def running_broadcasts(session: Session, after_id: int = 0) -> tuple[list[BroadcastState], int]:
    """Broadcasts started (after audit row `after_id`) and not finished yet, with their counts, and
    the newest audit id when they were read (a caller may skip up to it once every transaction that
    could still commit a lower id has ended). One statement while none runs. Ends the read."""
    repository = BroadcastRepository(session)
    running, last_id = await repository.running_and_last_id(after_id)
    states = [BroadcastState.of(started, await repository.counts(KIND, str(started.id))) for started in running]
    await session.commit()
    return states, last_id


async def cancel_broadcast(session: Session, actor: int, broadcast_id: int | None) -> list[tuple[int, int]]:
    """Stop the rows still waiting of one broadcast (or of every running one): (id, rows stopped)
    for each, audited; commits. An empty list: nothing is running (or no such broadcast)."""
    repository = BroadcastRepository(session)
    if broadcast_id is None:
        ids = [started.id for started in await repository.running()]
    else:
        ids = [broadcast_id] if await repository.get_started(broadcast_id) is not None else []
    stopped: list[tuple[int, int]] = []
    for id_ in ids:
        skipped = await repository.cancel(KIND, str(id_), f"by operator {actor}")
        stage_admin_action(session, actor, "broadcast_cancel", f"broadcast:{id_}", f"rows stopped={skipped}")
        stopped.append((id_, skipped))
    if not ids:
        stage_admin_action(session, actor, "broadcast_cancel", None, f"refused: nothing running (id={broadcast_id})")
    await session.commit()
    return stopped


async def finish_broadcast(session: Session, state: BroadcastState, now: datetime | None = None) -> bool:
    """The `broadcast_done` audit row with the final counts (commits): the broadcast is no longer
    running. False when it had been finished already (by another replica): nothing written."""
    counts = state.counts
    details = (
        f"sent={counts.sent} failed={counts.failed} blocked={counts.blocked} "
        f"cancelled={counts.cancelled} total={counts.total}"
    )
    repository = BroadcastRepository(session)
    if not await repository.claim_done(state.id):
        await session.commit()
        return False
    repository.stage_done(state.id, state.admin_id, details, now or utcnow())
    await session.commit()
    return True
