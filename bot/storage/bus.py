"""What one gateway tells the others: short JSON messages by topic, and who is present.

Several gateways behind a load balancer share PostgreSQL for what must last; what is live (a
desk event, an agent's reply for an open web chat page, who is at the console) goes between
them through a :class:`Bus`:

* :meth:`Bus.publish` sends a message to the subscribers of its topic in every *other* gateway.
  The publisher serves its own process itself, at once (so a gateway alone, or cut off from
  Redis, keeps working as one). It never blocks and never raises: messages are queued and
  sent in order by one task.
* Delivery is **at most once**: a message sent while a gateway is cut off from Redis is lost
  for it. When its subscription is (re)established the bus calls its *gap* listeners
  (:meth:`Bus.when_gap`), also on the first connection: whoever keeps a copy of shared state
  reloads it from the database, the consoles refetch, the web chat streams start again and
  the page reloads its history. :attr:`Bus.connected` says whether messages arrive now.
* Presence (:meth:`Bus.present`, :meth:`Bus.elsewhere`): members of a named roster with an
  expiry, per gateway. A gateway refreshes its members while they are there (heartbeats); a
  gateway that dies stops refreshing, so its members stop counting when their time runs out.

Two implementations: :class:`LocalBus` (the embedded default, no other gateway unless several
are joined in one :class:`LocalGroup`, as tests do) and :class:`RedisBus` (Redis pub/sub, one
listener per gateway that reconnects with a growing wait, each outage and recovery logged).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import random
import socket
import time
import uuid
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeout
from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)

Message = dict[str, Any]
Handler = Callable[[Message], None]
#: Messages waiting to be sent before the oldest are dropped (Redis down for long).
OUTBOX_SIZE = 10_000
#: The listener's wait before reconnecting grows from the first to the last (seconds).
RECONNECT_FIRST, RECONNECT_MAX = 0.5, 30.0


class Bus(ABC):
    """Messages to the other gateways and presence shared with them (see the module)."""

    def __init__(self) -> None:
        #: This process among the gateways (messages it sent are not delivered back to it).
        self.gateway = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._gap: list[Callable[[], None]] = []

    def subscribe(self, topic: str, handler: Handler) -> None:
        """Call ``handler`` (in the event loop; it must not block) with each message on
        ``topic`` from another gateway. Subscribe before :meth:`start`."""
        self._handlers[topic].append(handler)

    def when_gap(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever messages may have been missed (after each connection)."""
        self._gap.append(listener)

    @property
    @abstractmethod
    def connected(self) -> bool:
        """Messages from the other gateways arrive now."""

    @abstractmethod
    def publish(self, topic: str, message: Message) -> None:
        """Send ``message`` (JSON-serialisable) to ``topic``'s subscribers in the other gateways."""

    @abstractmethod
    async def flush(self) -> None:
        """Wait until what was published so far was sent (or given up)."""

    @abstractmethod
    def present(self, roster: str, member: str, seconds: float) -> None:
        """``member`` is present in this gateway's ``roster`` for ``seconds`` from now
        (a longer presence already recorded is kept)."""

    @abstractmethod
    def absent(self, roster: str, member: str) -> None:
        """``member`` is no longer present in this gateway's ``roster``."""

    @abstractmethod
    async def elsewhere(self, roster: str) -> set[str]:
        """Members present now in ``roster`` in the other gateways (empty when unknown)."""

    @abstractmethod
    async def start(self) -> None:
        """Start listening (the gap listeners are called once connected)."""

    @abstractmethod
    async def close(self) -> None:
        """Stop listening and sending."""

    def _deliver(self, topic: str, message: Message) -> None:
        for handler in self._handlers.get(topic, ()):
            try:
                handler(message)
            except Exception:
                logger.exception("bus: a subscriber of %s failed", topic)

    def _after_gap(self) -> None:
        for listener in self._gap:
            try:
                listener()
            except Exception:
                logger.exception("bus: a gap listener failed")


class LocalGroup:
    """Gateways in one process (tests): what their :class:`LocalBus` share."""

    def __init__(self) -> None:
        self.buses: list[LocalBus] = []
        #: roster → (gateway, member) → when it expires (``time.monotonic``).
        self.rosters: dict[str, dict[tuple[str, str], float]] = defaultdict(dict)


class LocalBus(Bus):
    """In this process: alone by default (publishing reaches nobody else), or joined with the
    other buses of ``group``. Messages are delivered on the next turn of the event loop."""

    def __init__(self, group: LocalGroup | None = None) -> None:
        super().__init__()
        self._group = group or LocalGroup()
        self._group.buses.append(self)

    @property
    def connected(self) -> bool:
        return True

    def publish(self, topic: str, message: Message) -> None:
        others = [bus for bus in self._group.buses if bus is not self]
        if not others:
            return
        text = json.dumps(message)  # what Redis would carry: JSON only
        loop = asyncio.get_running_loop()
        for bus in others:
            loop.call_soon(bus._deliver, topic, json.loads(text))

    async def flush(self) -> None:
        await asyncio.sleep(0)

    def present(self, roster: str, member: str, seconds: float) -> None:
        members = self._group.rosters[roster]
        until = time.monotonic() + seconds
        members[(self.gateway, member)] = max(until, members.get((self.gateway, member), 0.0))

    def absent(self, roster: str, member: str) -> None:
        self._group.rosters[roster].pop((self.gateway, member), None)

    async def elsewhere(self, roster: str) -> set[str]:
        now = time.monotonic()
        return {
            member
            for (gateway, member), until in self._group.rosters[roster].items()
            if gateway != self.gateway and until > now
        }

    async def start(self) -> None:
        self._after_gap()

    async def close(self) -> None:
        if self in self._group.buses:
            self._group.buses.remove(self)


Operation = Callable[[aioredis.Redis], Awaitable[Any]]


class RedisBus(Bus):
    """Redis pub/sub: channel ``<prefix>:bus:<topic>``; rosters are sorted sets
    ``<prefix>:roster:<name>`` of ``<gateway>|<member>`` scored by expiry (Unix time)."""

    def __init__(self, url: str, prefix: str = "asistente") -> None:
        super().__init__()
        self._prefix = prefix
        # Commands fail fast (nothing waits on a Redis that is down); the subscription waits
        # for messages and pings the server every 10 s to notice a dead connection.
        self._redis = aioredis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        # No silent reconnection inside redis-py: a lost subscription must be seen (a gap).
        self._listening = aioredis.Redis.from_url(
            url, socket_connect_timeout=2, socket_keepalive=True, health_check_interval=10,
            retry=Retry(NoBackoff(), 0), client_name=f"bus-{self.gateway}",
        )  # fmt: skip
        self._outbox: asyncio.Queue[Operation | asyncio.Future[None]] = asyncio.Queue(OUTBOX_SIZE)
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = False
        self._send_failing = False

    def channel(self, topic: str) -> str:
        return f"{self._prefix}:bus:{topic}"

    def _roster(self, name: str) -> str:
        return f"{self._prefix}:roster:{name}"

    @property
    def connected(self) -> bool:
        return self._connected

    # --- sending, in order, by one task ---------------------------------------------------

    def _queue(self, operation: Operation | asyncio.Future[None]) -> None:
        if self._outbox.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                dropped = self._outbox.get_nowait()
                if isinstance(dropped, asyncio.Future) and not dropped.done():
                    dropped.set_result(None)
            logger.warning("bus: outbox full, oldest message dropped")
        self._outbox.put_nowait(operation)

    def publish(self, topic: str, message: Message) -> None:
        data = json.dumps({"from": self.gateway, "body": message}, ensure_ascii=False)
        channel = self.channel(topic)
        self._queue(lambda r: r.publish(channel, data))

    async def flush(self) -> None:
        if not self._tasks:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue(done)
        await done

    def present(self, roster: str, member: str, seconds: float) -> None:
        key, entry = self._roster(roster), f"{self.gateway}|{member}"

        async def mark(r: aioredis.Redis) -> None:
            async with r.pipeline(transaction=False) as pipe:
                pipe.zadd(key, {entry: time.time() + seconds}, gt=True)
                pipe.expire(key, max(60, int(seconds * 2)), gt=True)
                pipe.expire(key, max(60, int(seconds * 2)), nx=True)
                await pipe.execute()

        self._queue(mark)

    def absent(self, roster: str, member: str) -> None:
        key, entry = self._roster(roster), f"{self.gateway}|{member}"
        self._queue(lambda r: r.zrem(key, entry))

    async def elsewhere(self, roster: str) -> set[str]:
        key, now = self._roster(roster), time.time()
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.zremrangebyscore(key, "-inf", now)
                pipe.zrangebyscore(key, now, "+inf")
                _, entries = await pipe.execute()
        except (RedisError, OSError) as exc:
            logger.warning("bus: presence of other gateways unknown: %s", exc)
            return set()
        found = set()
        for raw in entries:
            gateway, _, member = raw.decode().rpartition("|")
            if gateway != self.gateway:
                found.add(member)
        return found

    async def _send(self) -> None:
        while True:
            operation = await self._outbox.get()
            if isinstance(operation, asyncio.Future):
                if not operation.done():
                    operation.set_result(None)
                continue
            try:
                await operation(self._redis)
            except (RedisError, OSError) as exc:
                if not self._send_failing:  # once per outage, not once per message
                    logger.warning("bus: cannot send to Redis, messages are lost: %s", exc)
                self._send_failing = True
            else:
                if self._send_failing:
                    logger.info("bus: sending to Redis again")
                self._send_failing = False

    # --- listening, reconnecting ------------------------------------------------------------

    async def _listen(self) -> None:
        wait = RECONNECT_FIRST
        channels = {self.channel(t): t for t in self._handlers}
        while True:
            pubsub = self._listening.pubsub()
            try:
                await pubsub.subscribe(*channels)
                await self._confirmed(pubsub, len(channels))
                self._connected = True
                if wait > RECONNECT_FIRST:
                    logger.info("bus: listening to Redis again")
                wait = RECONNECT_FIRST
                self._after_gap()  # subscribed first: nothing sent from now on is missed
                while True:
                    raw = await pubsub.get_message(timeout=5.0)
                    if raw is not None and raw["type"] == "message":
                        self._receive(channels.get(raw["channel"].decode()), raw["data"])
            except (RedisError, OSError) as exc:
                logger.warning("bus: lost Redis (%s); reconnecting in %.1f s", exc, wait)
            finally:
                self._connected = False
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(wait * random.uniform(0.8, 1.2))
            wait = min(wait * 2, RECONNECT_MAX)

    @staticmethod
    async def _confirmed(pubsub: PubSub, channels: int) -> None:
        """Wait for Redis to confirm each channel's subscription (10 s at most)."""
        deadline = time.monotonic() + 10
        while channels:
            if time.monotonic() > deadline:
                raise RedisTimeout("no confirmation of the subscription")
            raw = await pubsub.get_message(timeout=1.0)
            if raw is not None and raw["type"] == "subscribe":
                channels -= 1

    def _receive(self, topic: str | None, data: bytes) -> None:
        try:
            envelope = json.loads(data)
            sender, body = envelope["from"], envelope["body"]
        except (ValueError, KeyError, TypeError):
            logger.warning("bus: malformed message on %s ignored", topic)
            return
        if topic is not None and sender != self.gateway and isinstance(body, dict):
            self._deliver(topic, body)

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._send(), name="bus-send")]
        if self._handlers:
            self._tasks.append(asyncio.create_task(self._listen(), name="bus-listen"))
        else:
            self._after_gap()

    async def close(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), 2.0)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self._redis.aclose()
        await self._listening.aclose()


def open_bus(redis_url: str | None, database_url: str) -> Bus:
    """The bus of this gateway: through Redis when ``redis_url`` is set, else in-process.

    Gateways that share a database share a bus: its channels and rosters are named after the
    database (its address without the password), so other deployments or test stacks on the same
    Redis never hear each other (pub/sub channels ignore Redis's database numbers)."""
    if not redis_url:
        return LocalBus()
    where = make_url(database_url).render_as_string(hide_password=True)
    return RedisBus(redis_url, f"asistente:{hashlib.sha256(where.encode()).hexdigest()[:12]}")
