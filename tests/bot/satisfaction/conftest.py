"""The satisfaction survey's tests on each database (SQLite file, PostgreSQL): a migrated
database, the conversation store that writes its messages, and a second connection (the one the
survey's store and the forms use, as in the app)."""

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
    async with database_url(request.param, tmp_path) as found:
        yield found


@pytest.fixture()
async def store(url: str) -> AsyncIterator[ConversationStore]:
    """The conversation store (it migrates the database)."""
    opened = await open_store(url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture()
async def engine(url: str, store: ConversationStore) -> AsyncIterator[AsyncEngine]:
    created = create_engine(url)
    try:
        yield created
    finally:
        await created.dispose()
