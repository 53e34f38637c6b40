"""The console's REST API through the real app (engine answers given by the test): sessions,
CSRF, roles, login throttling and lockout, the handoff through the API, and bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.agents import Role
from bot.app import create_app
from bot.console import COOKIE, CSRF_HEADER
from bot.settings import Settings

PASSWORD = "una-clave-larga-123"


class Engine:
    """Rasa as the gateway sees it: asks for a person when told to, records what it gets."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.tracker_events: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/tracker/events"):
            self.tracker_events += json.loads(request.content)
            return httpx.Response(200, json={})
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "m.tar.gz"})
        message = json.loads(request.content)["message"]
        self.messages.append(message)
        if "asesor" in message:
            handoff = {"reason": "pedido", "team": "orientacion", "intent": "pedir_humano",
                       "confidence": 0.98}  # fmt: skip
            return httpx.Response(200, json=[{"recipient_id": "x", "custom": {"handoff": handoff}}])
        return httpx.Response(200, json=[{"recipient_id": "x", "text": f"bot: {message}"}])


@pytest.fixture()
def engine() -> Engine:
    return Engine()


@pytest.fixture()
def app_client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    app = create_app(settings, transport=httpx.MockTransport(engine))
    with TestClient(app) as test_client:
        for name, role in (("ana", Role.AGENT), ("beto", Role.AGENT),
                           ("jefa", Role.SUPERVISOR), ("admin", Role.ADMIN)):  # fmt: skip
            test_client.portal.call(  # type: ignore[union-attr]
                app.state.desk.agents.create, name, PASSWORD, role, name.title(), "orientacion"
            )
        yield test_client


class Agent:
    """One console session on the shared test client (its cookie sent explicitly)."""

    def __init__(self, app_client: TestClient, username: str) -> None:
        self.http = app_client
        response = app_client.post(
            "/api/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        self.cookie = f"{COOKIE}={response.cookies[COOKIE]}"
        app_client.cookies.clear()
        self.csrf = response.json()["csrf_token"]

    def headers(self, csrf: bool = True) -> dict[str, str]:
        headers = {"Cookie": self.cookie}
        if csrf:
            headers[CSRF_HEADER] = self.csrf
        return headers

    def post(
        self, path: str, body: dict[str, Any] | None = None, csrf: bool = True
    ) -> httpx.Response:
        return self.http.post(path, json=body or {}, headers=self.headers(csrf))

    def put(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.put(path, json=body, headers=self.headers())

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path, headers=self.headers(False))


def say(client: TestClient, text: str, sender: str = "ciudadano") -> list[dict[str, Any]]:
    response = client.post("/webhooks/webchat", json={"sender": sender, "message": text})
    assert response.status_code == 200, response.text
    replies: list[dict[str, Any]] = response.json()
    return replies


def test_a_handoff_through_the_api(app_client: TestClient, engine: Engine) -> None:
    ana = Agent(app_client, "ana")
    beto = Agent(app_client, "beto")
    assert ana.get("/api/auth/me").json()["agent"]["username"] == "ana"  # online now

    [queued] = say(app_client, "quiero hablar con un asesor")
    assert "puesto 1 de la fila" in queued["text"]
    [waiting] = ana.get("/api/handoffs").json()
    assert (waiting["state"], waiting["channel"], waiting["intent"], waiting["confidence"]) == (
        "pending", "webchat", "pedir_humano", 0.98,
    )  # fmt: skip
    handoff = waiting["id"]

    assert ana.post(f"/api/handoffs/{handoff}/claim").status_code == 200
    taken = beto.post(f"/api/handoffs/{handoff}/claim")
    assert taken.status_code == 409 and taken.json()["error"] == "already_claimed"
    # beto does not see ana's chat; ana does.
    assert beto.get(f"/api/handoffs/{handoff}").status_code == 404

    sent_to_engine = len(engine.messages)
    assert say(app_client, "tengo una deuda <script>x</script>") == []
    assert len(engine.messages) == sent_to_engine  # never reached Rasa
    detail = ana.get(f"/api/handoffs/{handoff}").json()
    assert detail["transcript"][-1] == {
        "direction": "in", "text": "tengo una deuda <script>x</script>",
        "at": detail["transcript"][-1]["at"], "author": "ciudadano",
    }  # fmt: skip
    assert detail["handoff"]["reason"] == "pedido"

    assert (
        ana.post(f"/api/handoffs/{handoff}/messages", {"text": "Hola, soy Ana"}).status_code == 200
    )
    history = app_client.get("/webchat/history", params={"sender": "ciudadano"}).json()
    assert [h["text"] for h in history[-3:]] == [
        "Ana te atiende desde ahora.", "tengo una deuda <script>x</script>", "Hola, soy Ana",
    ]  # fmt: skip
    not_yours = beto.post(f"/api/handoffs/{handoff}/messages", {"text": "hola"})
    assert not_yours.status_code in (403, 404)
    assert (
        ana.post(f"/api/handoffs/{handoff}/notes", {"text": "pide fraccionamiento"}).status_code
        == 200
    )
    assert ana.get(f"/api/handoffs/{handoff}").json()["notes"][0]["text"] == "pide fraccionamiento"

    closed = ana.post(f"/api/handoffs/{handoff}/close", {"resolution": "resuelto"})
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    again = ana.post(f"/api/handoffs/{handoff}/messages", {"text": "¿algo más?"})
    assert again.status_code == 409
    # The assistant answers again, in the same conversation.
    assert say(app_client, "gracias")[0]["text"] == "bot: gracias"
    # Rasa's tracker got the citizen's message and the agent's reply.
    assert [e.get("text") for e in engine.tracker_events if e["event"] in ("user", "bot")] == [
        "tengo una deuda <script>x</script>", "Hola, soy Ana",
    ]  # fmt: skip


def test_citizen_cancels_while_waiting(app_client: TestClient, engine: Engine) -> None:
    ana = Agent(app_client, "ana")
    say(app_client, "quiero hablar con un asesor")
    [cancelled] = say(app_client, "/seguir_con_asistente")
    assert "sigo yo" in cancelled["text"]
    assert ana.get("/api/handoffs").json() == []
    assert say(app_client, "que es el ruc")[0]["text"] == "bot: que es el ruc"


def test_sessions_and_csrf(app_client: TestClient) -> None:
    assert app_client.get("/api/handoffs").status_code == 401
    assert app_client.get("/api/handoffs").json()["error"] == "not_logged_in"
    ana = Agent(app_client, "ana")
    say(app_client, "quiero hablar con un asesor")
    [waiting] = ana.get("/api/handoffs").json()
    missing = ana.post(f"/api/handoffs/{waiting['id']}/claim", csrf=False)
    assert missing.status_code == 403 and missing.json()["error"] == "csrf"
    assert ana.post("/api/auth/logout").status_code == 200
    assert ana.get("/api/handoffs").status_code == 401


def test_roles(app_client: TestClient) -> None:
    ana, jefa, admin = (Agent(app_client, n) for n in ("ana", "jefa", "admin"))
    assert ana.get("/api/admin/users").status_code == 403
    assert ana.get("/api/queue/stats").status_code == 403
    assert jefa.get("/api/queue/stats").json()["agents_online"] >= 2
    assert jefa.get("/api/admin/users").status_code == 403
    users = admin.get("/api/admin/users").json()
    assert {u["username"] for u in users} == {"ana", "beto", "jefa", "admin"}

    weak = admin.post("/api/admin/users", {"username": "carla", "password": "corta"})
    assert weak.status_code == 422 and "12 caracteres" in weak.json()["message"]
    created = admin.post(
        "/api/admin/users", {"username": "carla", "password": PASSWORD, "role": "agent"}
    )
    assert created.status_code == 201
    dup = admin.post("/api/admin/users", {"username": "carla", "password": PASSWORD})
    assert dup.status_code == 409
    hours = admin.put("/api/admin/office-hours", {"mon": "25:00-26:00"})
    assert hours.status_code == 422 and hours.json()["error"] == "invalid_hours"
    assert hours.json()["message"] == "Horario no válido: lunes: escribe las horas como HH:MM-HH:MM"
    hours = admin.put("/api/admin/office-hours", {"mon": "08:30-17:00", "tue": "08:30-17:00"})
    assert hours.json()["text"] == "lunes a martes de 08:30 a 17:00"
    audit = [e["action"] for e in jefa.get("/api/audit").json()]
    assert "user_created" in audit and "office_hours_changed" in audit


def test_wrong_passwords_lock_the_account(app_client: TestClient) -> None:
    def login(password: str) -> httpx.Response:
        return app_client.post("/api/auth/login", json={"username": "ana", "password": password})

    for _ in range(4):
        wrong = login("no-es-la-clave")
        assert (
            wrong.status_code == 401
            and wrong.json()["message"] == "Usuario o contraseña incorrectos."
        )
    locked = login("no-es-la-clave")
    assert locked.status_code == 423 and "bloqueada" in locked.json()["message"]
    assert int(locked.headers["Retry-After"]) > 0
    # Locked: even the right password waits.
    assert login(PASSWORD).status_code == 423
    # An unknown user is told the same as a wrong password.
    unknown = app_client.post("/api/auth/login", json={"username": "nadie", "password": PASSWORD})
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_credentials"


def test_logins_are_rate_limited_per_address(app_client: TestClient) -> None:
    codes = [
        app_client.post("/api/auth/login", json={"username": f"u{i}", "password": "x"}).status_code
        for i in range(12)
    ]
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]


def test_bad_input(app_client: TestClient) -> None:
    ana = Agent(app_client, "ana")
    say(app_client, "quiero hablar con un asesor")
    [waiting] = ana.get("/api/handoffs").json()
    assert ana.post(f"/api/handoffs/{waiting['id']}/claim").status_code == 200
    too_long = ana.post(f"/api/handoffs/{waiting['id']}/messages", {"text": "x" * 5000})
    assert too_long.status_code == 413 and "máximo 4096" in too_long.json()["message"]
    empty = ana.post(f"/api/handoffs/{waiting['id']}/messages", {"text": ""})
    assert empty.status_code == 422
    assert ana.post("/api/handoffs/99999/claim").status_code == 404
    bad = ana.post(f"/api/handoffs/{waiting['id']}/close", {"resolution": "inventada"})
    assert bad.status_code == 422 and bad.json()["message"] == "Elige cómo terminó la conversación."
    garbage = ana.http.post(
        f"/api/handoffs/{waiting['id']}/messages", content=b"{no json",
        headers={**ana.headers(), "Content-Type": "application/json"},
    )  # fmt: skip
    assert garbage.status_code == 400 and garbage.json()["error"] == "invalid_json"


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
