"""The conversation store on each database (SQLite file, PostgreSQL), for the tests of this
folder that do not set up their own (a test module's own fixtures take precedence)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.store import ConversationStore, open_store
from bot.storage.database import create_engine
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
