"""The console's WebSocket (live updates) through the real app: events reach the consoles that
may see them, a session that ends closes its consoles at once, open consoles are capped."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.accounts.agents import Role
from bot.ops.settings import Settings
from tests.bot.handoff.console_app import (
    PASSWORD,
    Agent,
    Engine,
    closing_code,
    console_app,
    say,
)


def test_live_updates_reach_an_open_console(app_client: TestClient) -> None:
    ana = Agent(app_client, "ana")
    with app_client.websocket_connect("/api/console/events", headers=ana.headers(False)) as socket:
        say(app_client, "quiero hablar con un asesor")
        event = socket.receive_json()
        assert event["type"] == "handoff" and event["handoff"]["state"] == "pending"
    with (
        pytest.raises(Exception),  # noqa: B017 - closed before accepting: no session
        app_client.websocket_connect("/api/console/events") as socket,
    ):
        socket.receive_json()


def test_deactivating_an_agent_closes_their_console_at_once(app_client: TestClient) -> None:
    ana, admin = Agent(app_client, "ana"), Agent(app_client, "admin")
    desk = app_client.app.state.desk  # type: ignore[attr-defined]
    with ana.events() as socket:
        say(app_client, "quiero hablar con un asesor")
        assert socket.receive_json()["handoff"]["state"] == "pending"
        assert ana.id in desk.online()
        assert admin.patch(f"/api/admin/users/{ana.id}", {"active": False}).status_code == 200
        assert closing_code(socket) == 4401  # without waiting for the periodic check (30 s)
    assert ana.id not in desk.online() and ana.id not in desk.hub.connected()
    assert ana.get("/api/handoffs").status_code == 401
    with ana.events() as socket:
        assert closing_code(socket) == 4401  # and cannot open another one


def test_logging_out_closes_that_sessions_console_at_once(app_client: TestClient) -> None:
    here, elsewhere = Agent(app_client, "ana"), Agent(app_client, "ana")
    desk = app_client.app.state.desk  # type: ignore[attr-defined]
    with here.events() as closing, elsewhere.events() as staying:
        assert here.post("/api/auth/logout").status_code == 200
        assert closing_code(closing) == 4401
        # Her other session goes on receiving the desk's events.
        say(app_client, "quiero hablar con un asesor")
        assert staying.receive_json()["handoff"]["state"] == "pending"
        assert here.id in desk.hub.connected()
        assert elsewhere.post("/api/auth/logout").status_code == 200
        assert closing_code(staying) == 4401
    assert here.id not in desk.online()


def test_an_open_console_checks_its_session_again(app_client: TestClient) -> None:
    """Deactivated where the console cannot hear it (``python -m bot``, another gateway): the
    periodic check (30 s; here 50 ms) closes the socket."""
    ana = Agent(app_client, "ana")
    desk = app_client.app.state.desk  # type: ignore[attr-defined]
    desk.hub.session_check_seconds = 0.05
    with ana.events() as socket:
        app_client.portal.call(  # type: ignore[union-attr]
            lambda: desk.agents.update(ana.id, active=False)
        )
        assert closing_code(socket) == 4401
    assert ana.id not in desk.online()


def test_open_consoles_are_capped_per_session_and_per_address(
    settings: Settings, engine: Engine
) -> None:
    caps: dict[str, Any] = {"max_streams_per_session": 1, "max_streams_per_address": 2}
    with console_app(settings, engine, "198.51.100.7", **caps) as client:
        for name in ("ana", "beto", "jefa"):
            client.portal.call(  # type: ignore[union-attr]
                client.app.state.desk.agents.create,
                name,
                PASSWORD,
                Role.AGENT,  # type: ignore[attr-defined]
            )
        ana, beto, jefa = (Agent(client, n) for n in ("ana", "beto", "jefa"))
        with ana.events():
            with ana.events() as second:
                assert closing_code(second) == 4429
            with beto.events(), jefa.events() as third:  # the address holds two already
                assert closing_code(third) == 4429
            with jefa.events() as socket:  # beto's closed: room again
                say(client, "quiero hablar con un asesor")
                assert socket.receive_json()["type"] == "handoff"
