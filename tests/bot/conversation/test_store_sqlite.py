"""What only the embedded store does: one writer thread, group commit, its own connection."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.conversation.store import Outbound, open_store
from bot.conversation.store_sql import SqlStore
from bot.conversation.store_sqlite import SqliteStore
from bot.storage.database import create_engine


async def test_writes_that_arrive_together_are_committed_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    commit = SqliteStore._commit

    def counted(db: sqlite3.Connection, jobs: list[Any]) -> None:
        batches.append(len(jobs))
        commit(db, jobs)

    monkeypatch.setattr(SqliteStore, "_commit", staticmethod(counted))
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    try:
        conversation = await store.open_conversation("webchat", "ana")
        batches.clear()
        ids = await asyncio.gather(
            *(store.record_inbound(conversation, f"m{i}", None) for i in range(50))
        )
        assert len(set(ids)) == 50
        assert sum(batches) == 50
        assert len(batches) < 50  # group commit: fewer transactions than writes
    finally:
        await store.close()


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


async def test_text_and_json_are_stored_as_utf_8_and_moments_as_sqlalchemy_does(
    tmp_path: Path,
) -> None:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    try:
        conversation = await store.open_conversation("webchat", "ana")
        await store.record_inbound(conversation, "ñandú", {"texto": "¿qué?"})
    finally:
        await store.close()
    with sqlite3.connect(tmp_path / "gateway.db") as db:
        text, payload, created_at = db.execute(
            "SELECT text, payload, created_at FROM messages"
        ).fetchone()
    assert (text, payload) == ("ñandú", '{"texto": "¿qué?"}')
    assert len(created_at) == len("2026-01-31 12:00:00.000000")  # naive, in UTC


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


async def test_ping_is_false_for_a_closed_sqlite_store(tmp_path: Path) -> None:
    sqlite = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    await sqlite.close()
    assert not await sqlite.ping()
    with pytest.raises(RuntimeError, match="not running"):
        await sqlite.history(1, 10)


async def test_a_store_that_cannot_open_its_file_says_so(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(sqlite3.OperationalError, match=r"unable to open"):
        await SqliteStore.open(tmp_path / "dir.db")
