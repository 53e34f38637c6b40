"""The conversation store on both databases: SQLite (default) and PostgreSQL (scale path).

PostgreSQL is the real server on this machine (``TEST_POSTGRES_URL``, default the local
``test`` database); each test gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversations import ConversationService
from bot.db import Conversation, Message, create_engine, migrate
from bot.knowledge import KnowledgeStore
from bot.processes import free_port
from bot.push import PushHub
from bot.rasa_client import RasaClient
from bot.settings import ROOT
from connectors.base import InboundMessage

POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def _admin(url: str) -> asyncpg.Connection:
    u = make_url(url)
    return await asyncpg.connect(
        host=u.host, port=u.port, user=u.username, password=u.password, database=u.database
    )


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
        name = None
    else:
        name = f"gateway_test_{uuid.uuid4().hex[:12]}"
        admin = await _admin(POSTGRES)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        await migrate(engine)
        yield engine
    finally:
        await engine.dispose()
        if name:
            admin = await _admin(POSTGRES)
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            await admin.close()


@pytest.fixture()
async def service(engine: AsyncEngine) -> AsyncIterator[ConversationService]:
    """A service whose engine is down (nothing listens on Rasa's port)."""
    async with httpx.AsyncClient() as http:
        rasa = RasaClient(http, f"http://127.0.0.1:{free_port()}", "token", 2.0)
        knowledge = KnowledgeStore(ROOT / "data" / "knowledge")
        yield ConversationService(engine, rasa, knowledge, PushHub())


async def test_migrations_are_idempotent(engine: AsyncEngine) -> None:
    await migrate(engine)
    async with engine.connect() as db:
        assert await db.scalar(select(func.count()).select_from(Conversation)) == 0


async def test_message_is_kept_as_failed_when_the_engine_is_down(
    service: ConversationService, engine: AsyncEngine
) -> None:
    replies = await service.handle(InboundMessage("webchat", "ana", "hola"))
    assert replies[0]["text"].startswith("Estamos teniendo problemas")
    async with engine.connect() as db:
        rows = (
            await db.execute(select(Message.direction, Message.status).order_by(Message.id))
        ).all()
    assert [tuple(r) for r in rows] == [("in", "failed"), ("out", "sent")]


async def test_first_messages_of_a_new_sender_racing_create_one_conversation(
    service: ConversationService, engine: AsyncEngine
) -> None:
    texts = [f"mensaje {i}" for i in range(8)]
    await asyncio.gather(*(service.handle(InboundMessage("webchat", "nuevo", t)) for t in texts))
    async with engine.connect() as db:
        assert await db.scalar(select(func.count()).select_from(Conversation)) == 1
    history = await service.history("webchat", "nuevo")
    assert sorted(h.text or "" for h in history if h.direction == "in") == sorted(texts)


async def test_history_is_per_channel_and_sender_in_order(service: ConversationService) -> None:
    await service.push("webchat", "ana", [{"text": "uno"}, {"text": "dos", "buttons": []}])
    await service.push("messenger", "ana", [{"text": "otro canal"}])
    history = await service.history("webchat", "ana")
    assert [h.text for h in history] == ["uno", "dos"]
    assert await service.history("webchat", "nadie") == []
