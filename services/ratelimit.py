"""Outgoing Bot API rate limits: one limiter for every call, shared by replicas through Redis.

Telegram allows about 30 messages per second overall, about one per second in a private chat (with
short bursts) and 20 per minute in a group or channel; past that it answers 429 with `retry_after`.
Each limit is a *sliding window*: at most `limit` calls in any `seconds` (stretched by a small safety
share for network jitter). A call reserves a slot in every scope it belongs to (the global scope,
and its chat's scope) in one atomic step, then sleeps once, until its slot: waiters are woken by a
timer at their time, never by polling, so the cost of a call does not grow with the queue.

Reservations are made in order per scope (a slot is never before the scope's latest one), so:
- a call only reserves once its chat's window has room *now*; until then it sleeps until the
  moment the chat's window opens (one timer), so a slow chat never pushes the global queue ahead;
- bulk calls (`Lane.BULK`: outbox deliveries, broadcasts) are spread evenly (no burst beyond the
  few slots that make up for a late wake-up, `bulk_catch_up`) and only take a slot that is due
  within a short horizon, so they never queue ahead of users: a reply
  reserved later still goes first. While a reply is queued (an interactive slot reserved in the
  future: the window was full when it asked) bulk may use only `bulk_share` of the overall window,
  so every slot that frees goes to the waiting replies until they are out; with no reply queued,
  bulk uses the whole budget (a reply then waits at most about one slot: bulk never holds more than
  one reservation per process, at most `bulk_horizon` ahead).
- a 429 pauses only its scope (the chat; or everything once `global_429_chats` different chats
  got one within the pause) for `retry_after`.

Two backends with one contract: `MemoryLimiterBackend` (one process) and `RedisLimiterBackend`
(atomic Lua script on Redis's clock, so N replicas together stay within one bot's limits).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

Clock = Callable[[], float]


class Lane(StrEnum):
    """Who is waiting for a call: a user (interactive, first) or nobody in particular (bulk pushes)."""

    INTERACTIVE = "interactive"
    BULK = "bulk"
    PAID = "paid"  # bulk sent with allow_paid_broadcast: its own, higher overall rate (Stars per message)


current_lane: ContextVar[Lane] = ContextVar("current_lane", default=Lane.INTERACTIVE)


@contextlib.contextmanager
def use_lane(lane: Lane) -> Iterator[None]:
    """Every Bot API call made inside this block goes through the limiter in `lane`."""
    token = current_lane.set(lane)
    try:
        yield
    finally:
        current_lane.reset(token)


@dataclass
class Backlog:
    """Replies (interactive calls) of this process waiting for a slot now, counted by the limiter.

    More than a window's worth waiting (`limit`, the overall limit: a second of Telegram's budget)
    is a burst: an analyst answer then holds its streaming previews back, so the budget goes to the
    first feedback and the final messages of every answer instead of to drafts nobody needs to see
    every second (handlers/streaming.py)."""

    limit: int
    waiting: int = 0

    def congested(self) -> bool:
        return self.waiting >= self.limit


@dataclass(frozen=True, kw_only=True)
class Window:
    """At most `limit` calls in any `seconds`."""

    limit: int
    seconds: float

    def __post_init__(self) -> None:
        if self.limit < 1 or self.seconds <= 0:
            raise ValueError("a window needs limit >= 1 and seconds > 0")


@dataclass(frozen=True, kw_only=True)
class OutgoingLimits:
    overall: Window = Window(limit=30, seconds=1.0)
    private: Window = Window(limit=3, seconds=3.0)  # 1/s on average, a burst of 3
    group: Window = Window(limit=20, seconds=60.0)  # groups, supergroups and channels
    paid: Window = Window(limit=100, seconds=1.0)  # paid broadcasts (Telegram allows up to 1,000/s)
    safety: float = 0.03  # every window is this share longer than Telegram's
    bulk_share: float = 0.8  # of the overall window, for bulk calls while a reply is queued
    bulk_horizon: float = 0.05  # seconds: how far ahead a bulk call may reserve (a reply waits at most this)
    # Seconds of slots a late bulk caller may take back to back. Evenly spaced slots alone lose every
    # late wake-up for good (a stalled event loop: a slow commit, a collection, a busy CPU). A bulk
    # call behind schedule by k gaps takes its slot now (k from this, at least 2); kept as short as
    # the horizon, so a stall turns into a small burst only.
    bulk_catch_up: float = 0.05
    global_429_chats: int = 3  # this many chats answered 429 within a pause → pause everything

    def window(self, scope: Scope) -> Window:
        if scope.kind == "global":
            return self.paid if scope == PAID_GLOBAL else self.overall
        return self.private if scope.kind == "private" else self.group

    def span(self, scope: Scope) -> float:
        return self.window(scope).seconds * (1.0 + self.safety)

    def catch_up_slots(self, limit: int, span: float) -> int:
        """How many bulk calls may go back to back to make up for late wake-ups (the Lua script
        computes the same)."""
        return min(limit, max(2, math.floor(self.bulk_catch_up * limit / span + 0.5)))

    @classmethod
    def scaled(cls, factor: float, **changes: float) -> OutgoingLimits:
        """Every limit × `factor` (benchmarks and tests run against a stand-in scaled the same way)."""
        base = cls()
        return cls(
            overall=Window(limit=max(1, round(base.overall.limit * factor)), seconds=base.overall.seconds),
            private=Window(limit=max(1, round(base.private.limit * factor)), seconds=base.private.seconds),
            group=Window(limit=max(1, round(base.group.limit * factor)), seconds=base.group.seconds),
            **changes,  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class Scope:
    kind: str  # "global" | "private" | "group"
    key: str

    @classmethod
    def for_chat(cls, chat_id: int | str) -> Scope:
        """Private chats have positive ids; groups, supergroups and channels negative ids or @names."""
        private = isinstance(chat_id, int) and chat_id > 0
        return cls(kind="private" if private else "group", key=f"chat:{chat_id}")


GLOBAL = Scope(kind="global", key="global")
PAID_GLOBAL = Scope(kind="global", key="global-paid")
EPSILON = 1e-6  # seconds: "due now" (float time never re-asks for a slot a rounding error away)


@dataclass(frozen=True)
class Reservation:
    """`reserved`: sleep `delay` seconds, then call. Otherwise sleep `delay` and ask again."""

    reserved: bool
    delay: float


class LimiterBackend(Protocol):
    limits: OutgoingLimits

    async def reserve(self, chat: Scope | None, lane: Lane) -> Reservation: ...

    async def paused(self, scope: Scope, seconds: float) -> bool:
        """Pause `scope` for `seconds` after a 429 of one of its calls; True when this escalated to
        pausing everything (enough different chats got a 429 within the pause)."""
        ...

    async def close(self) -> None: ...


def _earliest(
    log: Sequence[float], limit: int, span: float, paused_until: float, *, now: float = 0.0, smooth: int = 0
) -> float:
    """The earliest time a new slot fits after the last one, with `limit` in any `span`.

    `smooth` (k > 0) spreads slots evenly, `span / limit` apart, but a caller behind schedule (its
    wake-ups came late, so the last k slots are further apart than k gaps) may take the slot the
    schedule of k slots back gives, even now: at most k in any k gaps, and the lost time comes back."""
    earliest = paused_until
    if log:
        earliest = max(earliest, log[-1])
        if smooth:
            gap = span / limit
            spaced = log[-1] + gap
            if len(log) >= smooth:  # on the schedule of k slots back, if that is earlier
                spaced = min(spaced, max(now, log[-smooth] + smooth * gap))
            earliest = max(earliest, spaced)
        if len(log) >= limit:
            earliest = max(earliest, log[-limit] + span)
    return earliest


@dataclass
class _ScopeState:
    log: deque[float]
    paused_until: float = -math.inf


@dataclass
class MemoryLimiterBackend:
    """The limiter in one process (the embedded default)."""

    limits: OutgoingLimits = field(default_factory=OutgoingLimits)
    clock: Clock = time.monotonic
    max_scopes: int = 20_000
    _scopes: dict[str, _ScopeState] = field(default_factory=dict)
    _interactive_last: float = -math.inf  # the latest interactive slot: queued while it is in the future
    _recent_429: dict[str, float] = field(default_factory=dict)

    def _state(self, scope: Scope) -> _ScopeState:
        state = self._scopes.get(scope.key)
        if state is None:
            if len(self._scopes) >= self.max_scopes:
                self._evict(self.clock())
            state = _ScopeState(log=deque(maxlen=self.limits.window(scope).limit))
            self._scopes[scope.key] = state
        return state

    def _evict(self, now: float) -> None:
        """Forget scopes with nothing in their window (they would allow a call now anyway)."""
        longest = max(self.limits.span(GLOBAL), self.limits.group.seconds * (1 + self.limits.safety))
        stale = [
            key
            for key, state in self._scopes.items()
            if key != GLOBAL.key and (not state.log or state.log[-1] < now - longest) and state.paused_until < now
        ]
        for key in stale:
            del self._scopes[key]

    async def reserve(self, chat: Scope | None, lane: Lane) -> Reservation:
        now = self.clock()
        overall = self._state(GLOBAL)
        if chat is not None:
            state = self._state(chat)
            chat_at = _earliest(state.log, self.limits.window(chat).limit, self.limits.span(chat), state.paused_until)
            if chat_at > now + EPSILON:
                return Reservation(reserved=False, delay=chat_at - now)
        scope = PAID_GLOBAL if lane is Lane.PAID else GLOBAL
        limit = self.limits.window(scope).limit
        sharing = lane is Lane.BULK and self._interactive_last > now + EPSILON  # a reply is queued
        if sharing:
            limit = max(1, math.floor(limit * self.limits.bulk_share))
        if lane is Lane.PAID:
            overall = self._state(PAID_GLOBAL)
        span = self.limits.span(scope)
        bulk = lane is not Lane.INTERACTIVE
        paused_until = max(overall.paused_until, self._state(GLOBAL).paused_until)
        smooth = self.limits.catch_up_slots(limit, span) if bulk else 0
        at = max(now, _earliest(overall.log, limit, span, paused_until, now=now, smooth=smooth))
        if bulk and at - now > self.limits.bulk_horizon + EPSILON:
            delay = at - now - self.limits.bulk_horizon
            if sharing:  # ask again once the queued replies are out: the whole budget is back then
                delay = min(delay, self._interactive_last - now)
            return Reservation(reserved=False, delay=delay)
        overall.log.append(at)
        if chat is not None:
            self._state(chat).log.append(at)
        if not bulk:
            self._interactive_last = max(self._interactive_last, at)
        return Reservation(reserved=True, delay=at - now)

    async def paused(self, scope: Scope, seconds: float) -> bool:
        now = self.clock()
        until = now + seconds
        state = self._state(scope)
        state.paused_until = max(state.paused_until, until)
        if scope == GLOBAL:
            return True
        self._recent_429 = {key: at for key, at in self._recent_429.items() if at > now}
        self._recent_429[scope.key] = until
        if len(self._recent_429) >= self.limits.global_429_chats:
            overall = self._state(GLOBAL)
            overall.paused_until = max(overall.paused_until, until)
            return True
        return False

    async def close(self) -> None:
        self._scopes.clear()
