"""The tickets' parts on each database (SQLite file, PostgreSQL): the store, the forms, the
catalog and calendar of the repository's data, a clock the test moves, conversations to
register tickets in, and an outreach that records what it sends."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.channel import BotMessage
from bot.conversation.flows import FlowStore
from bot.ops.settings import ROOT
from bot.storage.database import create_engine, migrate
from bot.storage.tables import Agent, Conversation
from bot.tickets.calendar import BusinessCalendar, Holidays
from bot.tickets.catalog import Catalog, load_catalog
from bot.tickets.store import TicketStore
from tests.bot.databases import BACKENDS, database_url
from tests.fakes.smtp import FakeSmtpServer

DATA = ROOT / "data" / "tickets"
#: Wednesday 2 December 2026, 10:00 in Lima.
NOW = dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


class Outreach:
    """Records what would reach citizens; ``on`` False: the channel is off."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.on = True

    async def send(
        self,
        conversation_id: int,
        channel: str,
        sender_id: str,
        messages: list[BotMessage],
        agent: bool = False,
    ) -> bool:
        self.sent.append(
            {
                "conversation_id": conversation_id,
                "channel": channel,
                "sender_id": sender_id,
                "messages": messages,
                "agent": agent,
            }
        )
        return self.on


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(DATA / "tickets.yml")


@pytest.fixture(scope="session")
def calendar() -> BusinessCalendar:
    return BusinessCalendar(Holidays.load(DATA / "feriados.yml"))


@pytest.fixture(params=BACKENDS)
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with database_url(request.param, tmp_path) as url:
        engine = create_engine(url)
        await migrate(engine)
        try:
            yield engine
        finally:
            await engine.dispose()


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def store(engine: AsyncEngine) -> TicketStore:
    return TicketStore(engine)


@pytest.fixture()
def flows(engine: AsyncEngine, clock: Clock) -> FlowStore:
    return FlowStore(engine, clock=clock)


async def conversation(engine: AsyncEngine, channel: str, sender_id: str) -> int:
    async with engine.begin() as db:
        result = await db.execute(
            insert(Conversation)
            .values(channel=channel, sender_id=sender_id, created_at=NOW, updated_at=NOW)
            .returning(Conversation.id)
        )
        return int(result.scalar_one())


async def agent(engine: AsyncEngine, username: str, role: str = "agent") -> int:
    """An account (its id), as the directory stores it (no usable password)."""
    async with engine.begin() as db:
        result = await db.execute(
            insert(Agent)
            .values(
                username=username,
                display_name=username.title(),
                password_hash="x",
                role=role,
                active=True,
                created_at=NOW,
            )
            .returning(Agent.id)
        )
        return int(result.scalar_one())


@pytest.fixture()
def outreach() -> Outreach:
    return Outreach()


@pytest.fixture()
def smtp() -> Iterator[FakeSmtpServer]:
    server = FakeSmtpServer().start()
    yield server
    server.stop()
