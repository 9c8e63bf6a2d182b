"""Redis commands issued in the same event-loop turn, sent together in one pipeline.

Under a burst, the updates that one `getUpdates` (or one webhook burst) delivers start together, and
each makes the same few Redis calls at about the same moment: its reads (`RedisStore.read`) and the
outgoing limiter's reservation for its reply (`RedisLimiterBackend.reserve`). One round trip each
costs the bot ~0.1 ms of CPU (a pooled connection taken and returned, a send, a wake-up for the
reply), as much as the rest of a `/help`. `RedisBatch` queues the calls made during one turn of the
loop and sends them in one pipeline (not a transaction: each command is atomic on its own, as
before, and one failing command fails only its caller) on the next turn; a quiet bot sends each call
alone, as before, with no added wait beyond that one turn.

A script (`EVALSHA`) that Redis does not know (a restarted or flushed Redis) is retried alone through
redis-py's `Script`, which loads it first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, RedisError


@dataclass(frozen=True)
class _Call:
    command: tuple[Any, ...]
    future: asyncio.Future[Any]
    script: AsyncScript | None = None
    keys: Sequence[Any] = ()
    args: Sequence[Any] = ()


class RedisBatch:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._pending: list[_Call] = []
        self._scheduled = False
        self._sending: set[asyncio.Task[None]] = set()
        self.batches = 0  # pipelines sent (a call alone is not counted)

    async def script(self, script: AsyncScript, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        """`script(keys, args)`, sent with the other calls of this turn."""
        command = ("EVALSHA", script.sha, len(keys), *keys, *args)
        return await self._queue(_Call(command, asyncio.get_running_loop().create_future(), script, keys, args))

    async def command(self, *command: Any) -> Any:
        """One Redis command (as for `execute_command`), sent with the other calls of this turn."""
        return await self._queue(_Call(command, asyncio.get_running_loop().create_future()))

    async def commands(self, commands: Sequence[tuple[Any, ...]]) -> list[Any]:
        """Several commands, sent with the other calls of this turn; their results in order."""
        loop = asyncio.get_running_loop()
        calls = [_Call(command, loop.create_future()) for command in commands]
        for call in calls:
            self._enqueue(call)
        # gather: a failure raises once and the other calls' errors are retrieved, not left unread.
        return list(await asyncio.gather(*(call.future for call in calls)))

    def _enqueue(self, call: _Call) -> None:
        self._pending.append(call)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    async def _queue(self, call: _Call) -> Any:
        self._enqueue(call)
        return await call.future

    def _flush(self) -> None:
        self._scheduled = False
        calls, self._pending = self._pending, []
        calls = [call for call in calls if not call.future.done()]  # callers cancelled meanwhile
        if not calls:
            return
        task = asyncio.create_task(self._send(calls), name="redis-batch")
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, calls: list[_Call]) -> None:
        try:
            if len(calls) == 1:
                await self._alone(calls[0])
                return
            async with self.redis.pipeline(transaction=False) as pipe:
                for call in calls:
                    pipe.execute_command(*call.command)
                results = await pipe.execute(raise_on_error=False)
            self.batches += 1
            for call, result in zip(calls, results, strict=True):
                if isinstance(result, NoScriptError) and call.script is not None:
                    await self._alone(call)
                elif isinstance(result, Exception):
                    _fail(call, result)
                elif not call.future.done():
                    call.future.set_result(result)
        except (RedisError, OSError) as exc:
            for call in calls:
                _fail(call, exc)
        finally:
            for call in calls:
                if not call.future.done():  # this task was cancelled (the store is closing)
                    call.future.cancel()

    async def _alone(self, call: _Call) -> None:
        try:
            if call.script is not None:
                result = await call.script(keys=call.keys, args=call.args)
            else:
                execute: Callable[..., Awaitable[Any]] = self.redis.execute_command  # untyped in redis-py
                result = await execute(*call.command)
        except (RedisError, OSError) as exc:
            _fail(call, exc)
        else:
            if not call.future.done():
                call.future.set_result(result)

    async def close(self) -> None:
        """Cancel what is being sent (its callers get `CancelledError`)."""
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)


def _fail(call: _Call, exc: BaseException) -> None:
    if not call.future.done():
        call.future.set_exception(exc)
