"""The consumer against the machine's RabbitMQ (its own queue and exchange per test, deleted
after) and both databases: the same event published twice counts once, a poisoned message is
dropped without stopping it, and it comes back by itself when RabbitMQ drops its connection."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aio_pika
import pytest

from bot.analytics.consumer import BrokerAddress, EventConsumer
from bot.analytics.store import AnalyticsStore, IntentCount
from bot.storage.database import create_engine, migrate
from tests.bot.databases import BACKENDS, database_url

RABBITMQ_HOST = os.environ.get("TEST_RABBITMQ_HOST", "127.0.0.1")
RABBITMQ_PORT = int(os.environ.get("TEST_RABBITMQ_PORT", "5672"))
#: 2026-12-01 15:00 in Lima.
AFTERNOON = dt.datetime(2026, 12, 1, 20, 0, tzinfo=dt.UTC).timestamp()
DAY = dt.date(2026, 12, 1)


def user_event(sender: str, intent: str, timestamp: float = AFTERNOON) -> dict[str, Any]:
    return {
        "sender_id": sender,
        "event": "user",
        "timestamp": timestamp,
        "text": "que es el ruc",
        "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "intent_ranking": []},
    }


@pytest.fixture()
async def broker() -> AsyncIterator[BrokerAddress]:
    """A queue and exchange of this test's own, declared as Rasa declares them; deleted after."""
    suffix = uuid.uuid4().hex[:12]
    address = BrokerAddress(
        RABBITMQ_HOST, RABBITMQ_PORT, "guest", "guest", f"test_events_{suffix}", f"test_x_{suffix}"
    )
    connection = await aio_pika.connect(host=address.host, port=address.port)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(address.exchange, aio_pika.ExchangeType.FANOUT)
    queue = await channel.declare_queue(address.queue, durable=True)
    await queue.bind(exchange, "")
    try:
        yield address
    finally:
        await queue.delete(if_unused=False, if_empty=False)
        await exchange.delete()
        await connection.close()


Publish = Callable[[bytes], Awaitable[None]]


@pytest.fixture()
async def publish(broker: BrokerAddress) -> AsyncIterator[Publish]:
    """Publish as Rasa does: a persistent message to the fanout exchange."""
    connection = await aio_pika.connect(host=broker.host, port=broker.port)
    channel = await connection.channel()
    exchange = await channel.get_exchange(broker.exchange)

    async def send(body: bytes) -> None:
        message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
        await exchange.publish(message, "")

    yield send
    await connection.close()


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AnalyticsStore]:
    async with database_url(request.param, tmp_path) as url:
        engine = create_engine(url)
        await migrate(engine)
        try:
            yield AnalyticsStore(engine)
        finally:
            await engine.dispose()


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not reached in time"
        await asyncio.sleep(0.1)


async def queue_depth(broker: BrokerAddress) -> int:
    connection = await aio_pika.connect(host=broker.host, port=broker.port)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(broker.queue, passive=True)
        return int(queue.declaration_result.message_count or 0)
    finally:
        await connection.close()


async def test_the_same_event_published_twice_counts_once_and_poison_stops_nothing(
    store: AnalyticsStore,
    broker: BrokerAddress,
    publish: Publish,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.analytics")
    consumer = EventConsumer(store, broker, batch_seconds=0.05, summary_seconds=0.5)
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    try:
        event = json.dumps(user_event("webchat:ana", "consulta_ruc")).encode()
        await publish(event)
        await publish(b"secreto: DNI 12345678 {no es json")
        await publish(event)  # redelivered, or published twice by Rasa
        await publish(json.dumps(user_event("webchat:ana", "clave_sol", AFTERNOON + 1)).encode())

        async def both_intents() -> bool:
            return len((await store.day(DAY)).intents) == 2

        await until(both_intents)
        await until(lambda: _empty(broker))
        assert (await store.day(DAY)).intents == [
            IntentCount("clave_sol", 1, 0), IntentCount("consulta_ruc", 1, 0),
        ]  # fmt: skip
        assert not running.done()
    finally:
        stop.set()
        await asyncio.wait_for(running, 15)
    logged = caplog.text
    assert "rejected a message that is not a Rasa event (not JSON" in logged
    assert "12345678" not in logged and "secreto" not in logged
    assert "2 events counted, 1 already counted" in logged


async def _empty(broker: BrokerAddress) -> bool:
    """Nothing waiting nor unacknowledged: the poisoned message was not requeued."""
    return await queue_depth(broker) == 0


def _close_connection(name: str) -> None:
    """What RabbitMQ does to its clients when it restarts: close their connection."""
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_connections", "pid", "client_properties"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    named = f'{{"connection_name","{name}"}}'
    pids = [line.split("\t")[0] for line in listed.splitlines() if named in line]
    assert pids, listed
    for pid in pids:
        subprocess.run(["rabbitmqctl", "-q", "close_connection", pid, "test"], check=True)


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
async def test_it_connects_again_after_rabbitmq_drops_it(
    store: AnalyticsStore, broker: BrokerAddress, publish: Publish
) -> None:
    name = f"analytics test {uuid.uuid4().hex[:8]}"
    consumer = EventConsumer(store, broker, batch_seconds=0.05, name=name)
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    try:
        await publish(json.dumps(user_event("webchat:ana", "consulta_ruc")).encode())

        async def counted(n: int) -> bool:
            intents = (await store.day(DAY)).intents
            return sum(i.messages for i in intents) == n

        await until(lambda: counted(1))
        await asyncio.to_thread(_close_connection, name)
        await publish(json.dumps(user_event("webchat:ana", "clave_sol", AFTERNOON + 1)).encode())
        await until(lambda: counted(2), timeout=30)
        assert consumer.connections == 2
    finally:
        stop.set()
        await asyncio.wait_for(running, 15)
