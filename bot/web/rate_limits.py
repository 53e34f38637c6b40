"""Limits on what any caller can create: requests per time window, and connections held open.

Request limits use the ``limits`` library (a moving window): kept in this process's memory by
default, in Redis when ``REDIS_URL`` is set so that several gateways share one count.
Connection caps (push streams, console sockets) count what is open now; with Redis the count is
shared too, and each key expires an hour after its last change so a crashed gateway's
connections stop counting by themselves. When Redis does not answer, limits are not enforced
(citizens keep being served) and a warning is logged.

A refused call raises :class:`LimitExceeded` *before* anything is stored: callers hit the limit
first, then act. The app turns it into a 429 with ``Retry-After`` and a Spanish message.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Annotated

import redis.asyncio as aioredis
from fastapi import Depends
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError
from starlette.requests import HTTPConnection

logger = logging.getLogger(__name__)

#: How long a connection count survives without change in Redis (a crashed gateway's count).
CONNECTION_KEY_TTL_SECONDS = 3600
DEFAULT_MESSAGE = "Estás enviando demasiadas solicitudes. Intenta de nuevo en {seconds} segundos."

#: One connection fewer: the key goes at zero (or if it expired meanwhile), else keeps its TTL.
_RELEASE = """
local left = redis.call('DECR', KEYS[1])
if left <= 0 then redis.call('DEL', KEYS[1]) else redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return left
"""


class LimitExceeded(Exception):
    """Over a limit: try again in ``retry_after`` seconds. ``message`` is for citizens."""

    def __init__(self, retry_after: int, message: str) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.message = message


@lru_cache(maxsize=64)
def _item(limit: str) -> RateLimitItem:
    return parse(limit)


class RateLimits:
    """Request limits and connection caps, in memory or in Redis."""

    def __init__(self, redis_url: str | None = None, prefix: str = "asistente") -> None:
        self._prefix = prefix
        self._redis: aioredis.Redis | None = None
        self._pool: aioredis.ConnectionPool | None = None
        storage: Storage
        if redis_url:
            # One pool for the library's window counts and our connection counts.
            self._pool = aioredis.ConnectionPool.from_url(redis_url)
            storage = RedisStorage(
                f"async+{redis_url}",
                implementation="redispy",
                # Documented by the library; its type hint for options is narrower.
                connection_pool=self._pool,  # type: ignore[arg-type]
            )
            self._redis = aioredis.Redis(connection_pool=self._pool)
        else:
            storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(storage)
        self._open: dict[str, int] = {}

    async def hit(self, limit: str, *key: str, message: str = DEFAULT_MESSAGE) -> None:
        """Count one call under ``limit`` (``"20/minute"``) for ``key``; raise when over it.

        ``message`` may hold ``{seconds}``, replaced by the wait."""
        item = _item(limit)
        try:
            if await self._limiter.hit(item, self._prefix, *key):
                return
            stats = await self._limiter.get_window_stats(item, self._prefix, *key)
        except RedisError as exc:
            # Citizens keep being answered when Redis is down; operators see it in the log.
            logger.warning("rate limits unavailable, not enforced: %s", type(exc).__name__)
            return
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise LimitExceeded(wait, message.format(seconds=wait))

    @asynccontextmanager
    async def connection(
        self, cap: int, *key: str, message: str = DEFAULT_MESSAGE
    ) -> AsyncIterator[None]:
        """Hold one of at most ``cap`` connections open at once for ``key``; raise when full."""
        name = ":".join((self._prefix, "open", *key))
        try:
            count = await self._acquire(name)
        except RedisError as exc:
            logger.warning("connection caps unavailable, not enforced: %s", type(exc).__name__)
            yield
            return
        try:
            if count > cap:
                raise LimitExceeded(5, message.format(seconds=5))
            yield
        finally:
            await self._release(name)

    async def _acquire(self, name: str) -> int:
        if self._redis is None:
            self._open[name] = self._open.get(name, 0) + 1
            return self._open[name]
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, CONNECTION_KEY_TTL_SECONDS)
            count, _ = await pipe.execute()
        return int(count)

    async def _release(self, name: str) -> None:
        if self._redis is None:
            left = self._open.get(name, 0) - 1
            if left > 0:
                self._open[name] = left
            else:
                self._open.pop(name, None)
            return
        with contextlib.suppress(RedisError):
            await self._redis.eval(_RELEASE, 1, name, CONNECTION_KEY_TTL_SECONDS)

    async def open_connections(self, *key: str) -> int:
        """How many connections are held for ``key`` (for tests and /health)."""
        name = ":".join((self._prefix, "open", *key))
        if self._redis is None:
            return self._open.get(name, 0)
        value = await self._redis.get(name)
        return int(value or 0)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
        if self._pool is not None:
            await self._pool.disconnect()


async def _from_app(connection: HTTPConnection) -> RateLimits:
    limits: RateLimits = connection.app.state.rate_limits
    return limits


#: The app's limits, for a route's signature.
Limits = Annotated[RateLimits, Depends(_from_app)]
