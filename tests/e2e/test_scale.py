"""The scale path for real: Rasa's trackers in PostgreSQL, its locks in Redis, the gateway's
conversations in PostgreSQL. A conversation survives a restart of Rasa."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.knowledge.articles import load_knowledge
from bot.ops.settings import ROOT
from tests.e2e.stack import Stack, stop

pytestmark = pytest.mark.e2e
KB = load_knowledge(ROOT / "data" / "knowledge")
POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_PORT = os.environ.get("TEST_REDIS_PORT", "6379")
RABBITMQ_HOST = os.environ.get("TEST_RABBITMQ_HOST", "127.0.0.1")
RABBITMQ_PORT = int(os.environ.get("TEST_RABBITMQ_PORT", "5672"))


def delete_broker_objects(queue: str, exchange: str) -> None:
    """Remove a test's event queue and exchange (Rasa declares them durable)."""

    async def run() -> None:
        connection = await aio_pika.connect(host=RABBITMQ_HOST, port=RABBITMQ_PORT)
        try:
            channel = await connection.channel()
            await channel.queue_delete(queue)
            await channel.exchange_delete(exchange)
        finally:
            await connection.close()

    asyncio.run(run())


def _sql(database: str, query: str, *args: object) -> list[asyncpg.Record]:
    url = make_url(POSTGRES)

    async def run() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(
            host=url.host, port=url.port, user=url.username, password=url.password,
            database=database,
        )  # fmt: skip
        try:
            return list(await connection.fetch(query, *args))
        finally:
            await connection.close()

    return asyncio.run(run())


def _redis_calls(command: str) -> int:
    stats = subprocess.run(
        ["redis-cli", "-p", REDIS_PORT, "INFO", "commandstats"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    match = re.search(rf"^cmdstat_{command}:calls=(\d+)", stats, re.MULTILINE)
    return int(match.group(1)) if match else 0


@pytest.fixture()
def database() -> Iterator[str]:
    name = f"scale_test_{uuid.uuid4().hex[:12]}"
    admin_db = make_url(POSTGRES).database or "postgres"
    _sql(admin_db, f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        _sql(admin_db, f'DROP DATABASE "{name}" WITH (FORCE)')


def test_conversation_survives_a_rasa_restart(
    tmp_path: Path, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_url(POSTGRES)
    for name, value in {
        "TRACKER_STORE_HOST": url.host or "127.0.0.1",
        "TRACKER_STORE_PORT": str(url.port or 5432),
        "TRACKER_STORE_DB": database,
        "TRACKER_STORE_USER": url.username or "postgres",
        "TRACKER_STORE_PASSWORD": url.password or "",
        "LOCK_STORE_HOST": "127.0.0.1",
        "LOCK_STORE_PORT": REDIS_PORT,
        "LOCK_STORE_DB": "0",
        # Rasa publishes every event (endpoints.scale.yml): to this test's own queue.
        "EVENT_BROKER_QUEUE": database,
        "EVENT_BROKER_EXCHANGE": database,
    }.items():
        monkeypatch.setenv(name, value)
    stack = Stack.on_free_ports(
        tmp_path,
        rasa_endpoints="endpoints.scale.yml",
        database_url=url.set(database=database).render_as_string(hide_password=False),
    )
    children = stack.start_all()
    try:
        stack.wait_healthy()
        locks_before = _redis_calls("set")
        # First misunderstanding: "no te entendí" and the menu.
        first = stack.chat("escala", "fkdjsl qwpeoi zmxn")[0]["text"]
        assert first.startswith("Disculpa, no te entendí.")
        assert _redis_calls("set") > locks_before
        events = _sql(
            database, "SELECT count(*) AS n FROM events WHERE sender_id = $1", "webchat:escala"
        )
        assert events[0]["n"] > 0

        # Rasa restarts: the tracker comes back from PostgreSQL, so the second
        # misunderstanding in a row is recognised as such (polite fallback).
        stop(children["rasa"])
        children["rasa"] = stack.start_rasa()
        stack.wait_healthy()
        assert stack.chat("escala", "xjq wwz kkp")[0]["text"] == KB.require("fallback").answer

        # The gateway's own record is in PostgreSQL too.
        rows = _sql(database, "SELECT direction, status FROM messages ORDER BY id")
        assert [(r["direction"], r["status"]) for r in rows] == [
            ("in", "answered"), ("out", "sent"), ("in", "answered"), ("out", "sent"),
        ]  # fmt: skip
    finally:
        for child in children.values():
            stop(child)
        delete_broker_objects(database, database)
        for log in ("rasa.log", "gateway.log"):
            if (tmp_path / log).exists() and "Traceback" in (tmp_path / log).read_text():
                print((tmp_path / log).read_text()[-4000:])
