"""Runs in the engine environment (make unit-engine), on the machine's Redis: a message sent
again to a second engine after the first died holding the conversation's ticket is served once
the dead ticket expires — with Rasa's own Redis lock store it never is (both tickets expire
together); a lock that vanished while a ticket waited (Redis restarted) is made again; engines
taking tickets at once never share one; the lock keeps Rasa's format."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
from rasa.core.lock_store import LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.engine.ticket_lock import WaitingRedisLockStore

REDIS = {"url": "127.0.0.1", "port": 6379, "db": 0, "key_prefix": "pruebas"}
LIFETIME = 1.5
WAIT = 0.1


def _store() -> WaitingRedisLockStore:
    config = EndpointConfig(type="bot.engine.ticket_lock.WaitingRedisLockStore", **REDIS)
    return WaitingRedisLockStore(config)


def _rasas_store() -> RedisLockStore:
    kwargs: dict[str, Any] = {k: v for k, v in REDIS.items() if k != "url"}
    return RedisLockStore(host=REDIS["url"], **kwargs)


@pytest.fixture(autouse=True)
def _redis_up() -> None:
    try:
        redis.Redis(port=6379).ping()
    except redis.ConnectionError:
        pytest.fail("the machine's Redis (127.0.0.1:6379) is not running: .ci/run starts it")


async def _served_after_dead_ticket(store: RedisLockStore, within: float) -> float:
    """Seconds until a message gets the lock behind a ticket issued a moment before by an
    engine that then died (nobody ever finishes it)."""
    conversation = f"webchat:{uuid.uuid4().hex}"
    store.issue_ticket(conversation, LIFETIME)  # the dead engine's
    started = time.monotonic()

    async def take() -> None:
        async with store.lock(conversation, LIFETIME, WAIT):
            pass

    try:
        await asyncio.wait_for(take(), within)
    finally:
        store.delete_lock(conversation)
    return time.monotonic() - started


def test_a_message_behind_a_dead_engines_ticket_is_served_once_it_expires() -> None:
    waited = asyncio.run(_served_after_dead_ticket(_store(), LIFETIME * 4))
    assert LIFETIME - WAIT <= waited <= LIFETIME + 4 * WAIT


def test_with_rasas_own_lock_store_that_message_is_never_served() -> None:
    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(_served_after_dead_ticket(_rasas_store(), LIFETIME * 4))


def test_a_lock_lost_while_a_ticket_waits_is_made_again() -> None:
    store = _store()
    conversation = f"webchat:{uuid.uuid4().hex}"
    store.issue_ticket(conversation, 60)  # served elsewhere, for long

    async def lose_then_take() -> float:
        async def lose() -> None:
            await asyncio.sleep(3 * WAIT)
            store.delete_lock(conversation)  # Redis restarted without its data

        started = time.monotonic()
        loser = asyncio.create_task(lose())
        async with store.lock(conversation, LIFETIME, WAIT) as lock:
            held = [t.number for t in lock.tickets]
        await loser
        assert len(held) == 1, held
        return time.monotonic() - started

    try:
        waited = asyncio.run(asyncio.wait_for(lose_then_take(), 10))
    finally:
        store.delete_lock(conversation)
    assert waited < 1.0


def test_engines_taking_tickets_at_once_never_share_one() -> None:
    """Many engines (threads here, each with its own connection) take a ticket for the same
    conversation at the same moment: every ticket is different and all are in the lock."""
    conversation = f"webchat:{uuid.uuid4().hex}"
    stores = [_store() for _ in range(16)]
    start = threading.Barrier(len(stores))

    def take(store: WaitingRedisLockStore) -> int:
        start.wait()
        return store.issue_ticket(conversation, 60)

    try:
        with ThreadPoolExecutor(len(stores)) as pool:
            numbers = list(pool.map(take, stores))
        lock = stores[0].get_lock(conversation)
        assert lock is not None
        assert sorted(numbers) == list(range(len(stores)))
        assert [t.number for t in lock.tickets] == sorted(numbers)
    finally:
        stores[0].delete_lock(conversation)


def test_the_lock_keeps_rasas_format_both_ways() -> None:
    """Rasa's store reads the tickets ours issued and ours serves after Rasa's."""
    ours, rasas = _store(), _rasas_store()
    conversation = f"webchat:{uuid.uuid4().hex}"
    try:
        first = ours.issue_ticket(conversation, 60)
        second = rasas.issue_ticket(conversation, 60)
        third = ours.issue_ticket(conversation, 60)
        assert (first, second, third) == (0, 1, 2)
        lock = rasas.get_lock(conversation)
        assert lock is not None and lock.now_serving == 0
        ours.cleanup(conversation, first)
        rasas.cleanup(conversation, second)
        lock = ours.get_lock(conversation)
        assert lock is not None and [t.number for t in lock.tickets] == [2]
        ours.cleanup(conversation, third)
        assert ours.get_lock(conversation) is None  # the last one leaves: the lock is gone
    finally:
        ours.delete_lock(conversation)


def _redis_server(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis(port=port).ping()
            return server
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)


def test_a_message_during_a_redis_restart_waits_for_it() -> None:
    """A Redis of the test's own restarts (down about a second): a ticket taken meanwhile is
    taken once it is back instead of failing the message; Rasa's own store fails it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = EndpointConfig(type="x", url="127.0.0.1", port=port, db=0)
    server = _redis_server(port)
    try:
        ours, rasas = WaitingRedisLockStore(config), RedisLockStore(host="127.0.0.1", port=port)
        assert ours.issue_ticket("webchat:a", 60) == 0 and rasas.issue_ticket("webchat:b", 60) == 0
        server.terminate()
        server.wait(timeout=10)
        with pytest.raises((redis.ConnectionError, LockError)):
            rasas.issue_ticket("webchat:b", 60)
        restarted = threading.Timer(1.0, lambda: servers.append(_redis_server(port)))
        servers: list[subprocess.Popen[bytes]] = []
        restarted.start()
        started = time.monotonic()
        assert ours.issue_ticket("webchat:a", 60) == 0  # a new Redis: the lock was lost
        assert 0.9 <= time.monotonic() - started < 6
        restarted.join()
        server = servers[0]
    finally:
        server.terminate()
        server.wait(timeout=10)
