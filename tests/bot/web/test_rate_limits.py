"""Request limits and connection caps, in memory and in a real Redis."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest

from bot.web.rate_limits import LimitExceeded, RateLimits

REDIS_URL = f"redis://127.0.0.1:{os.environ.get('TEST_REDIS_PORT', '6379')}/0"


@pytest.fixture(params=["memory", "redis"])
async def limits(request: pytest.FixtureRequest) -> AsyncIterator[RateLimits]:
    # A fresh prefix per test: counts of other tests (or runs) never leak in.
    prefix = f"test-{uuid.uuid4().hex}"
    url = REDIS_URL if request.param == "redis" else None
    store = RateLimits(url, prefix=prefix)
    yield store
    await store.close()


async def test_the_call_over_the_limit_is_refused_with_a_wait(limits: RateLimits) -> None:
    for _ in range(3):
        await limits.hit("3/minute", "posts", "session-a")
    with pytest.raises(LimitExceeded) as refused:
        await limits.hit("3/minute", "posts", "session-a", message="Espera {seconds} s.")
    assert 1 <= refused.value.retry_after <= 60
    assert refused.value.message == f"Espera {refused.value.retry_after} s."
    # Another key has its own count.
    await limits.hit("3/minute", "posts", "session-b")


async def test_connections_are_capped_while_open_and_freed_on_exit(limits: RateLimits) -> None:
    async with limits.connection(2, "streams", "s1"), limits.connection(2, "streams", "s1"):
        assert await limits.open_connections("streams", "s1") == 2
        with pytest.raises(LimitExceeded):
            async with limits.connection(2, "streams", "s1"):
                pass  # pragma: no cover - never entered
        # The refused attempt does not hold a place.
        assert await limits.open_connections("streams", "s1") == 2
    assert await limits.open_connections("streams", "s1") == 0
    async with limits.connection(2, "streams", "s1"):
        assert await limits.open_connections("streams", "s1") == 1


async def test_several_gateways_share_one_count_through_redis() -> None:
    prefix = f"test-{uuid.uuid4().hex}"
    first, second = RateLimits(REDIS_URL, prefix=prefix), RateLimits(REDIS_URL, prefix=prefix)
    try:
        await asyncio.gather(*(first.hit("4/minute", "logins", "ana") for _ in range(2)))
        await asyncio.gather(*(second.hit("4/minute", "logins", "ana") for _ in range(2)))
        with pytest.raises(LimitExceeded):
            await first.hit("4/minute", "logins", "ana")
        async with first.connection(1, "sockets", "x"):
            with pytest.raises(LimitExceeded):
                async with second.connection(1, "sockets", "x"):
                    pass  # pragma: no cover - never entered
    finally:
        await first.close()
        await second.close()


async def test_memory_counts_are_per_process() -> None:
    one, other = RateLimits(), RateLimits()
    await one.hit("1/minute", "k")
    await other.hit("1/minute", "k")  # a separate store: its own count
    with pytest.raises(LimitExceeded):
        await one.hit("1/minute", "k")


async def test_a_redis_that_does_not_answer_lets_calls_through(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from bot.ops.processes import free_port

    down = RateLimits(f"redis://127.0.0.1:{free_port()}/0", prefix="down")
    try:
        for _ in range(3):
            await down.hit("1/minute", "posts", "s")
        async with down.connection(1, "streams", "s"), down.connection(1, "streams", "s"):
            pass
    finally:
        await down.close()
    assert "rate limits unavailable" in caplog.text


async def test_a_connection_count_that_expired_never_goes_below_zero() -> None:
    import redis.asyncio as aioredis

    prefix = f"test-{uuid.uuid4().hex}"
    key = f"{prefix}:open:streams:s"
    limits = RateLimits(REDIS_URL, prefix=prefix)
    raw = aioredis.from_url(REDIS_URL)
    try:
        async with limits.connection(1, "streams", "s"):
            await raw.delete(key)  # an hour on: the key expired while the stream stayed open
        assert await raw.get(key) is None  # not -1: the cap still holds afterwards
        async with limits.connection(1, "streams", "s"):
            with pytest.raises(LimitExceeded):
                async with limits.connection(1, "streams", "s"):
                    pass  # pragma: no cover - never entered
            assert 0 < await raw.ttl(key) <= 3600
    finally:
        await raw.aclose()
        await limits.close()
