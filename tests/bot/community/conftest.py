"""The community events' stores on each database (an SQLite file, PostgreSQL), with the
conversations their places belong to; and a way to write an event's draft."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.community.events import EventDraft
from bot.community.store import EventStore
from bot.conversation.store import ConversationStore, open_store
from bot.storage.database import create_engine
from bot.storage.time import utcnow
from tests.bot.databases import BACKENDS, database_url


def draft(**changes: Any) -> EventDraft:
    """A talk in three days, for 5 people, registration open until the day before."""
    starts = utcnow().replace(microsecond=0) + dt.timedelta(days=3)
    values: dict[str, Any] = {
        "title": "Charla: tu primer comprobante electrónico",
        "kind": "charla",
        "starts_at": starts,
        "ends_at": starts + dt.timedelta(hours=2),
        "place": "Centro de Servicios al Contribuyente de Lima",
        "online_url": None,
        "capacity": 5,
        "registration_deadline": starts - dt.timedelta(days=1),
        "description": "Cómo emitir boletas y facturas electrónicas desde SUNAT.",
    }
    values.update(changes)
    return EventDraft(**values)


@pytest.fixture(params=BACKENDS)
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture()
async def conversations(url: str) -> AsyncIterator[ConversationStore]:
    """The conversation store (it migrates the database)."""
    store = await open_store(url)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture()
async def engine(url: str, conversations: ConversationStore) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture()
def events(engine: AsyncEngine) -> EventStore:
    return EventStore(engine)


@pytest.fixture()
async def gateways(url: str, conversations: ConversationStore) -> AsyncIterator[list[EventStore]]:
    """Four stores, each with its own connection pool: four gateways on one database."""
    engines = [create_engine(url) for _ in range(4)]
    try:
        yield [EventStore(e) for e in engines]
    finally:
        for e in engines:
            await e.dispose()
