"""The dashboard's tests on each database (SQLite file, PostgreSQL): a migrated database, and
:class:`Seed`, which writes the rows the figures must come from straight into its tables (the
rooms that write them in production are not needed)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.dashboard.filters import LIMA
from bot.storage.database import create_engine, migrate
from bot.storage.tables import (
    Base,
    CommunityEvent,
    Conversation,
    EventRegistration,
    HandoffRow,
    Message,
    PageComment,
    ReviewItem,
    SurveyRow,
    TicketRow,
)
from tests.bot.databases import BACKENDS, database_url


def lima(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    """A moment given in Lima's wall time (stored in UTC by :class:`Seed`)."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=LIMA)


class Seed:
    """Rows written straight into the dashboard's source tables."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._numbers = itertools.count(1)

    async def _insert(self, table: type[Base], **values: Any) -> int:
        values = {k: v.astimezone(dt.UTC) if isinstance(v, dt.datetime) else v
                  for k, v in values.items()}  # fmt: skip
        async with self.engine.begin() as db:
            result = await db.execute(insert(table).values(**values).returning(table.id))  # type: ignore[attr-defined]
            return int(result.scalar_one())

    async def conversation(self, channel: str = "webchat") -> int:
        at = lima(2026, 1, 1)
        sender = f"ciudadano-{next(self._numbers)}"
        return await self._insert(
            Conversation, channel=channel, sender_id=sender, created_at=at, updated_at=at
        )

    async def message(
        self,
        conversation: int,
        at: dt.datetime,
        direction: str = "in",
        status: str = "answered",
        topic: str | None = None,
    ) -> int:
        return await self._insert(
            Message, conversation_id=conversation, direction=direction, text="hola",
            status=status, created_at=at, topic=topic, attempts=0,
        )  # fmt: skip

    async def review(
        self,
        conversation: int,
        message: int,
        at: dt.datetime,
        offered: list[str],
        source: str = "clarification",
    ) -> int:
        return await self._insert(
            ReviewItem, conversation_id=conversation, message_id=message, text="algo",
            intents=[], offered=offered, created_at=at, source=source, status="open",
        )  # fmt: skip

    async def handoff(
        self,
        conversation: int,
        at: dt.datetime,
        reason: str = "pedido",
        wait: dt.timedelta | None = None,
    ) -> int:
        return await self._insert(
            HandoffRow, conversation_id=conversation, state="closed",
            reason=reason, team="orientacion", created_at=at,
            claimed_at=at + wait if wait is not None else None,
        )  # fmt: skip

    async def survey(
        self, conversation: int, channel: str, at: dt.datetime, rating: int | None
    ) -> int:
        return await self._insert(
            SurveyRow, conversation_id=conversation, number=next(self._numbers), channel=channel,
            trigger="despedida", asked_at=at, rating=rating,
            answered_at=at + dt.timedelta(minutes=1) if rating is not None else None,
        )  # fmt: skip

    async def comment(self, at: dt.datetime, topic: str | None, sentiment: str | None) -> int:
        n = next(self._numbers)
        return await self._insert(
            PageComment, platform_id=f"comentario-{n}", post_id="post-1", text="comentario",
            created_at=at, received_at=at, topic=topic, sentiment=sentiment, status="nuevo",
            analysed_at=at,
        )  # fmt: skip

    async def ticket(
        self,
        conversation: int,
        channel: str,
        at: dt.datetime,
        status: str,
        due: dt.datetime,
        answered: dt.datetime | None = None,
        closed: dt.datetime | None = None,
    ) -> int:
        n = next(self._numbers)
        return await self._insert(
            TicketRow, code=f"SR-2026-{n:06d}", kind="reclamo", status=status,
            description="Un reclamo.", conversation_id=conversation, channel=channel,
            created_at=at, due_at=due, updated_at=at, answered_at=answered, closed_at=closed,
        )  # fmt: skip

    async def event(self, title: str, starts: dt.datetime, capacity: int = 2) -> int:
        return await self._insert(
            CommunityEvent, title=title, kind="charla", starts_at=starts, capacity=capacity,
            registration_deadline=starts, description="Una charla.", created_at=starts,
        )  # fmt: skip

    async def registration(
        self, event: int, conversation: int, at: dt.datetime, status: str = "inscrito"
    ) -> int:
        return await self._insert(
            EventRegistration, event_id=event, conversation_id=conversation, status=status,
            name="Ana", contact="ana@example.com", created_at=at,
        )  # fmt: skip


@pytest.fixture(params=BACKENDS)
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture()
async def engine(url: str) -> AsyncIterator[AsyncEngine]:
    """The gateway's database, migrated to the latest schema."""
    engine = create_engine(url)
    try:
        await migrate(engine)
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture()
def seed(engine: AsyncEngine) -> Seed:
    return Seed(engine)
