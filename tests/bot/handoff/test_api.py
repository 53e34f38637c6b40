"""The console's REST API through the real app (engine answers given by the test): sessions,
CSRF, roles, login throttling and lockout, the handoff through the API, and bad input."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from bot.accounts.agents import Role
from bot.handoff.api import COOKIE, CSRF_HEADER
from bot.ops.settings import Settings
from bot.web.app import create_app
from tests.integrator import HEADERS

PASSWORD = "una-clave-larga-123"
EVENTS = "/api/console/events"


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
def handoff_limit() -> str:
    """LIMIT_HANDOFFS_PER_CONVERSATION of ``app_client`` (a test may parametrize it)."""
    return "3/hour"


@pytest.fixture()
def app_client(settings: Settings, engine: Engine, handoff_limit: str) -> Iterator[TestClient]:
    settings = settings.model_copy(update={"limit_handoffs_per_conversation": handoff_limit})
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
        self.id: int = response.json()["agent"]["id"]

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

    def patch(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.patch(path, json=body, headers=self.headers())

    def events(self) -> Any:
        """The console's WebSocket with this session's cookie (a context manager)."""
        return self.http.websocket_connect(EVENTS, headers=self.headers(False))

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path, headers=self.headers(False))


def closing_code(socket: WebSocketTestSession, within: float = 5.0) -> int:
    """The code the server closes the socket with, within ``within`` seconds (the events
    before it are skipped); fails when it stays open."""
    codes: list[int] = []

    def wait() -> None:
        try:
            while True:
                socket.receive_json()
        except WebSocketDisconnect as closed:
            codes.append(closed.code)

    waiting = threading.Thread(target=wait, daemon=True)
    waiting.start()
    waiting.join(within)
    assert codes, f"the socket stayed open for {within} s"
    return codes[0]


def say(client: TestClient, text: str, sender: str = "ciudadano") -> list[dict[str, Any]]:
    response = client.post(
        "/webhooks/webchat", json={"sender": sender, "message": text}, headers=HEADERS
    )
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
    history = app_client.get(
        "/webchat/history", params={"sender": "ciudadano"}, headers=HEADERS
    ).json()
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


def login_as(
    client: TestClient, username: str, password: str, forwarded: str | None = None
) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post(
        "/api/auth/login", json={"username": username, "password": password}, headers=headers
    )


def console_app(settings: Settings, engine: Engine, peer: str, **limits: Any) -> TestClient:
    """The app with its limits changed, called from ``peer``."""
    app = create_app(settings.model_copy(update=limits), transport=httpx.MockTransport(engine))
    return TestClient(app, client=(peer, 50000))


def test_logins_are_limited_per_address(settings: Settings, engine: Engine) -> None:
    with console_app(settings, engine, "198.51.100.7", limit_logins_per_address="3/minute") as c:
        codes = [login_as(c, f"u{i}", "x").status_code for i in range(4)]
        assert codes == [401, 401, 401, 429]
        refused = login_as(c, "otro", "x")
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert refused.json()["error"] == "rate_limited"
        assert "Demasiados intentos de inicio de sesión" in refused.json()["message"]


def test_logins_are_limited_per_account_before_the_password_is_checked(
    settings: Settings, engine: Engine
) -> None:
    with console_app(settings, engine, "198.51.100.7", limit_logins_per_account="3/minute") as c:
        ana = c.portal.call(  # type: ignore[union-attr]
            c.app.state.desk.agents.create,
            "ana",
            PASSWORD,
            Role.AGENT,  # type: ignore[attr-defined]
        )
        assert [login_as(c, "ana", "no-es-la-clave").status_code for _ in range(3)] == [401] * 3
        # Over the account's limit even the right password is not checked, and the refused
        # attempts do not count as wrong passwords (the account is not locked by them).
        assert login_as(c, "ANA ", PASSWORD).status_code == 429
        for _ in range(3):
            assert login_as(c, "ana", "no-es-la-clave").status_code == 429
        failed = c.portal.call(c.app.state.desk.agents.failed_logins, ana.id)  # type: ignore[union-attr,attr-defined]
        assert failed == (3, None)
        # Other accounts are not held back.
        assert login_as(c, "beto", "x").status_code == 401


def test_the_forwarded_address_counts_only_through_a_trusted_proxy(
    settings: Settings, engine: Engine
) -> None:
    limits: dict[str, Any] = {
        "limit_logins_per_address": "2/minute",
        "trusted_proxies": ["10.0.0.0/8"],
    }
    with console_app(settings, engine, "10.0.0.2", **limits) as proxy:
        first = [login_as(proxy, "x", "y", "203.0.113.5").status_code for _ in range(3)]
        assert first == [401, 401, 429]
        # Another citizen behind the same proxy has their own count.
        assert login_as(proxy, "x", "y", "203.0.113.6").status_code == 401
        # A client cannot pick its address by writing the header itself: the proxy appends.
        assert login_as(proxy, "x", "y", "203.0.113.6, 203.0.113.5").status_code == 429
    with console_app(settings, engine, "198.51.100.7", **limits) as direct:
        forged = [login_as(direct, "x", "y", f"203.0.113.{i}").status_code for i in range(3)]
        assert forged == [401, 401, 429]  # not a proxy: its header is ignored


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
    # Past the databases' 64-bit ids: refused as input, never a database error.
    for path in ("/api/handoffs/9223372036854775808/notes", "/api/handoffs/0/messages"):
        assert ana.post(path, {"text": "x"}).status_code == 422
    huge = ana.post(f"/api/handoffs/{waiting['id']}/transfer", {"agent_id": 2**63})
    assert huge.status_code == 422 and huge.json()["error"] == "invalid_request"
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


def test_who_sees_what(app_client: TestClient) -> None:
    """Agents see the chats they hold and those they held at close, each only from its own
    stretch of the conversation; supervisors and admins see everything."""
    ana, beto, jefa, admin = (Agent(app_client, n) for n in ("ana", "beto", "jefa", "admin"))

    # First chat: Ana's, closed. The citizen then asks again and Beto takes it.
    say(app_client, "quiero hablar con un asesor", "rosa")
    first = ana.get("/api/handoffs").json()[0]["id"]
    assert ana.post(f"/api/handoffs/{first}/claim").status_code == 200
    say(app_client, "mi secreto para Ana", "rosa")
    assert ana.post(f"/api/handoffs/{first}/close", {"resolution": "resuelto"}).status_code == 200
    say(app_client, "otra duda", "rosa")
    say(app_client, "otra vez un asesor por favor", "rosa")
    [second] = [h["id"] for h in beto.get("/api/handoffs").json()]
    assert beto.post(f"/api/handoffs/{second}/claim").status_code == 200
    say(app_client, "mi secreto para Beto", "rosa")
    # Another citizen: Ana takes the chat and hands it to her team; Beto takes it.
    say(app_client, "quiero hablar con un asesor", "luis")
    [third] = [h["id"] for h in ana.get("/api/handoffs").json()]
    assert ana.post(f"/api/handoffs/{third}/claim").status_code == 200
    moved = ana.post(f"/api/handoffs/{third}/transfer", {"team": "orientacion"})
    assert moved.status_code == 200
    assert beto.post(f"/api/handoffs/{third}/claim").status_code == 200

    def listed(agent: Agent, state: str = "") -> set[int]:
        return {h["id"] for h in agent.get(f"/api/handoffs{state}").json()}

    def said(agent: Agent, handoff: int) -> list[str]:
        return [t["text"] for t in agent.get(f"/api/handoffs/{handoff}").json()["transcript"]]

    # The list.
    assert listed(ana) == set() and listed(ana, "?state=closed") == {first}
    assert listed(beto) == {second, third} and listed(beto, "?state=closed") == set()
    for boss in (jefa, admin):
        assert listed(boss) == {second, third} and listed(boss, "?state=closed") == {first}

    # The transcript: the holder's stretch only.
    assert ana.get(f"/api/handoffs/{first}").status_code == 200
    assert "mi secreto para Ana" in said(ana, first)
    assert not {"otra duda", "mi secreto para Beto"} & set(said(ana, first))
    assert "mi secreto para Beto" in said(beto, second) and "otra duda" in said(beto, second)
    assert "mi secreto para Ana" not in said(beto, second)
    for handoff in (second, third):  # Ana held the third once; it is Beto's now
        assert ana.get(f"/api/handoffs/{handoff}").status_code == 404
    assert beto.get(f"/api/handoffs/{first}").status_code == 404
    for boss in (jefa, admin):
        assert "mi secreto para Ana" in said(boss, first)
        assert "mi secreto para Beto" in said(boss, second)

    # Replies and notes.
    assert ana.post(f"/api/handoffs/{first}/messages", {"text": "hola"}).status_code == 409
    for handoff in (second, third):
        assert ana.post(f"/api/handoffs/{handoff}/messages", {"text": "x"}).status_code == 404
        assert ana.post(f"/api/handoffs/{handoff}/notes", {"text": "x"}).status_code == 404
    assert beto.post(f"/api/handoffs/{first}/notes", {"text": "x"}).status_code == 404
    assert beto.post(f"/api/handoffs/{second}/notes", {"text": "pide cita"}).status_code == 200
    assert beto.post(f"/api/handoffs/{second}/messages", {"text": "hola"}).status_code == 200
    for boss in (jefa, admin):
        assert boss.post(f"/api/handoffs/{second}/notes", {"text": "visto"}).status_code == 200
    for reader in (beto, jefa, admin):
        notes = reader.get(f"/api/handoffs/{second}").json()["notes"]
        assert [n["text"] for n in notes] == ["pide cita", "visto", "visto"]

    # Callback requests: supervisors and admins only.
    for agent in (ana, beto):
        assert agent.get("/api/callbacks").status_code == 403
    for boss in (jefa, admin):
        assert boss.get("/api/callbacks").status_code == 200


@pytest.mark.parametrize("handoff_limit", ["2/hour"])
def test_asking_for_a_person_too_often_is_answered_in_the_chat(
    app_client: TestClient, engine: Engine
) -> None:
    ana = Agent(app_client, "ana")
    for _ in range(2):  # LIMIT_HANDOFFS_PER_CONVERSATION=2/hour
        assert "puesto 1" in say(app_client, "quiero hablar con un asesor")[0]["text"]
        say(app_client, "/seguir_con_asistente")
    [refused] = say(app_client, "quiero hablar con un asesor")
    assert "Ya pediste hablar con un asesor varias veces" in refused["text"]
    assert "una hora" in refused["text"] or "minutos" in refused["text"]
    assert ana.get("/api/handoffs").json() == []  # nothing queued
    assert say(app_client, "que es el ruc")[0]["text"] == "bot: que es el ruc"
