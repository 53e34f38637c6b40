"""``python -m bot consume-events``: Rasa's events from RabbitMQ into the analytics counts.

Guarantees:

- **Counted once.** Messages are acknowledged only after the transaction that counted them
  committed (:meth:`bot.analytics.store.AnalyticsStore.record`); one delivered again (the
  consumer died between commit and ack, RabbitMQ restarted, Rasa published it twice) finds its
  key already there and counts nothing. Several consumers may read the same queue.
- **Nothing lost while the database is away.** A batch whose transaction fails is handed back
  to RabbitMQ (``nack`` with requeue) and tried again after a pause.
- **A poisoned message stops nothing.** One that is not a Rasa event is logged, at info level,
  with the reason and its size only (never its content), and rejected without requeue.
- **Back by itself.** When RabbitMQ is unreachable or the connection drops (a restart), the
  consumer connects again, waiting 1 s, 2 s, 4 s… up to 30 s between attempts.

The queue and the exchange are declared as Rasa's pika broker declares them (a durable queue,
bound to a transient fanout exchange), so either may start first. Messages are read in batches
(up to ``batch_size``, or what came within ``batch_seconds`` of the first); the log has one
summary line a minute with counts, never contents.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from sqlalchemy.exc import SQLAlchemyError

from bot.analytics.events import CountedEvent, PoisonedEvent, read_event
from bot.analytics.store import AnalyticsStore
from bot.storage.time import utcnow

log = logging.getLogger(__name__)

#: What the broker or the network raise when RabbitMQ is away.
_BROKER_ERRORS = (aio_pika.exceptions.AMQPError, ConnectionError, OSError, asyncio.TimeoutError)


@dataclass(frozen=True)
class BrokerAddress:
    """Where Rasa's events are: RabbitMQ, the queue Rasa publishes to and its exchange."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    queue: str
    exchange: str


@dataclass
class Tally:
    """What the consumer did since the last summary line."""

    counted: int = 0
    repeated: int = 0
    ignored: int = 0
    rejected: int = 0
    retried: int = 0

    def line(self, seconds: float) -> str:
        return (
            f"analytics: {self.counted} events counted, {self.repeated} already counted, "
            f"{self.ignored} not counted, {self.rejected} rejected, {self.retried} to retry "
            f"in the last {seconds:.0f} s"
        )

    def __bool__(self) -> bool:
        return any((self.counted, self.repeated, self.ignored, self.rejected, self.retried))


class EventConsumer:
    """Reads ``broker``'s queue into ``store`` until :meth:`run`'s ``stop`` is set."""

    def __init__(
        self,
        store: AnalyticsStore,
        broker: BrokerAddress,
        *,
        seen_days: int = 30,
        batch_size: int = 200,
        batch_seconds: float = 0.2,
        summary_seconds: float = 60.0,
        max_backoff: float = 30.0,
        name: str = "asistente analytics",
    ) -> None:
        self._store = store
        self._broker = broker
        self._seen_days = seen_days
        self._batch_size = batch_size
        self._batch_seconds = batch_seconds
        self._summary_seconds = summary_seconds
        self._max_backoff = max_backoff
        self._name = name
        self._tally = Tally()
        self._last_summary = time.monotonic()
        self._next_forget = 0.0
        #: Sessions with RabbitMQ opened so far (a reconnection makes it grow).
        self.connections = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, connecting again after any loss of RabbitMQ."""
        backoff = 1.0
        while not stop.is_set():
            try:
                await self._session(stop)
                backoff = 1.0
            except _BROKER_ERRORS as exc:
                log.warning(
                    "analytics: RabbitMQ at %s:%s unreachable (%s); trying again in %.0f s",
                    self._broker.host, self._broker.port, type(exc).__name__, backoff,
                )  # fmt: skip
                await _wait(stop, backoff)
                backoff = min(backoff * 2, self._max_backoff)
        self._summary(force=True)

    async def _session(self, stop: asyncio.Event) -> None:
        """One connection: consume until it is lost or ``stop`` is set."""
        b = self._broker
        connection = await aio_pika.connect(
            host=b.host, port=b.port, login=b.user, password=b.password, timeout=10,
            client_properties={"connection_name": self._name},  # as RabbitMQ lists it
        )  # fmt: skip
        lost = asyncio.Event()
        connection.close_callbacks.add(lambda *_: lost.set())
        try:
            channel = await connection.channel()
            channel.close_callbacks.add(lambda *_: lost.set())
            await channel.set_qos(prefetch_count=self._batch_size * 2)
            exchange = await channel.declare_exchange(b.exchange, aio_pika.ExchangeType.FANOUT)
            queue = await channel.declare_queue(b.queue, durable=True)
            await queue.bind(exchange, "")
            inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
            await queue.consume(inbox.put)
            self.connections += 1
            log.info("analytics: reading Rasa's events from queue %s at %s", b.queue, b.host)
            while not (stop.is_set() or lost.is_set()):
                batch = await self._next_batch(inbox, stop, lost)
                if batch:
                    await self._handle(batch, stop)
                self._summary()
                await self._forget_old()
            if lost.is_set() and not stop.is_set():
                raise ConnectionError("connection to RabbitMQ lost")
        finally:
            with contextlib.suppress(*_BROKER_ERRORS, RuntimeError):
                await connection.close()

    async def _next_batch(
        self,
        inbox: asyncio.Queue[AbstractIncomingMessage],
        stop: asyncio.Event,
        lost: asyncio.Event,
    ) -> list[AbstractIncomingMessage]:
        """The next messages: waits up to a second for the first, then ``batch_seconds``."""
        first = asyncio.ensure_future(inbox.get())
        ended = [asyncio.ensure_future(e.wait()) for e in (stop, lost)]
        try:
            await asyncio.wait([first, *ended], timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in ended:
                waiter.cancel()
        if not first.done():
            first.cancel()
            return []
        batch = [first.result()]
        deadline = time.monotonic() + self._batch_seconds
        while len(batch) < self._batch_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(inbox.get(), remaining))
            except TimeoutError:
                break
        return batch

    async def _handle(self, batch: Sequence[AbstractIncomingMessage], stop: asyncio.Event) -> None:
        """Count a batch, then acknowledge it; poisoned messages are rejected."""
        readable: list[AbstractIncomingMessage] = []
        counted: list[CountedEvent] = []
        for message in batch:
            try:
                event = read_event(message.body)
            except PoisonedEvent as exc:
                log.info(
                    "analytics: rejected a message that is not a Rasa event (%s, %d bytes)",
                    exc, len(message.body),
                )  # fmt: skip
                self._tally.rejected += 1
                await message.reject(requeue=False)
                continue
            readable.append(message)
            if event is None:
                self._tally.ignored += 1
            else:
                counted.append(event)
        try:
            recorded = await self._store.record(counted)
        except SQLAlchemyError as exc:
            log.warning(
                "analytics: the database refused a batch of %d events (%s); RabbitMQ will "
                "deliver them again", len(readable), type(exc).__name__,
            )  # fmt: skip
            self._tally.retried += len(readable)
            for message in readable:
                await message.nack(requeue=True)
            await _wait(stop, 5.0)
            return
        self._tally.counted += recorded.counted
        self._tally.repeated += recorded.repeated
        for message in readable:
            await message.ack()

    def _summary(self, force: bool = False) -> None:
        elapsed = time.monotonic() - self._last_summary
        if elapsed < self._summary_seconds and not force:
            return
        if self._tally:
            log.info(self._tally.line(elapsed))
        self._tally = Tally()
        self._last_summary = time.monotonic()

    async def _forget_old(self) -> None:
        """Once an hour, forget keys older than ``seen_days``."""
        if time.monotonic() < self._next_forget:
            return
        self._next_forget = time.monotonic() + 3600
        try:
            forgotten = await self._store.forget_seen(utcnow() - dt.timedelta(days=self._seen_days))
        except SQLAlchemyError as exc:
            log.warning("analytics: could not forget old event keys (%s)", type(exc).__name__)
            return
        if forgotten:
            log.info(
                "analytics: forgot %d event keys older than %d days", forgotten, self._seen_days
            )


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less when ``stop`` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def consume_events(database_url: str, broker: BrokerAddress, seen_days: int) -> None:
    """Run a consumer on the gateway database at ``database_url`` (migrated first) until
    SIGINT or SIGTERM."""
    import signal

    from bot.storage.database import create_engine, migrate

    engine = create_engine(database_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await migrate(engine)
        await EventConsumer(AnalyticsStore(engine), broker, seen_days=seen_days).run(stop)
    finally:
        await engine.dispose()
