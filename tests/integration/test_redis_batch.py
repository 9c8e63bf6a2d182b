"""Redis calls of one event-loop turn go in one pipeline (services/redis_batch.py), against a real Redis
(TEST_REDIS_URL): each caller gets its own result or its own error, an unknown script is loaded and
retried, a cancelled caller costs the others nothing, an unreachable Redis fails every caller."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from services.redis_batch import RedisBatch
from tests.backends import flush_prefix, need, redis_prefix

pytestmark = pytest.mark.redis
ECHO_KEY = "return {KEYS[1], ARGV[1]}"


@pytest.fixture
async def redis() -> AsyncIterator[tuple[Redis, str]]:
    url = need("TEST_REDIS_URL")  # skipped without it, failed under REQUIRE_SERVICES=1
    prefix = redis_prefix()
    client = Redis.from_url(url)
    try:
        yield client, prefix
    finally:
        await client.aclose()
        await flush_prefix(url, prefix)


async def test_calls_of_one_turn_share_one_pipeline_and_get_their_own_results(redis: tuple[Redis, str]) -> None:
    client, prefix = redis
    batch = RedisBatch(client)
    script = client.register_script(ECHO_KEY)
    await client.set(prefix + "text", b"not a number")
    calls = [batch.script(script, [prefix + f"k{i}"], [i]) for i in range(50)]
    calls.append(batch.command("INCR", prefix + "text"))  # fails: not an integer
    calls.append(batch.command("INCR", prefix + "n"))
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert batch.batches == 1
    assert results[:50] == [[(prefix + f"k{i}").encode(), str(i).encode()] for i in range(50)]
    assert isinstance(results[50], ResponseError) and results[51] == 1
    assert await batch.commands([("SET", prefix + "a", b"1"), ("GET", prefix + "a")]) == [True, b"1"]


async def test_a_script_redis_does_not_know_is_loaded_and_retried(redis: tuple[Redis, str]) -> None:
    client, prefix = redis
    batch = RedisBatch(client)
    # Scripts never sent before (Redis is shared with other tests: no SCRIPT FLUSH here).
    unknown = [client.register_script(f"{ECHO_KEY} -- {uuid.uuid4()}") for _ in range(2)]
    assert await client.script_exists(*(script.sha for script in unknown)) == [False, False]
    results = await asyncio.gather(*(batch.script(unknown[0], [prefix + "x"], [i]) for i in range(3)))
    assert results == [[(prefix + "x").encode(), str(i).encode()] for i in range(3)]
    assert await batch.script(unknown[1], [prefix + "y"], [7]) == [(prefix + "y").encode(), b"7"]  # alone


async def test_a_cancelled_caller_costs_the_others_nothing(redis: tuple[Redis, str]) -> None:
    client, prefix = redis
    batch = RedisBatch(client)
    first = asyncio.ensure_future(batch.command("INCR", prefix + "n"))
    cancelled = asyncio.ensure_future(batch.command("INCR", prefix + "m"))
    last = asyncio.ensure_future(batch.command("INCR", prefix + "n"))
    await asyncio.sleep(0)  # all three queued in this turn
    cancelled.cancel()
    assert sorted(await asyncio.gather(first, last)) == [1, 2]
    assert cancelled.cancelled() and await client.get(prefix + "m") is None


async def test_an_unreachable_redis_fails_every_caller() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = Redis(host="127.0.0.1", port=port, socket_connect_timeout=1, retry=Retry(NoBackoff(), retries=0))
    batch = RedisBatch(client)
    try:
        results = await asyncio.gather(*(batch.command("GET", f"k{i}") for i in range(3)), return_exceptions=True)
        assert all(isinstance(result, RedisConnectionError | OSError) for result in results), results
        alone = await asyncio.gather(batch.command("GET", "k"), return_exceptions=True)
        assert isinstance(alone[0], RedisConnectionError | OSError)
    finally:
        await client.aclose()
