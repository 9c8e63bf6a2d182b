"""Manual signals: an operator's `/signal`, read, previewed, then confirmed (or cancelled).

    /signal btc long 4h entry=65000 sl=63500 tp=67000,69000 valid=12h note=Breakout retest
    /signal eth 空 1h entry=3000 sl=3080 tp=2900 conf=60

- `parse_manual(args)` reads the arguments (no I/O): the coin, the direction (long/short, 多/空,
  做多/做空), the timeframe (5m … 1w), `entry=`, `sl=`, `tp=` (1-3 levels, comma-separated), `valid=`
  (30m-30d, default 24h), `conf=` (1-100, default 50) and `note=` (the rest of the line). Levels on the
  wrong side of entry are refused here, before anything else. A problem is a `ManualSignalError`
  whose `code` the handler localises (`signal-error-<code>`); the coin is checked by the handler
  against the market service's known coins.
- `DraftStore` keeps a previewed signal and its chart for `DRAFT_TTL` seconds in the key-value store
  (Redis when set: any replica can confirm it); `take` claims it once (compare-and-delete), so a
  second Confirm press finds nothing.
- `confirm_manual` stores the signal (source "manual", strategy "manual" version "1", created by the
  operator), publishes it (services/signals/publish.py) and writes the audit row, in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta

from db.repositories.deliveries import DeliveryRepository
from db.repositories.signals import SignalRepository
from services.audit import record_admin_action
from services.delivery import OutboxWake
from services.i18n import Translations
from services.kv import KeyValueStore
from services.market import UnsupportedTimeframe, validate_timeframe
from services.signals.model import MAX_TARGETS, Direction, InvalidSignal, SignalIdea, check_sides, new_signal
from services.signals.publish import publish
from services.uow import Session

STRATEGY, VERSION = "manual", "1"
REASON = ("manual",)
AUDIT_ACTION = "signal"
DEFAULT_VALID = timedelta(hours=24)
MIN_VALID, MAX_VALID = timedelta(minutes=30), timedelta(days=30)
DEFAULT_CONFIDENCE = 50
NOTE_LIMIT = 300
MAX_COIN = 32
DRAFT_TTL = 900.0  # seconds a preview can be confirmed
_DIRECTIONS: dict[str, Direction] = {
    "long": "long",
    "buy": "long",
    "多": "long",
    "做多": "long",
    "short": "short",
    "sell": "short",
    "空": "short",
    "做空": "short",
}
_KEYS = {"entry", "sl", "tp", "valid", "conf", "note"}
_NUMBER = re.compile(r"^(\d+(?:\.\d+)?|\.\d+)(k)?$", re.IGNORECASE)
_DURATION = re.compile(r"^(\d{1,4})([mhdw])$", re.IGNORECASE)
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


class ManualSignalError(ValueError):
    """`code` names the problem (the handler's `signal-error-<code>` text); `args` fill it in."""

    def __init__(self, code: str, **args: str) -> None:
        super().__init__(code)
        self.code = code
        self.args_ = args


@dataclass(frozen=True, slots=True, kw_only=True)
class ManualDraft:
    """A parsed `/signal`: everything but the coin's market (resolved by the handler) and the time."""

    coin: str  # as typed until resolved, then the base ("BTC")
    exchange: str = ""
    direction: Direction
    timeframe: str
    entry: float
    stop: float
    targets: tuple[float, ...]
    valid_seconds: int = int(DEFAULT_VALID.total_seconds())
    confidence: int = DEFAULT_CONFIDENCE
    note: str = ""
    admin_id: int = 0

    def idea(self, now: datetime) -> SignalIdea:
        """The signal as published at `now` (valid from then for `valid_seconds`)."""
        return SignalIdea(
            symbol=self.coin,
            exchange=self.exchange,
            timeframe=self.timeframe,
            direction=self.direction,
            entry=self.entry,
            stop=self.stop,
            targets=self.targets,
            confidence=self.confidence,
            reason=REASON,
            signal_at=now,
            valid_until=now + timedelta(seconds=self.valid_seconds),
            strategy=STRATEGY,
            version=VERSION,
            source="manual",
            created_by=self.admin_id,
            note=self.note,
        )

    def resolved(self, base: str, exchange: str, admin_id: int) -> ManualDraft:
        return replace(self, coin=base, exchange=exchange, admin_id=admin_id)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> ManualDraft:
        data = json.loads(raw)
        data["targets"] = tuple(data["targets"])
        return cls(**data)


def _number(key: str, text: str) -> float:
    match = _NUMBER.match(text.strip())
    if match is None:
        raise ManualSignalError("number", name=key, value=text[:MAX_COIN])
    value = float(match[1]) * (1_000 if match[2] else 1)
    if not math.isfinite(value) or value <= 0:
        raise ManualSignalError("number", name=key, value=text[:MAX_COIN])
    return value


def _valid(text: str) -> int:
    match = _DURATION.match(text.strip())
    if match is None:
        raise ManualSignalError("valid", value=text[:MAX_COIN])
    duration = int(match[1]) * _UNITS[match[2].lower()]
    if not MIN_VALID <= duration <= MAX_VALID:
        raise ManualSignalError("valid", value=text[:MAX_COIN])
    return int(duration.total_seconds())


def _split_note(args: str) -> tuple[str, str]:
    """(the arguments before `note=`, the note): the note takes the rest of the line, spaces and all."""
    found = re.search(r"(?:^|\s)note=", args, re.IGNORECASE)
    if found is None:
        return args, ""
    return args[: found.start()], args[found.end() :].strip()


def parse_manual(args: str | None) -> ManualDraft:
    """The draft of `/signal <args>`; `ManualSignalError` naming the first problem."""
    head, note = _split_note((args or "").strip())
    if len(note) > NOTE_LIMIT:
        raise ManualSignalError("note", limit=str(NOTE_LIMIT), length=str(len(note)))
    words: list[str] = []
    values: dict[str, str] = {}
    for token in head.split():
        key, equals, value = token.partition("=")
        if not equals:
            words.append(token)
            continue
        key = key.lower()
        if key not in _KEYS:
            raise ManualSignalError("key", name=key[:MAX_COIN])
        if not value:
            raise ManualSignalError("number", name=key, value="")
        values[key] = value
    direction: Direction | None = None
    timeframe: str | None = None
    coins: list[str] = []
    for word in words:
        lowered = word.lower()
        if lowered in _DIRECTIONS and direction is None:
            direction = _DIRECTIONS[lowered]
            continue
        if timeframe is None and re.fullmatch(r"\d+[mhdw]|[hdw]\d+", lowered):
            try:
                timeframe = validate_timeframe(lowered)
            except UnsupportedTimeframe:
                raise ManualSignalError("timeframe", value=word[:MAX_COIN]) from None
            continue
        coins.append(word)
    if len(coins) != 1 or direction is None or timeframe is None or len(coins[0]) > MAX_COIN:
        raise ManualSignalError("usage")
    for key in ("entry", "sl", "tp"):
        if key not in values:
            raise ManualSignalError("missing", name=key)
    entry = _number("entry", values["entry"])
    stop = _number("sl", values["sl"])
    parts = [part for part in re.split(r"[,;/]", values["tp"])]
    if not 1 <= len(parts) <= MAX_TARGETS:
        raise ManualSignalError("targets", limit=str(MAX_TARGETS))
    targets = tuple(_number("tp", part) for part in parts)
    valid = _valid(values["valid"]) if "valid" in values else int(DEFAULT_VALID.total_seconds())
    confidence = DEFAULT_CONFIDENCE
    if "conf" in values:
        if not values["conf"].isdigit() or not 1 <= int(values["conf"]) <= 100:
            raise ManualSignalError("conf", value=values["conf"][:MAX_COIN])
        confidence = int(values["conf"])
    try:
        check_sides(direction, entry, stop, targets)
    except InvalidSignal as problem:
        raise ManualSignalError(str(problem)) from None  # stop_wrong_side / target_wrong_side / targets_order
    return ManualDraft(
        coin=coins[0],
        direction=direction,
        timeframe=timeframe,
        entry=entry,
        stop=stop,
        targets=targets,
        valid_seconds=valid,
        confidence=confidence,
        note=note,
    )


# ----------------------------------------------------------------------------------------- drafts
class DraftStore:
    """Previewed drafts and their charts, for `ttl` seconds; each claimed at most once."""

    def __init__(self, store: KeyValueStore, ttl: float = DRAFT_TTL, prefix: str = "signal-draft:") -> None:
        self._store = store
        self._ttl = ttl
        self._prefix = prefix

    async def save(self, draft: ManualDraft, chart: bytes | None) -> str:
        """Keep the draft (and its chart); the token its buttons carry."""
        token = secrets.token_urlsafe(12)
        if chart:
            await self._store.set(f"{self._prefix}png:{token}", chart, ttl=self._ttl)
        await self._store.set(f"{self._prefix}{token}", draft.to_json(), ttl=self._ttl)
        return token

    async def take(self, token: str, admin_id: int) -> tuple[ManualDraft, bytes | None] | None:
        """The operator's draft and its chart, claimed: only one caller ever gets them (None: gone,
        taken, or someone else's)."""
        key = f"{self._prefix}{token}"
        raw = await self._store.get(key)
        if raw is None or ManualDraft.from_json(raw).admin_id != admin_id:
            return None
        if not await self._store.delete_if(key, raw):
            return None
        chart = await self._store.get(f"{self._prefix}png:{token}")
        await self._store.delete(f"{self._prefix}png:{token}")
        return ManualDraft.from_json(raw), chart


@dataclass(frozen=True, slots=True)
class Confirmed:
    signal_id: int | None  # None: a manual signal for this coin, timeframe and direction is still open
    chats: int  # outbox rows written
    idea: SignalIdea


async def confirm_manual(
    session: Session,
    draft: ManualDraft,
    *,
    chart: bytes | None,
    translations: Translations,
    now: datetime,
    wake: OutboxWake | None = None,
    chart_file_id: str | None = None,
) -> Confirmed:
    """Insert, publish and audit the signal in one transaction (commits). `chart_file_id`: the
    file_id Telegram gave the chart when the preview showed it; the sender then passes it to every
    chat instead of uploading the chart again."""
    idea = draft.idea(now)
    repository = SignalRepository(session)
    signal_id = await repository.add(new_signal(idea))
    details = (
        f"{idea.symbol} {idea.timeframe} {idea.direction} entry={idea.entry:g} sl={idea.stop:g} "
        f"tp={','.join(f'{target:g}' for target in idea.targets)} valid_until={idea.valid_until.isoformat()} "
        f"conf={idea.confidence} note={idea.note!r}"
    )
    if signal_id is None:
        await record_admin_action(session, draft.admin_id, AUDIT_ACTION, None, f"outcome=already_open {details}")
        return Confirmed(None, 0, idea)
    record = await repository.get(signal_id)
    assert record is not None  # inserted in this transaction
    chats = await publish(session, record, chart=chart, translations=translations, now=now, wake=wake)
    if chart and chart_file_id and chats:
        sha256 = hashlib.sha256(chart).hexdigest()
        repository_media = DeliveryRepository(session)
        media = await repository_media.media(sha256)
        if media is not None and media.file_id is None:
            await repository_media.set_file_id(sha256, chart_file_id)
    await record_admin_action(
        session, draft.admin_id, AUDIT_ACTION, str(signal_id), f"outcome=published chats={chats} {details}"
    )
    return Confirmed(signal_id, chats, idea)


async def cancel_manual(session: Session, draft: ManualDraft) -> None:
    """Audit a cancelled preview (nothing else happens); commits."""
    await record_admin_action(
        session,
        draft.admin_id,
        AUDIT_ACTION,
        None,
        f"outcome=cancelled {draft.coin} {draft.timeframe} {draft.direction}",
    )
