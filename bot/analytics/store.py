"""Where the analytics counts live: SQLAlchemy Core on the gateway's database, SQLite or
PostgreSQL (the dialects differ only in how an ``INSERT … ON CONFLICT`` is built).

Once per event, with one consumer or several: :meth:`AnalyticsStore.record` inserts the keys of
a batch of events into ``analytics_seen_events``, leaving alone those already there, and adds
to the daily counts only the events whose key went in, all in one transaction. A batch that
fails leaves nothing behind (its messages are delivered again); a batch delivered again after
its commit counts nothing. Keys are inserted, and counts updated, in a fixed order, so that two
consumers' transactions wait for each other instead of deadlocking.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.analytics.events import CountedEvent, Kind
from bot.analytics.tables import DailyAction, DailyIntent, DailySessions, SeenEvent
from bot.storage.time import utcnow


@dataclass(frozen=True)
class Recorded:
    """What a batch added: events counted, and events that had been counted before."""

    counted: int
    repeated: int


@dataclass(frozen=True)
class IntentCount:
    intent: str
    messages: int
    low_confidence: int


@dataclass(frozen=True)
class DayCounts:
    """A day's counts: messages by intent (most asked first), runs by action, sessions."""

    day: dt.date
    intents: list[IntentCount]
    actions: dict[str, int]
    sessions: int


def _insert(connection: AsyncConnection, table: Any) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


class AnalyticsStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(self, events: Sequence[CountedEvent]) -> Recorded:
        """Count each of ``events`` unless its key was counted before (within the batch too)."""
        unique = {event.key: event for event in events}
        if not unique:
            return Recorded(0, len(events))
        async with self._engine.begin() as connection:
            new_keys = await self._claim(connection, sorted(unique))
            fresh = [unique[key] for key in sorted(new_keys)]
            await self._add(connection, fresh)
        return Recorded(len(fresh), len(events) - len(fresh))

    async def _claim(self, connection: AsyncConnection, keys: list[str]) -> set[str]:
        """Insert ``keys`` (sorted); the ones that were not there yet."""
        now = utcnow()
        statement = (
            _insert(connection, SeenEvent)
            .values([{"key": key, "seen_at": now} for key in keys])
            .on_conflict_do_nothing(index_elements=[SeenEvent.key])
            .returning(SeenEvent.key)
        )
        return set((await connection.execute(statement)).scalars())

    async def _add(self, connection: AsyncConnection, events: list[CountedEvent]) -> None:
        messages: Counter[tuple[dt.date, str]] = Counter()
        unsure: Counter[tuple[dt.date, str]] = Counter()
        actions: Counter[tuple[dt.date, str]] = Counter()
        sessions: Counter[dt.date] = Counter()
        for event in events:
            if event.kind is Kind.MESSAGE:
                messages[event.day, event.name] += 1
                unsure[event.day, event.name] += event.low_confidence
            elif event.kind is Kind.ACTION:
                actions[event.day, event.name] += 1
            else:
                sessions[event.day] += 1
        for (day, intent), count in sorted(messages.items()):
            await self._increment(
                connection,
                DailyIntent,
                {"day": day, "intent": intent},
                {DailyIntent.messages: count, DailyIntent.low_confidence: unsure[day, intent]},
            )
        for (day, action), count in sorted(actions.items()):
            await self._increment(
                connection, DailyAction, {"day": day, "action": action}, {DailyAction.runs: count}
            )
        for day, count in sorted(sessions.items()):
            await self._increment(
                connection, DailySessions, {"day": day}, {DailySessions.sessions: count}
            )

    async def _increment(
        self,
        connection: AsyncConnection,
        table: Any,
        keys: dict[str, Any],
        amounts: dict[Any, int],
    ) -> None:
        """Add ``amounts`` to the row of ``keys``, creating it with them when absent."""
        statement = _insert(connection, table).values(
            {**keys, **{column.key: amount for column, amount in amounts.items()}}
        )
        additions: dict[Any, ColumnElement[Any]] = {
            column.key: column + statement.excluded[column.key] for column in amounts
        }
        await connection.execute(
            statement.on_conflict_do_update(index_elements=list(keys), set_=additions)
        )

    async def forget_seen(self, before: dt.datetime) -> int:
        """Forget the keys of events counted before ``before`` (a redelivery later than that
        would count again); how many."""
        async with self._engine.begin() as connection:
            result = await connection.execute(delete(SeenEvent).where(SeenEvent.seen_at < before))
        return int(result.rowcount or 0)

    async def day(self, day: dt.date) -> DayCounts:
        """The counts of ``day`` (a day in Lima)."""
        async with self._engine.connect() as connection:
            intents = await connection.execute(
                select(DailyIntent.intent, DailyIntent.messages, DailyIntent.low_confidence)
                .where(DailyIntent.day == day)
                .order_by(DailyIntent.messages.desc(), DailyIntent.intent)
            )
            actions = await connection.execute(
                select(DailyAction.action, DailyAction.runs).where(DailyAction.day == day)
            )
            sessions = await connection.scalar(
                select(DailySessions.sessions).where(DailySessions.day == day)
            )
            return DayCounts(
                day,
                [IntentCount(*row) for row in intents],
                {str(name): int(runs) for name, runs in actions},
                int(sessions or 0),
            )
