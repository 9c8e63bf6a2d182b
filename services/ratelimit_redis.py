"""The outgoing limiter's state in Redis (`RedisLimiterBackend`): one budget shared by every replica,
each reservation one atomic Lua script on Redis's clock. The windows and their rules are
services/ratelimit.py's, which `MemoryLimiterBackend` keeps in one process."""

from __future__ import annotations

import math

from redis.asyncio import Redis

from services.ratelimit import GLOBAL, PAID_GLOBAL, Clock, Lane, OutgoingLimits, Reservation, Scope
from services.redis_batch import RedisBatch


def _now_from(arg: int) -> str:
    """Lua: `now` from ARGV[arg] (an injected clock in tests), else Redis's own clock."""
    return f"""
local now = tonumber(ARGV[{arg}])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
"""


# KEYS: global log, chat log ("" when none), global pause, chat pause, latest interactive slot
# ARGV: lane, now (or "" for Redis's clock), global limit, global span, chat limit, chat span,
#       bulk share, bulk horizon, ttl, bulk catch-up
# Returns {reserved (0/1), delay in microseconds}
_RESERVE = (
    _now_from(2)
    + """
local function earliest(key, limit, span, pause_key, smooth)
  local at = tonumber(redis.call('GET', pause_key) or '-1e18')
  local n = redis.call('LLEN', key)
  if n > 0 then
    local last = tonumber(redis.call('LINDEX', key, -1))
    at = math.max(at, last)
    if smooth > 0 then
      local gap = span / limit
      local spaced = last + gap
      if n >= smooth then
        spaced = math.min(spaced, math.max(now, tonumber(redis.call('LINDEX', key, -smooth)) + smooth * gap))
      end
      at = math.max(at, spaced)
    end
    if n >= limit then
      at = math.max(at, tonumber(redis.call('LINDEX', key, -limit)) + span)
    end
  end
  return at
end
local ttl = tonumber(ARGV[9])
local has_chat = KEYS[2] ~= ''
if has_chat then
  local chat_at = earliest(KEYS[2], tonumber(ARGV[5]), tonumber(ARGV[6]), KEYS[4], 0)
  if chat_at > now + 0.000001 then
    return {0, math.floor((chat_at - now) * 1000000)}
  end
end
local limit = tonumber(ARGV[3])
local interactive_last = tonumber(redis.call('GET', KEYS[5]) or '-1e18')
local sharing = ARGV[1] == 'bulk' and interactive_last > now + 0.000001
if sharing then
  limit = math.max(1, math.floor(limit * tonumber(ARGV[7])))
end
local span = tonumber(ARGV[4])
local smooth = 0
if ARGV[1] ~= 'interactive' then
  smooth = math.min(limit, math.max(2, math.floor(tonumber(ARGV[10]) * limit / span + 0.5)))
end
local at = math.max(now, earliest(KEYS[1], limit, span, KEYS[3], smooth))
if ARGV[1] ~= 'interactive' and at - now > tonumber(ARGV[8]) + 0.000001 then
  local delay = at - now - tonumber(ARGV[8])
  if sharing then
    delay = math.min(delay, interactive_last - now)
  end
  return {0, math.max(1, math.floor(delay * 1000000))}
end
local stamp = string.format('%.6f', at)
redis.call('RPUSH', KEYS[1], stamp)
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[3]), -1)
redis.call('EXPIRE', KEYS[1], ttl)
if has_chat then
  redis.call('RPUSH', KEYS[2], stamp)
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[5]), -1)
  redis.call('EXPIRE', KEYS[2], ttl)
end
if ARGV[1] == 'interactive' and at > interactive_last then
  redis.call('SET', KEYS[5], string.format('%.6f', at), 'EX', ttl)
end
return {1, math.floor((at - now) * 1000000)}
"""
)

# KEYS: scope pause, global pause, recent-429 sorted set; ARGV: now (or ""), seconds, is_global, chats, member
# Returns 1 when everything was paused.
_PAUSE = (
    _now_from(1)
    + """
local pause_end = now + tonumber(ARGV[2])
local ttl = math.ceil(tonumber(ARGV[2])) + 1
local function pause(key)
  local current = tonumber(redis.call('GET', key) or '-1e18')
  if pause_end > current then
    redis.call('SET', key, string.format("%.6f", pause_end), 'EX', ttl)
  end
end
pause(KEYS[1])
if ARGV[3] == '1' then
  return 1
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
redis.call("ZADD", KEYS[3], pause_end, ARGV[5])
redis.call('EXPIRE', KEYS[3], ttl)
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[4]) then
  pause(KEYS[2])
  return 1
end
return 0
"""
)


class RedisLimiterBackend:
    """The limiter shared by every replica: one atomic script per call, on Redis's clock (or on an
    injected clock in tests, whose stand-in Bot API judges time on the same clock)."""

    def __init__(
        self,
        redis: Redis,
        limits: OutgoingLimits | None = None,
        *,
        prefix: str = "coinsight:",
        clock: Clock | None = None,
        batch: RedisBatch | None = None,
    ) -> None:
        self.redis = redis
        # Reservations of one loop turn (a burst's replies) go in one pipeline, with the key-value
        # store's calls when it shares its batch.
        self.batch = batch or RedisBatch(redis)
        self.limits = limits or OutgoingLimits()
        self.prefix = prefix + "limit:"
        self.clock = clock
        self._reserve = redis.register_script(_RESERVE)
        self._pause = redis.register_script(_PAUSE)
        self._ttl = math.ceil(max(self.limits.span(GLOBAL), self.limits.group.seconds * (1 + self.limits.safety))) + 5

    def _now(self) -> str:
        return "" if self.clock is None else f"{self.clock():.6f}"

    async def reserve(self, chat: Scope | None, lane: Lane) -> Reservation:
        chat_window = self.limits.window(chat) if chat is not None else self.limits.overall
        overall = PAID_GLOBAL if lane is Lane.PAID else GLOBAL
        keys = [
            self.prefix + overall.key,
            self.prefix + chat.key if chat is not None else "",
            self.prefix + "pause:" + GLOBAL.key,
            self.prefix + "pause:" + (chat.key if chat is not None else "none"),
            self.prefix + "interactive-last",
        ]
        args: list[str | int | float] = [
            lane.value,
            self._now(),
            self.limits.window(overall).limit,
            self.limits.span(overall),
            chat_window.limit,
            self.limits.span(chat) if chat is not None else 0,
            self.limits.bulk_share,
            self.limits.bulk_horizon,
            self._ttl,
            self.limits.bulk_catch_up,
        ]
        reserved, delay_us = await self.batch.script(self._reserve, keys, args)
        return Reservation(reserved=bool(reserved), delay=max(0.0, int(delay_us) / 1_000_000))

    async def paused(self, scope: Scope, seconds: float) -> bool:
        keys = [self.prefix + "pause:" + scope.key, self.prefix + "pause:" + GLOBAL.key, self.prefix + "recent-429"]
        args: list[str | int | float] = [
            self._now(),
            seconds,
            "1" if scope == GLOBAL else "0",
            self.limits.global_429_chats,
            scope.key,
        ]
        return bool(await self._pause(keys=keys, args=args))

    async def close(self) -> None:
        """The Redis client belongs to the key-value store, which closes it."""
