"""The analytics counts on both databases: an event counts once however often it is recorded
(in one batch, in two, by two consumers at once), counts by intent and day, old keys
forgotten."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.analytics.events import CountedEvent, Kind
from bot.analytics.store import AnalyticsStore, IntentCount
from bot.analytics.tables import SeenEvent
from bot.storage.database import create_engine, migrate
from bot.storage.time import utcnow
from tests.bot.databases import BACKENDS, database_url

MONDAY, TUESDAY = dt.date(2026, 11, 30), dt.date(2026, 12, 1)


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AnalyticsStore]:
    async with database_url(request.param, tmp_path) as url:
        engine = create_engine(url)
        await migrate(engine)
        try:
            yield AnalyticsStore(engine)
        finally:
            await engine.dispose()


def message(key: str, intent: str, day: dt.date = MONDAY, unsure: bool = False) -> CountedEvent:
    return CountedEvent(key, Kind.MESSAGE, day, intent, unsure)


async def test_an_event_recorded_twice_counts_once(store: AnalyticsStore) -> None:
    first = await store.record([message("k1", "consulta_ruc")])
    again = await store.record([message("k1", "consulta_ruc"), message("k1", "consulta_ruc")])
    assert (first.counted, first.repeated) == (1, 0)
    assert (again.counted, again.repeated) == (0, 2)
    assert (await store.day(MONDAY)).intents == [IntentCount("consulta_ruc", 1, 0)]


async def test_counts_by_intent_action_session_and_day(store: AnalyticsStore) -> None:
    recorded = await store.record(
        [
            message("a", "consulta_ruc"),
            message("b", "consulta_ruc", unsure=True),
            message("c", "clave_sol"),
            message("d", "clave_sol", TUESDAY),
            CountedEvent("e", Kind.ACTION, MONDAY, "action_answer"),
            CountedEvent("f", Kind.ACTION, MONDAY, "action_answer"),
            CountedEvent("g", Kind.ACTION, MONDAY, "utter_saludo"),
            CountedEvent("h", Kind.SESSION, MONDAY),
            message("a", "consulta_ruc"),  # the same event twice in one batch
        ]
    )
    assert (recorded.counted, recorded.repeated) == (8, 1)
    await store.record([message("i", "consulta_ruc"), CountedEvent("j", Kind.SESSION, MONDAY)])
    monday = await store.day(MONDAY)
    assert monday.intents == [IntentCount("consulta_ruc", 3, 1), IntentCount("clave_sol", 1, 0)]
    assert monday.actions == {"action_answer": 2, "utter_saludo": 1}
    assert monday.sessions == 2
    tuesday = await store.day(TUESDAY)
    assert (tuesday.intents, tuesday.actions, tuesday.sessions) == (
        [IntentCount("clave_sol", 1, 0)], {}, 0,
    )  # fmt: skip


async def test_two_consumers_recording_the_same_batch_at_once_count_it_once(
    store: AnalyticsStore,
) -> None:
    batch = [message(f"k{n}", "consulta_ruc") for n in range(50)]
    results = await asyncio.gather(*(store.record(list(reversed(batch))) for _ in range(2)))
    assert sorted(r.counted for r in results) == [0, 50]
    assert (await store.day(MONDAY)).intents == [IntentCount("consulta_ruc", 50, 0)]


async def test_old_keys_are_forgotten(store: AnalyticsStore) -> None:
    await store.record([message("old", "consulta_ruc")])
    assert await store.forget_seen(utcnow() - dt.timedelta(days=1)) == 0
    assert await store.forget_seen(utcnow() + dt.timedelta(seconds=1)) == 1
    async with store._engine.connect() as db:
        assert await db.scalar(select(func.count()).select_from(SeenEvent)) == 0
