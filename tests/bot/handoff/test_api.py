"""The console's REST API through the real app (engine answers given by the test): sessions,
CSRF, roles, login throttling and lockout, the handoff through the API, and bad input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.accounts.agents import Role
from bot.ops.settings import Settings
from tests.bot.handoff.console_app import (
    PASSWORD,
    Agent,
    Engine,
    console_app,
    login_as,
    say,
)
from tests.integrator import HEADERS


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
