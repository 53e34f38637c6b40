"""The bus between gateways against the real Redis (a unique prefix per test) and in-process:
messages reach the other gateways and never the sender, presence expires, and a listener whose
connection is killed reconnects and says it had a gap."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.storage.bus import Bus, LocalBus, LocalGroup, RedisBus, open_bus

REDIS_URL = f"redis://127.0.0.1:{os.environ.get('TEST_REDIS_PORT', '6379')}/0"


class Ear:
    """What one gateway heard on a topic, and how many gaps it was told of."""

    def __init__(self, bus: Bus, topic: str = "news") -> None:
        self.heard: list[dict[str, Any]] = []
        self.gaps = 0
        bus.subscribe(topic, self.heard.append)
        bus.when_gap(self._gap)

    def _gap(self) -> None:
        self.gaps += 1


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not within time"
        await asyncio.sleep(0.02)


@pytest.fixture(params=["local", "redis"])
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Bus, Bus]]:
    """Two gateways' buses, subscribed by the test before they start."""
    if request.param == "local":
        group = LocalGroup()
        buses: tuple[Bus, Bus] = (LocalBus(group), LocalBus(group))
    else:
        prefix = f"test-bus-{uuid.uuid4().hex[:10]}"
        buses = (RedisBus(REDIS_URL, prefix), RedisBus(REDIS_URL, prefix))
    yield buses
    for bus in buses:
        await bus.close()


async def test_messages_reach_the_other_gateway_in_order_never_the_sender(
    pair: tuple[Bus, Bus],
) -> None:
    a, b = pair
    heard_a, heard_b = Ear(a), Ear(b)
    for bus in pair:
        await bus.start()
    await until(lambda: a.connected and b.connected)
    assert heard_a.gaps == heard_b.gaps == 1  # told once connected: reload what is shared
    for n in range(20):
        a.publish("news", {"n": n, "texto": "señor"})
    await a.flush()
    await until(lambda: len(heard_b.heard) == 20)
    assert heard_b.heard == [{"n": n, "texto": "señor"} for n in range(20)]
    b.publish("other-topic", {"x": 1})
    await b.flush()
    await asyncio.sleep(0.2)
    assert heard_a.heard == []  # its own messages and other topics: nothing


async def test_presence_is_per_gateway_and_expires(pair: tuple[Bus, Bus]) -> None:
    a, b = pair
    for bus in pair:
        await bus.start()
    a.present("console", "7", 30)
    a.present("console", "8", 0.4)
    a.present("console", "7", 1)  # a longer presence already recorded is kept
    await a.flush()
    assert await b.elsewhere("console") == {"7", "8"}
    assert await a.elsewhere("console") == set()  # a knows its own agents itself
    await asyncio.sleep(0.6)
    assert await b.elsewhere("console") == {"7"}  # 8 was not refreshed: gone
    a.absent("console", "7")
    await a.flush()
    assert await b.elsewhere("console") == set()


async def test_a_killed_subscription_reconnects_and_reports_a_gap() -> None:
    prefix = f"test-bus-{uuid.uuid4().hex[:10]}"
    sender, listener = RedisBus(REDIS_URL, prefix), RedisBus(REDIS_URL, prefix)
    ear = Ear(listener)
    await sender.start()
    await listener.start()
    admin = aioredis.Redis.from_url(REDIS_URL)
    try:
        await until(lambda: listener.connected)
        clients = await admin.client_list(_type="pubsub")
        mine = [c["id"] for c in clients if c.get("name") == f"bus-{listener.gateway}"]
        assert len(mine) == 1
        await admin.client_kill_filter(_id=mine[0])
        await until(lambda: ear.gaps == 2)  # reconnected by itself, and said so
        assert listener.connected
        sender.publish("news", {"after": "the gap"})
        await sender.flush()
        await until(lambda: ear.heard == [{"after": "the gap"}])
    finally:
        await admin.aclose()
        await sender.close()
        await listener.close()


async def test_sending_while_redis_is_unreachable_neither_blocks_nor_raises() -> None:
    bus = RedisBus("redis://127.0.0.1:1/0", f"test-bus-{uuid.uuid4().hex[:10]}")
    Ear(bus)
    await bus.start()
    try:
        bus.publish("news", {"lost": True})
        bus.present("console", "1", 30)
        await asyncio.wait_for(bus.flush(), 5)
        assert await bus.elsewhere("console") == set()
        assert not bus.connected
    finally:
        await bus.close()


def test_the_bus_is_in_process_without_redis_and_named_after_the_database() -> None:
    assert isinstance(open_bus(None, "sqlite+aiosqlite:///x.db"), LocalBus)
    one = open_bus(REDIS_URL, "postgresql+asyncpg://u:secret@db/one")
    same = open_bus(REDIS_URL, "postgresql+asyncpg://u:other@db/one")
    other = open_bus(REDIS_URL, "postgresql+asyncpg://u:secret@db/two")
    assert isinstance(one, RedisBus) and isinstance(same, RedisBus) and isinstance(other, RedisBus)
    assert one.channel("x") == same.channel("x") != other.channel("x")
    assert "secret" not in one.channel("x")
