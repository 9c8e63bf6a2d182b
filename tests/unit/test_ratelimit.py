"""The outgoing limiter's schedule, judged by the Bot API stand-in's own limits on one virtual clock.

A virtual-time loop: each caller asks the backend for a slot at its current virtual time, sleeps
(virtually) as told, and "sends" at its slot; the stand-in's RateLimiter, on the same clock, answers
each send as Telegram would. No real time passes.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

from services.ratelimit import (
    GLOBAL,
    Lane,
    LimiterBackend,
    MemoryLimiterBackend,
    OutgoingLimits,
    Scope,
    Window,
)
from services.ratelimit_redis import RedisLimiterBackend
from standins.telegram import ManualClock, RateLimiter, RateLimits
from tests.backends import flush_prefix, need, redis_prefix

Factory = Callable[[ManualClock], LimiterBackend]


@pytest.fixture(params=["memory", "redis"])
async def make_backend(request: pytest.FixtureRequest):
    """The limiter on one process, and on Redis (the Lua script) driven by the same virtual clock."""
    if request.param == "memory":
        yield lambda clock: MemoryLimiterBackend(OutgoingLimits(), clock)
        return
    url = need("TEST_REDIS_URL")
    prefix = redis_prefix()
    client = Redis.from_url(url)
    try:
        yield lambda clock: RedisLimiterBackend(client, OutgoingLimits(), prefix=prefix, clock=clock)
    finally:
        await client.aclose()
        await flush_prefix(url, prefix)


@dataclass
class Sent:
    at: float
    chat_id: int
    lane: Lane
    requested: float


async def simulate(
    backend: LimiterBackend, clock: ManualClock, requests: list[tuple[float, int, Lane]]
) -> tuple[list[Sent], int]:
    """Run `requests` (time, chat id, lane) through the backend in virtual time; returns what was
    sent when, and how many 429s the stand-in's limits would have answered.

    As in the middleware, bulk calls ask one at a time (FIFO): only the head of the bulk queue asks
    the backend, so a 10,000-chat push costs one reservation attempt per wake-up, not 10,000."""
    judge = RateLimiter(RateLimits(), clock)
    order = itertools.count()
    # (time, seq, request index, phase): "ask" reserves, "send" sends
    agenda: list[tuple[float, int, int, str]] = []
    bulk_queue: list[int] = []
    bulk_busy = False

    def push(at: float, index: int, phase: str) -> None:
        heapq.heappush(agenda, (at, next(order), index, phase))

    for index, (at, _, lane) in enumerate(requests):
        if lane is not Lane.INTERACTIVE:
            bulk_queue.append(index)
        else:
            push(at, index, "ask")
    bulk_queue.sort(key=lambda i: requests[i][0])
    bulk_queue.reverse()
    sent: list[Sent] = []
    rejected = 0
    while agenda or bulk_queue:
        if not bulk_busy and bulk_queue:
            index = bulk_queue.pop()
            push(max(clock.now, requests[index][0]), index, "ask")
            bulk_busy = True
        at, _, index, phase = heapq.heappop(agenda)
        clock.now = max(clock.now, at)
        requested, chat_id, lane = requests[index]
        if phase == "send":
            if judge.acquire(chat_id, chat_id > 0, paid=lane is Lane.PAID) is not None:
                rejected += 1
            sent.append(Sent(clock.now, chat_id, lane, requested))
            continue
        reservation = await backend.reserve(Scope.for_chat(chat_id), lane)
        push(clock.now + reservation.delay, index, "send" if reservation.reserved else "ask")
        if reservation.reserved and lane is not Lane.INTERACTIVE:
            bulk_busy = False
    return sent, rejected


def max_in_window(times: list[float], seconds: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_a_burst_of_3000_users_stays_within_every_limit_and_near_the_overall_rate(make_backend: Factory):
    clock = ManualClock(0.0)
    backend = make_backend(clock)
    rng = random.Random(7)
    requests = [(0.0, 10_000 + n, Lane.INTERACTIVE) for n in range(3000)]
    requests += [(rng.uniform(0, 5), 10_000 + rng.randrange(3000), Lane.INTERACTIVE) for _ in range(600)]
    sent, rejected = await simulate(backend, clock, requests)
    assert rejected == 0
    assert len(sent) == len(requests)
    assert max_in_window([s.at for s in sent], 1.0) <= 30
    span = max(s.at for s in sent) - min(s.at for s in sent)
    rate = len(sent) / span
    assert 0.95 * 30 <= rate <= 30


async def test_groups_get_20_in_any_minute_and_private_chats_a_small_burst(make_backend: Factory):
    clock = ManualClock(0.0)
    backend = make_backend(clock)
    requests = [(0.0, -1001, Lane.INTERACTIVE) for _ in range(45)] + [(0.0, 42, Lane.INTERACTIVE) for _ in range(7)]
    sent, rejected = await simulate(backend, clock, requests)
    assert rejected == 0
    group = sorted(s.at for s in sent if s.chat_id == -1001)
    assert max_in_window(group, 60.0) == 20
    assert group[19] < 1.0 < 60.0 < group[20]  # 20 at once, the 21st when the first leaves the window
    private = sorted(s.at for s in sent if s.chat_id == 42)
    assert private[:3] == pytest.approx([0.0, 0.0, 0.0], abs=0.2)
    assert max_in_window(private, 3.0) <= 3


async def test_a_slow_group_never_delays_other_chats(make_backend: Factory):
    clock = ManualClock(0.0)
    backend = make_backend(clock)
    requests = [(0.0, -2002, Lane.INTERACTIVE) for _ in range(40)] + [(1.0, 7, Lane.INTERACTIVE)]
    sent, _ = await simulate(backend, clock, requests)
    (reply,) = [s for s in sent if s.chat_id == 7]
    assert reply.at - reply.requested < 0.1


async def test_interactive_replies_go_ahead_of_a_long_push(make_backend: Factory):
    clock = ManualClock(0.0)
    backend = make_backend(clock)
    push = [(0.0, 100_000 + n, Lane.BULK) for n in range(4000)]
    replies = [(10.0 + n * 0.5, 500 + n, Lane.INTERACTIVE) for n in range(40)]
    sent, rejected = await simulate(backend, clock, push + replies)
    assert rejected == 0
    waits = sorted(s.at - s.requested for s in sent if s.lane is Lane.INTERACTIVE)
    assert waits[-1] < 1.0
    bulk = sorted(s.at for s in sent if s.lane is Lane.BULK)
    assert len(bulk) / (bulk[-1] - bulk[0]) >= 0.95 * 30 * 0.97  # the push still runs near the limit


async def test_bulk_uses_at_most_its_share_while_a_reply_is_queued(make_backend: Factory):
    clock = ManualClock(0.0)
    backend = make_backend(clock)
    full_gap, shared_gap = 1.03 / 30, 1.03 / (30 * 0.8)  # bulk's spacing: the whole window, or its share
    first = await backend.reserve(Scope.for_chat(100_001), Lane.BULK)
    second = await backend.reserve(Scope.for_chat(100_002), Lane.BULK)
    assert (first.reserved, second.reserved) and second.delay == pytest.approx(full_gap, abs=1e-5)
    reply = await backend.reserve(Scope.for_chat(501), Lane.INTERACTIVE)
    assert reply.reserved and reply.delay == pytest.approx(full_gap, abs=1e-5)  # queued behind the bulk slot taken
    # While the reply is queued, bulk is spaced for its share of the window: its next slot would be
    # `shared_gap` after the reply, beyond the horizon; it asks again no later than the reply's slot.
    third = await backend.reserve(Scope.for_chat(100_003), Lane.BULK)
    assert not third.reserved
    assert third.delay == pytest.approx(full_gap + shared_gap - 0.05, abs=1e-5)
    # The reply's slot has come: nothing is queued, and bulk has the whole budget again.
    clock.advance(full_gap)
    fourth = await backend.reserve(Scope.for_chat(100_003), Lane.BULK)
    assert fourth.reserved and fourth.delay == pytest.approx(full_gap, abs=1e-5)


async def test_a_burst_of_replies_goes_out_at_the_full_rate_ahead_of_the_push(make_backend: Factory):
    clock = ManualClock(0.0)
    backend = make_backend(clock)
    push = [(0.0, 100_000 + n, Lane.BULK) for n in range(2000)]
    # 100 replies in one second, more than the overall limit: they queue behind a full window.
    replies = [(5.0 + n * 0.01, 500 + n, Lane.INTERACTIVE) for n in range(100)]
    sent, rejected = await simulate(backend, clock, push + replies)
    assert rejected == 0
    queued_until = max(s.at for s in sent if s.lane is Lane.INTERACTIVE)
    # Every slot that frees goes to the queued replies: they leave at the full overall rate (bulk
    # and replies taking turns would halve it: the last reply at about 5 + 200 / 30 s).
    assert queued_until < 5.0 + 100 / 30 * 1.03 + 0.3
    assert len([s for s in sent if s.lane is Lane.BULK and 5.1 <= s.at < queued_until]) <= 1
    assert max_in_window([s.at for s in sent if 5.0 <= s.at <= queued_until], 1.0) >= 29  # no slot wasted
    bulk_after = [s.at for s in sent if s.lane is Lane.BULK and queued_until + 1.1 <= s.at < queued_until + 10]
    assert max_in_window(bulk_after, 1.0) >= 29  # the queue is out: bulk has the whole budget again


async def test_bulk_gets_the_whole_budget_when_no_reply_is_queued(make_backend: Factory):
    clock = ManualClock(0.0)
    backend = make_backend(clock)
    push = [(0.0, 100_000 + n, Lane.BULK) for n in range(2000)]
    replies = [(5.0 + n * 0.2, 500 + n, Lane.INTERACTIVE) for n in range(200)]  # 5 a second for 40 s
    sent, rejected = await simulate(backend, clock, push + replies)
    assert rejected == 0
    during = [s for s in sent if 6.5 <= s.at < 44.0]
    bulk_during = [s.at for s in during if s.lane is Lane.BULK]
    # Replies come one at a time and each finds its slot at once (at most about one bulk slot
    # away): none stays queued, so bulk fills the rest of the window and the overall rate holds.
    assert max_in_window(bulk_during, 1.0) >= 30 - 6
    assert len(during) / (during[-1].at - during[0].at) >= 0.97 * 30 / 1.03
    waits = [s.at - s.requested for s in sent if s.lane is Lane.INTERACTIVE]
    assert max(waits) < 0.1


async def test_bulk_makes_up_for_late_wake_ups_within_the_limit(make_backend: Factory):
    """A busy event loop wakes the bulk caller late now and then (here two gaps late, every tenth
    call): strictly spaced slots would lose that time for good (10 calls per 12 gaps, 0.83 of the
    rate); a caller behind schedule catches up instead, at most k slots in any k gaps."""
    clock = ManualClock(0.0)
    backend = make_backend(clock)
    judge = RateLimiter(RateLimits(), clock)
    gap = 1.03 / 30
    slots: list[float] = []
    rejected = 0
    for n in range(600):
        while not (reservation := await backend.reserve(Scope.for_chat(100_000 + n), Lane.BULK)).reserved:
            clock.advance(reservation.delay)
        clock.advance(reservation.delay)
        slots.append(clock.now)
        rejected += judge.acquire(100_000 + n, True) is not None
        if n % 10 == 9:
            clock.advance(2 * gap)  # the loop was busy: the next call asks late
    assert rejected == 0
    assert max_in_window(slots, 1.0) <= 30
    assert len(slots) / (slots[-1] - slots[0]) >= 0.98 * 30 / 1.03
    assert max(b - a for a, b in itertools.pairwise(slots)) <= 2 * gap + 1e-5  # no stall kept


async def test_paid_broadcasts_run_at_their_own_rate_beside_the_free_budget(make_backend: Factory):
    clock = ManualClock(0.0)
    backend = make_backend(clock)
    paid = [(0.0, 200_000 + n, Lane.PAID) for n in range(500)]
    replies = [(1.0 + n * 0.1, 700 + n, Lane.INTERACTIVE) for n in range(30)]
    sent, rejected = await simulate(backend, clock, paid + replies)
    assert rejected == 0
    times = sorted(s.at for s in sent if s.lane is Lane.PAID)
    rate = len(times) / (times[-1] - times[0])
    assert 0.95 * 100 <= rate <= 100  # OutgoingLimits.paid: 100 a second
    waits = [s.at - s.requested for s in sent if s.lane is Lane.INTERACTIVE]
    assert max(waits) < 0.01  # replies use the free budget, untouched by the paid lane


async def test_a_429_pauses_its_chat_and_enough_of_them_pause_everything(make_backend: Factory):
    clock = ManualClock(0.0)
    backend = make_backend(clock)
    chat = Scope.for_chat(5)
    assert not await backend.paused(chat, 4)
    blocked = await backend.reserve(chat, Lane.INTERACTIVE)
    assert (blocked.reserved, blocked.delay) == (False, 4.0)
    other = await backend.reserve(Scope.for_chat(6), Lane.INTERACTIVE)
    assert other.reserved and other.delay == 0
    assert not await backend.paused(Scope.for_chat(7), 4)
    assert await backend.paused(Scope.for_chat(8), 4)  # the third chat within the pause: global
    everyone = await backend.reserve(Scope.for_chat(9), Lane.INTERACTIVE)
    assert everyone.reserved and everyone.delay == pytest.approx(4.0)
    assert await backend.paused(GLOBAL, 1)


async def test_memory_stays_bounded():
    clock = ManualClock(0.0)
    backend = MemoryLimiterBackend(OutgoingLimits(), clock, max_scopes=100)
    for n in range(1000):
        clock.advance(70.0)
        await backend.reserve(Scope.for_chat(-n - 1), Lane.INTERACTIVE)
    assert len(backend._scopes) <= 101


def test_windows_and_scaling():
    with pytest.raises(ValueError):
        Window(limit=0, seconds=1)
    scaled = OutgoingLimits.scaled(10)
    assert (scaled.overall.limit, scaled.private.limit, scaled.group.limit) == (300, 30, 200)
    assert scaled.span(GLOBAL) == pytest.approx(1.03)  # windows are stretched by the safety share
    assert scaled.span(Scope.for_chat(-5)) == pytest.approx(61.8)
