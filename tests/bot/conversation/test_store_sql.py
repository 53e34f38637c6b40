"""What only the ``AsyncEngine`` store does (PostgreSQL at scale); the contract it shares with
the embedded store is in ``test_store.py``."""

from __future__ import annotations

from pathlib import Path

from bot.conversation.store import Outbound, open_store
from bot.conversation.store_sql import SqlStore
from bot.ops.processes import free_port
from bot.storage.database import create_engine


async def test_ping_is_false_for_an_unreachable_server() -> None:
    unreachable = SqlStore(create_engine(f"postgresql+asyncpg://u@127.0.0.1:{free_port()}/x"))
    try:
        assert not await unreachable.ping()
    finally:
        await unreachable.close()


async def test_the_same_queries_run_on_an_sqlite_file_through_aiosqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    await (await open_store(url)).close()  # migrated (open_store gives a file the writer)
    store = SqlStore(create_engine(url))
    try:
        conversation = await store.open_conversation("messenger", "ana")
        assert await store.open_conversation("messenger", "ana") == conversation
        first = await store.accept_inbound(conversation, "hola", None, "messenger:m_1")
        assert first is not None
        assert await store.accept_inbound(conversation, "hola", None, "messenger:m_1") is None
        await store.record_outcome(first, "answered", conversation, [Outbound("¡Hola!", None)])
        assert [(h.direction, h.text) for h in await store.history(conversation, 10)] == [
            ("in", "hola"),
            ("out", "¡Hola!"),
        ]
        assert await store.ping()
    finally:
        await store.close()
