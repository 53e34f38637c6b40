"""The machine's PostgreSQL, Redis and RabbitMQ as the scale path's end-to-end tests use them:
their addresses (``TEST_*`` variables), a throwaway database (the ``database`` fixture in
conftest.py), SQL on it, Rasa's stores (endpoints.scale.yml) pointed at it, and a test's own
RabbitMQ queue and exchange removed afterwards."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import aio_pika
import asyncpg
from sqlalchemy.engine import make_url

POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_PORT = os.environ.get("TEST_REDIS_PORT", "6379")
RABBITMQ_HOST = os.environ.get("TEST_RABBITMQ_HOST", "127.0.0.1")
RABBITMQ_PORT = int(os.environ.get("TEST_RABBITMQ_PORT", "5672"))


def sql(database: str, query: str, *args: object) -> list[asyncpg.Record]:
    """``query`` on ``database`` of the machine's PostgreSQL; its rows."""
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


@contextmanager
def throwaway_database(prefix: str = "scale_test") -> Iterator[str]:
    """A new database's name, dropped (connections and all) afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin_db = make_url(POSTGRES).database or "postgres"
    sql(admin_db, f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        sql(admin_db, f'DROP DATABASE "{name}" WITH (FORCE)')


def database_url(database: str) -> str:
    """The gateway's ``DATABASE_URL`` for ``database``."""
    return make_url(POSTGRES).set(database=database).render_as_string(hide_password=False)


def engine_stores_environ(database: str) -> dict[str, str]:
    """What endpoints.scale.yml reads for Rasa's tracker store (``database``) and lock store."""
    url = make_url(POSTGRES)
    return {
        "TRACKER_STORE_HOST": url.host or "127.0.0.1",
        "TRACKER_STORE_PORT": str(url.port or 5432),
        "TRACKER_STORE_DB": database,
        "TRACKER_STORE_USER": url.username or "postgres",
        "TRACKER_STORE_PASSWORD": url.password or "",
        "LOCK_STORE_HOST": "127.0.0.1",
        "LOCK_STORE_PORT": REDIS_PORT,
        "LOCK_STORE_DB": "0",
    }


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
