"""The audit log on both databases: what is recorded reads back newest first, with its detail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.accounts.agents import AgentDirectory, Role
from bot.accounts.audit import AuditLog
from bot.storage.database import create_engine, migrate
from tests.bot.databases import BACKENDS, database_url


@pytest.fixture(params=BACKENDS)
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with database_url(request.param, tmp_path) as url:
        created = create_engine(url)
        await migrate(created)
        yield created
        await created.dispose()


async def test_entries_read_back_newest_first_with_their_detail(engine: AsyncEngine) -> None:
    log = AuditLog(engine)
    ana = await AgentDirectory(engine).create("ana", "una-clave-larga-123", Role.ADMIN, "Ana", None)
    await log.record("ana", "login", actor_id=ana.id)
    await log.record("ana", "article_edited", actor_id=ana.id, article="igv", fields=["answer"])
    await log.record("asistente", "model_deployed", model="m.tar.gz", previous=None)

    newest, edited, login = await log.entries()
    assert (newest["actor"], newest["action"]) == ("asistente", "model_deployed")
    assert newest["detail"] == {"model": "m.tar.gz", "previous": None}
    assert edited["detail"] == {"article": "igv", "fields": ["answer"]}
    assert login["detail"] == {} and login["handoff_id"] is None
    assert [e["action"] for e in await log.entries(limit=1)] == ["model_deployed"]
    assert await log.entries(handoff_id=1) == []
