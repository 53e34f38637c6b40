"""The dashboard on both databases: every chart in order, topics in the knowledge base's words,
one chart alone (a CSV) reads only what it needs, and requests take turns."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.dashboard import board, queries
from bot.dashboard.board import CHARTS, Dashboard
from bot.dashboard.filters import Filters
from bot.knowledge.articles import KnowledgeStore
from bot.ops.settings import ROOT
from tests.bot.dashboard.conftest import Seed, lima

PERIOD = Filters(dt.date(2026, 1, 10), dt.date(2026, 1, 11))


@pytest.fixture()
def dashboard(engine: AsyncEngine) -> Dashboard:
    return Dashboard(engine, KnowledgeStore(ROOT / "data" / "knowledge"))


async def test_every_chart_in_order_topics_in_words(
    engine: AsyncEngine, seed: Seed, dashboard: Dashboard
) -> None:
    web = await seed.conversation("webchat")
    await seed.message(web, lima(2026, 1, 10), topic="igv")
    await seed.message(web, lima(2026, 1, 11), topic="articulo_retirado")
    charts = await dashboard.charts(PERIOD)
    assert list(charts) == list(CHARTS)
    assert [(r["topic"], r["title"]) for r in charts["topics"].rows] == [
        ("articulo_retirado", "articulo_retirado"),  # no longer in the knowledge base: its code
        ("igv", "¿Qué es el IGV?"),
    ]
    assert [r["total"] for r in charts["conversations"].rows] == [1, 1]


async def test_one_chart_alone_reads_only_what_it_needs(
    engine: AsyncEngine, seed: Seed, dashboard: Dashboard
) -> None:
    web = await seed.conversation("webchat")
    await seed.message(web, lima(2026, 1, 10), topic="igv")
    tables: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            tables.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        alone = await dashboard.charts(PERIOD, ["tickets"])
        assert list(alone) == ["tickets"] and len(tables) == 1 and "tickets" in tables[0]
        tables.clear()
        both = await dashboard.charts(PERIOD, ["not_understood"])
        assert list(both) == ["not_understood"] and len(tables) == 2  # questions and reviews
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    assert both["not_understood"].rows[0]["questions"] == 1


async def test_requests_take_turns(dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch) -> None:
    running = 0
    most = 0

    async def slow(db: AsyncConnection, f: Filters) -> list[tuple[str, int]]:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.05)
        running -= 1
        return []

    monkeypatch.setattr(queries, "topics", slow)
    await asyncio.gather(*(dashboard.charts(PERIOD, ["topics"]) for _ in range(6)))
    assert most == board.AT_ONCE
