"""The dashboard: its charts for a period and a channel, each figure read by its own query
(:mod:`bot.dashboard.queries`) on its own connection, the queries of one request at once.

It reads through an engine of its own (the app gives it one), so its longer reads never wait
for, or hold up, the desk's connections; and at most :data:`AT_ONCE` requests compute at a
time (others wait their turn), so a supervisor refreshing often cannot load the database. On
SQLite its connections only read (``query_only``) and map the file into memory
(``mmap_size``: pages are read from the operating system's cache without a copy, shared by
every connection), which makes the long reads of a year's messages a fifth faster.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.dashboard import charts, queries
from bot.dashboard.charts import Chart
from bot.dashboard.filters import Filters
from bot.knowledge.articles import KnowledgeStore
from bot.storage.time import utcnow

T = TypeVar("T")

#: Every chart, in the order the console shows them.
CHARTS = (
    "conversations",
    "topics",
    "not_understood",
    "handoffs",
    "satisfaction",
    "comments",
    "tickets",
    "registrations",
)
#: Dashboard requests computed at the same time.
AT_ONCE = 2
#: How much of an SQLite file the dashboard's connections map into memory.
MMAP_BYTES = 1 << 30


class Dashboard:
    def __init__(
        self,
        engine: AsyncEngine,
        knowledge: KnowledgeStore,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._engine = engine
        if engine.dialect.name == "sqlite":
            event.listen(engine.sync_engine, "connect", _reader_pragmas)
        self._knowledge = knowledge
        self._clock = clock
        self._turns = asyncio.Semaphore(AT_ONCE)

    async def charts(self, f: Filters, names: Sequence[str] = CHARTS) -> dict[str, Chart]:
        """The charts named (all by default) for the filters, in the order of :data:`CHARTS`."""
        wanted = set(names)
        reads: dict[str, Awaitable[Any]] = {}
        if wanted & {"conversations", "not_understood"}:
            reads["days"] = self._read(queries.channel_days, f)
        if "not_understood" in wanted:
            reads["unsure"] = self._read(queries.unsure_days, f)
        if "topics" in wanted:
            reads["topics"] = self._read(queries.topics, f)
        if "handoffs" in wanted:
            reads["handoffs"] = self._read(queries.handoffs, f)
        if "satisfaction" in wanted:
            reads["surveys"] = self._read(queries.survey_days, f)
        if "comments" in wanted:
            reads["comments"] = self._read(queries.comment_sentiments, f)
        if "tickets" in wanted:
            now = self._clock()
            reads["tickets"] = self._read(lambda db, f: queries.ticket_statuses(db, f, now), f)
        if "registrations" in wanted:
            reads["registrations"] = self._read(queries.registrations, f)
        async with self._turns:
            results = dict(zip(reads, await asyncio.gather(*reads.values()), strict=True))
        title = self._title
        built = {
            "conversations": lambda: charts.conversations(f, results["days"]),
            "topics": lambda: charts.topics(results["topics"], title),
            "not_understood": lambda: charts.not_understood(f, results["days"], results["unsure"]),
            "handoffs": lambda: charts.handoffs(f, results["handoffs"]),
            "satisfaction": lambda: charts.satisfaction(f, results["surveys"]),
            "comments": lambda: charts.comments(results["comments"], title),
            "tickets": lambda: charts.tickets(results["tickets"]),
            "registrations": lambda: charts.registrations(results["registrations"]),
        }
        return {name: built[name]() for name in CHARTS if name in wanted}

    async def _read(
        self, query: Callable[[AsyncConnection, Filters], Awaitable[T]], f: Filters
    ) -> T:
        async with self._engine.connect() as db:
            return await query(db, f)

    def _title(self, topic: str) -> str:
        """A topic's words: its knowledge-base article's title (the code when there is none)."""
        article = self._knowledge.current.get(topic)
        return article.title if article is not None else topic


def _reader_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only = ON")
    cursor.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    cursor.close()
