"""The dashboard's API through the real app: who may read it, what bad filters get, and each
chart as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.accounts.agents import Role
from bot.dashboard.board import CHARTS
from bot.dashboard.filters import lima_today
from bot.ops.settings import Settings
from bot.storage.database import create_engine
from bot.web.app import create_app
from tests.bot.dashboard.conftest import Seed, lima
from tests.bot.handoff.console_app import PASSWORD, Agent

DAY = dt.date(2026, 1, 10)
PERIOD = {"from": "2026-01-10", "to": "2026-01-11"}


async def _rows(url: str) -> None:
    engine = create_engine(url)
    seed = Seed(engine)
    try:
        web, whatsapp = await seed.conversation("webchat"), await seed.conversation("whatsapp")
        await seed.message(web, lima(2026, 1, 10, 9), topic="igv")
        await seed.message(web, lima(2026, 1, 10, 23, 59), topic="igv")
        await seed.message(whatsapp, lima(2026, 1, 11, 0, 0), topic="ruc_inscripcion")
        talk = await seed.event('=HYPERLINK("http://x") Charla', lima(2026, 2, 1))
        await seed.registration(talk, web, lima(2026, 1, 10))
    finally:
        await engine.dispose()


@pytest.fixture()
def app_client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as client:
        for name, role in (("ana", Role.AGENT), ("jefa", Role.SUPERVISOR), ("admin", Role.ADMIN)):
            client.portal.call(  # type: ignore[union-attr]
                app.state.desk.agents.create, name, PASSWORD, role, name.title(), "orientacion"
            )
        client.portal.call(_rows, settings.database_url)  # type: ignore[union-attr]
        yield client


def test_agents_may_not_read_the_dashboard(app_client: TestClient) -> None:
    agent = Agent(app_client, "ana")
    for path in ("/api/dashboard", "/api/dashboard/topics.csv"):
        response = agent.get(path)
        assert response.status_code == 403, path
        assert response.json()["error"] == "forbidden"
        assert app_client.get(path).status_code == 401  # nobody signed in


@pytest.mark.parametrize("who", ["jefa", "admin"])
def test_supervisors_and_admins_get_every_chart(app_client: TestClient, who: str) -> None:
    response = Agent(app_client, who).get("/api/dashboard?from=2026-01-10&to=2026-01-11")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["filters"] == {"from": "2026-01-10", "to": "2026-01-11", "channel": None}
    assert [c["name"] for c in body["charts"]] == list(CHARTS)
    charts = {c["name"]: c for c in body["charts"]}
    conversations = charts["conversations"]["rows"]
    assert [(r["day"], r["webchat"], r["whatsapp"], r["total"]) for r in conversations] == [
        ("2026-01-10", 1, 0, 1),
        ("2026-01-11", 0, 1, 1),
    ]
    topics = charts["topics"]["rows"]
    assert [(t["topic"], t["questions"]) for t in topics] == [("igv", 2), ("ruc_inscripcion", 1)]
    assert topics[0]["title"] == "¿Qué es el IGV?"  # the knowledge base's title
    for chart in body["charts"]:
        assert chart["title"] and chart["note"] and chart["plot"]["type"] in ("columns", "bars")
        keys = [c["key"] for c in chart["columns"]]
        assert all(set(row) == set(keys) for row in chart["rows"]), chart["name"]


def test_the_channel_filter_and_the_default_period(app_client: TestClient) -> None:
    boss = Agent(app_client, "jefa")
    body = boss.get("/api/dashboard?from=2026-01-10&to=2026-01-11&channel=whatsapp").json()
    charts = {c["name"]: c for c in body["charts"]}
    assert [(t["topic"], t["questions"]) for t in charts["topics"]["rows"]] == [
        ("ruc_inscripcion", 1)
    ]
    assert [c["key"] for c in charts["conversations"]["columns"]] == ["day", "whatsapp", "total"]
    today = lima_today()
    body = boss.get("/api/dashboard").json()
    assert body["filters"] == {
        "from": (today - dt.timedelta(days=29)).isoformat(),
        "to": today.isoformat(),
        "channel": None,
    }
    assert len(body["charts"][0]["rows"]) == 30


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"from": "2026-01-11", "to": "2026-01-10"}, "invalid_period"),
        ({"from": "2024-01-01", "to": "2026-01-10"}, "period_too_long"),
        ({"from": "1999-12-31", "to": "2000-01-01"}, "invalid_period"),
        ({"to": "9999-12-31"}, "invalid_period"),
        ({"from": "2026-13-01"}, "invalid_request"),
        ({"from": "ayer"}, "invalid_request"),
        ({"channel": "telegram"}, "invalid_request"),
    ],
)
def test_bad_filters_are_a_422_in_spanish(
    app_client: TestClient, query: dict[str, str], code: str
) -> None:
    boss = Agent(app_client, "jefa")
    for path in ("/api/dashboard", "/api/dashboard/tickets.csv"):
        response = boss.http.get(path, params=query, headers=boss.headers(False))
        assert response.status_code == 422, (path, response.text)
        body = response.json()
        assert body["error"] == code and body["message"]


def test_each_chart_downloads_as_csv(app_client: TestClient) -> None:
    boss = Agent(app_client, "jefa")
    body = boss.get("/api/dashboard?from=2026-01-10&to=2026-01-11").json()
    for chart in body["charts"]:
        response = boss.http.get(
            f"/api/dashboard/{chart['name']}.csv", params=PERIOD, headers=boss.headers(False)
        )
        assert response.status_code == 200, chart["name"]
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        name = f"tablero-{chart['name'].replace('_', '-')}-2026-01-10-2026-01-11.csv"
        assert response.headers["content-disposition"] == f'attachment; filename="{name}"'
        lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert lines[0] == [c["label"] for c in chart["columns"]]
        assert len(lines) == len(chart["rows"]) + 1
        if chart["rows"]:
            first: dict[str, Any] = chart["rows"][0]
            first_cells = [str(first[c["key"]]) if first[c["key"]] is not None else ""
                           for c in chart["columns"]]  # fmt: skip
            assert [c.lstrip("'") for c in lines[1]] == first_cells
    events = boss.http.get(
        "/api/dashboard/registrations.csv", params=PERIOD, headers=boss.headers(False)
    )
    [_, row] = list(csv.reader(io.StringIO(events.content.decode("utf-8-sig"))))
    assert row[0] == '\'=HYPERLINK("http://x") Charla'  # shown as text, never run


def test_an_unknown_chart_is_a_404(app_client: TestClient) -> None:
    response = Agent(app_client, "jefa").get("/api/dashboard/usuarios.csv")
    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "message": "No existe ese gráfico del tablero.",
    }
