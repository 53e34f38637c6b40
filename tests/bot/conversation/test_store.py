"""The store contract on both databases, and what only the SQLite writer does."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError as SqlIntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.store import (
    ConversationStore,
    Outbound,
    SqliteStore,
    SqlStore,
    open_store,
)
from bot.ops.processes import free_port
from bot.storage.database import create_engine
from bot.storage.tables import Conversation, Message
from tests.bot.databases import BACKENDS, database_url


@pytest.fixture(params=BACKENDS)
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture()
async def store(url: str) -> AsyncIterator[ConversationStore]:
    store = await open_store(url)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture()
async def inspect(url: str, store: ConversationStore) -> AsyncIterator[AsyncEngine]:
    """A second, independent connection: what is committed, seen from outside the store."""
    engine = create_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _rows(engine: AsyncEngine) -> list[tuple[object, ...]]:
    async with engine.connect() as db:
        result = await db.execute(
            select(Message.direction, Message.text, Message.payload, Message.status).order_by(
                Message.id
            )
        )
        return [tuple(row) for row in result.all()]


async def test_sqlite_gets_the_group_commit_writer_and_postgresql_sqlalchemy(
    url: str, store: ConversationStore
) -> None:
    assert isinstance(store, SqliteStore if url.startswith("sqlite") else SqlStore)


async def test_a_message_and_its_outcome_are_committed(
    store: ConversationStore, inspect: AsyncEngine
) -> None:
    conversation = await store.open_conversation("webchat", "ana")
    message = await store.record_inbound(conversation, "hola ñandú", {"metadata": {"a": 1}})
    assert await _rows(inspect) == [("in", "hola ñandú", {"metadata": {"a": 1}}, "received")]

    buttons = {"buttons": [{"title": "Sí", "payload": "/afirmar"}]}
    await store.record_outcome(
        message, "answered", conversation, [Outbound("¡Hola!", buttons), Outbound("Dos", None)]
    )
    assert await _rows(inspect) == [
        ("in", "hola ñandú", {"metadata": {"a": 1}}, "answered"),
        ("out", "¡Hola!", buttons, "sent"),
        ("out", "Dos", None, "sent"),
    ]


async def test_concurrent_first_contacts_create_one_conversation(
    store: ConversationStore, inspect: AsyncEngine
) -> None:
    ids = await asyncio.gather(*(store.open_conversation("webchat", "nuevo") for _ in range(8)))
    assert len(set(ids)) == 1
    assert await store.find_conversation("webchat", "nuevo") == ids[0]
    assert await store.find_conversation("messenger", "nuevo") is None
    async with inspect.connect() as db:
        assert await db.scalar(select(func.count()).select_from(Conversation)) == 1


async def test_history_is_the_last_messages_oldest_first_with_utc_times(
    store: ConversationStore,
) -> None:
    before = dt.datetime.now(dt.UTC)
    ana = await store.open_conversation("webchat", "ana")
    other = await store.open_conversation("webchat", "otro")
    for i in range(5):
        await store.record_outbound(ana, [Outbound(f"m{i}", {"image": f"i{i}"} if i else None)])
    await store.record_outbound(other, [Outbound("ajeno", None)])
    history = await store.history(ana, limit=3)
    assert [(h.text, h.payload) for h in history] == [
        ("m2", {"image": "i2"}),
        ("m3", {"image": "i3"}),
        ("m4", {"image": "i4"}),
    ]
    assert all(h.direction == "out" for h in history)
    assert all(before <= h.created_at <= dt.datetime.now(dt.UTC) for h in history)


async def test_a_failing_write_fails_alone(store: ConversationStore, inspect: AsyncEngine) -> None:
    conversation = await store.open_conversation("webchat", "ana")
    writes = [store.record_inbound(conversation, f"ok {i}", None) for i in range(20)]
    writes.insert(10, store.record_inbound(999_999, "conversation that does not exist", None))
    results = await asyncio.gather(*writes, return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(failed) == 1
    assert isinstance(failed[0], sqlite3.IntegrityError | SqlIntegrityError)
    assert sorted(str(r[1]) for r in await _rows(inspect)) == sorted(f"ok {i}" for i in range(20))


async def test_ping_says_whether_the_database_answers(store: ConversationStore) -> None:
    assert await store.ping()


async def test_ping_is_false_for_a_closed_sqlite_store_and_an_unreachable_server(
    tmp_path: Path,
) -> None:
    sqlite = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    await sqlite.close()
    assert not await sqlite.ping()
    unreachable = SqlStore(create_engine(f"postgresql+asyncpg://u@127.0.0.1:{free_port()}/x"))
    try:
        assert not await unreachable.ping()
    finally:
        await unreachable.close()


async def test_what_the_sqlite_writer_stores_sqlalchemy_reads_the_same(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    writer = await open_store(url)
    reader = SqlStore(create_engine(url))
    try:
        conversation = await writer.open_conversation("webchat", "ana")
        message = await writer.record_inbound(conversation, "hola", None)
        await writer.record_outcome(
            message, "answered", conversation, [Outbound("Hola", {"buttons": []})]
        )
        assert await reader.history(conversation, 10) == await writer.history(conversation, 10)
        assert await reader.find_conversation("webchat", "ana") == conversation
    finally:
        await writer.close()
        await reader.close()


async def test_a_cancelled_caller_does_not_keep_the_others_of_its_batch_waiting(
    tmp_path: Path,
) -> None:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    try:
        conversation = await store.open_conversation("webchat", "ana")
        tasks = [
            asyncio.create_task(store.record_inbound(conversation, f"m{i}", None))
            for i in range(30)
        ]
        await asyncio.sleep(0)  # all queued
        tasks[0].cancel()
        done = await asyncio.wait_for(asyncio.gather(*tasks[1:]), timeout=5)
        assert len(set(done)) == 29
        # The cancelled caller's write was already queued: it is stored all the same.
        assert len(await store.history(conversation, 100)) == 30
    finally:
        await store.close()


async def test_a_store_that_cannot_open_its_file_says_so(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(sqlite3.OperationalError, match=r"unable to open"):
        await SqliteStore.open(tmp_path / "dir.db")
