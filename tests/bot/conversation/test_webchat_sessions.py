"""Web chat sessions in the gateway database: hashed, random, idle-expiring, shared by gateways."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.webchat_sessions import WebchatSessionRow, WebchatSessions
from bot.ops.settings import Settings
from bot.storage.database import create_engine, migrate
from bot.web.app import create_app
from connectors.webchat_access import COOKIE

IDLE = dt.timedelta(minutes=60)


@pytest.fixture()
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    found = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'sessions.db'}")
    await migrate(found)
    yield found
    await found.dispose()


async def test_the_database_keeps_only_the_tokens_hash(engine: AsyncEngine) -> None:
    sessions = WebchatSessions(engine, IDLE)
    token, session = await sessions.start()
    async with engine.connect() as db:
        rows = (await db.execute(text("SELECT * FROM webchat_sessions"))).all()
    assert len(rows) == 1
    assert token not in [str(value) for value in rows[0]]
    assert rows[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert rows[0].sender_id == session.sender_id


async def test_conversation_keys_are_random_and_unrelated_to_the_token(
    engine: AsyncEngine,
) -> None:
    sessions = WebchatSessions(engine, IDLE)
    started = [await sessions.start() for _ in range(20)]
    senders = {session.sender_id for _, session in started}
    assert len(senders) == 20
    for token, session in started:
        # 24 random bytes (192 bits), URL-safe; nothing of the token in it.
        assert re.fullmatch(r"sesion-[A-Za-z0-9_-]{32}", session.sender_id)
        assert session.sender_id not in token and token not in session.sender_id
        assert len(token) >= 43


async def test_idle_sessions_expire_and_are_forgotten(engine: AsyncEngine) -> None:
    sessions = WebchatSessions(engine, IDLE)
    token, _ = await sessions.start()
    start = dt.datetime.now(dt.UTC)
    sessions.clock = lambda: start + IDLE - dt.timedelta(minutes=1)
    assert await sessions.still_active(token)  # activity: written
    sessions.clock = lambda: start + 2 * IDLE - dt.timedelta(minutes=2)
    assert await sessions.find(token) is not None
    sessions.clock = lambda: start + 2 * IDLE
    assert await sessions.find(token) is None
    assert not await sessions.still_active(token)
    # A later session forgets the expired ones.
    await sessions.start()
    async with engine.connect() as db:
        hashes = (await db.scalars(select(WebchatSessionRow.token_hash))).all()
    assert len(hashes) == 1 and hashlib.sha256(token.encode()).hexdigest() not in hashes


async def test_unknown_and_oversized_tokens_find_nothing(engine: AsyncEngine) -> None:
    sessions = WebchatSessions(engine, IDLE)
    token, _ = await sessions.start()
    assert await sessions.find(None) is None
    assert await sessions.find("") is None
    assert await sessions.find(token + "x") is None
    assert await sessions.find("x" * 10_000) is None
    assert not await sessions.end("x" * 10_000)
    assert await sessions.end(token)
    assert not await sessions.end(token)


def test_sessions_survive_a_restart_and_are_shared_by_gateways(settings: Settings) -> None:
    with TestClient(create_app(settings)) as first:
        token = first.post("/webchat/session").cookies[COOKIE]
        said = first.post("/webhooks/webchat", json={"message": "hola"})
        assert said.status_code == 200
    headers = {"Cookie": f"{COOKIE}={token}"}
    # A restarted gateway, and a second one beside it, on the same database.
    with TestClient(create_app(settings)) as restarted, TestClient(create_app(settings)) as other:
        history = restarted.get("/webchat/history", headers=headers)
        assert history.status_code == 200
        assert [i["text"] for i in history.json() if i["direction"] == "in"] == ["hola"]
        assert other.get("/webchat/history", headers=headers).status_code == 200
        # Ended on one gateway: refused on the other at once.
        assert other.delete("/webchat/session", headers=headers).status_code == 204
        assert restarted.get("/webchat/history", headers=headers).status_code == 401
