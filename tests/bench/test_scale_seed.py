"""The stored history of the scale benchmark, written into a real PostgreSQL database of its
own, read back by the gateway's store."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from bench.load_driver import CONVERSATIONS
from bench.scale_seed import REPLY, create_database, drop_database, seed
from bench.scale_stats import read_backends
from bot.conversation.store import open_store

ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


@pytest.fixture()
def database() -> Iterator[tuple[str, str]]:
    name = f"bench_seed_test_{uuid.uuid4().hex[:10]}"
    url = create_database(ADMIN, name)
    try:
        yield name, url
    finally:
        drop_database(ADMIN, name)


async def _scalars(url: str, *queries: str) -> list[object]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return [(await connection.execute(text(q))).scalar() for q in queries]
    finally:
        await engine.dispose()


def test_seeding_writes_the_rows_asked_and_the_gateway_reads_them(
    database: tuple[str, str],
) -> None:
    _, url = database
    seeded = seed(url, conversations=300, per_conversation=10)
    assert (seeded.conversations, seeded.messages) == (300, 3_000)
    counts = asyncio.run(
        _scalars(
            url,
            "SELECT count(*) FROM conversations",
            "SELECT count(*) FROM messages",
            "SELECT count(DISTINCT conversation_id) FROM messages",
            "SELECT max(n) FROM (SELECT count(*) AS n FROM messages GROUP BY conversation_id) c",
            "SELECT count(*) FROM messages WHERE direction = 'in' AND status = 'answered'",
            "SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'sent'",
            "SELECT count(*) FROM messages WHERE created_at > now()",
            # The tables were analysed, as they would be by then.
            "SELECT reltuples FROM pg_class WHERE relname = 'messages'",
        )
    )
    assert counts[:7] == [300, 3_000, 300, 10, 1_500, 1_500, 0]
    assert counts[7] == 3_000

    async def read() -> list[tuple[str, str | None]]:
        store = await open_store(url)
        try:
            conversation = await store.find_conversation("webchat", "seed-7")
            assert conversation is not None
            history = await store.history(conversation, limit=200)
            return [(entry.direction, entry.text) for entry in history]
        finally:
            await store.close()

    history = asyncio.run(read())
    phrases = {phrase for conversation in CONVERSATIONS for phrase in conversation}
    assert [direction for direction, _ in history] == ["in", "out"] * 5
    assert all(said in phrases for direction, said in history if direction == "in")
    assert all(said == REPLY for direction, said in history if direction == "out")


def test_the_database_is_dropped_even_with_a_connection_open(database: tuple[str, str]) -> None:
    name, url = database

    async def hold_then_drop() -> list[int]:
        engine = create_async_engine(url, pool_pre_ping=False)
        connection = await engine.connect()
        await connection.execute(text("SELECT 1"))
        backends = [reading.pid for reading in read_backends(name)]
        await asyncio.to_thread(drop_database, ADMIN, name)
        with pytest.raises(DBAPIError):  # its connection was ended with it
            await connection.execute(text("SELECT 1"))
        await connection.invalidate()
        await engine.dispose()
        return backends

    assert asyncio.run(hold_then_drop())  # its server process was found, then dropped with it
    with pytest.raises(Exception, match=name):
        asyncio.run(_scalars(url, "SELECT 1"))
