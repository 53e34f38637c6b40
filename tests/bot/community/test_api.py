"""The events' administration through the real app: admins only; an event in the past (or
otherwise wrong) is a 422 in Spanish and nothing is stored; a change reaches the citizens
signed up; the attendee list as CSV that a spreadsheet cannot run; proposals counted per topic.
The citizens' side goes through the web chat, as on the real stack (the engine mocked)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.accounts.agents import Role
from bot.community.events import LIMA
from bot.ops.settings import Settings
from bot.web.app import create_app
from bot.web.deps import COOKIE, CSRF_HEADER
from tests.integrator import HEADERS

PASSWORD = "una-clave-larga-123"


class Engine:
    """Rasa on a mock transport: the events' article for "charlas", an echo otherwise; its
    NLU reads "igv" as the intent ``igv``."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        if request.url.path == "/model/parse":
            sure = "igv" in body["text"].lower()
            intent = {"name": "igv" if sure else "nlu_fallback", "confidence": 0.9 if sure else 0.3}
            return httpx.Response(200, json={"text": body["text"], "intent": intent})
        if "charlas" in body.get("message", ""):
            return httpx.Response(
                200, json=[{"text": "Charlas de SUNAT.", "custom": {"article": "eventos_charlas"}}]
            )
        return httpx.Response(200, json=[{"text": f"bot: {body.get('message')}"}])


class Staff:
    """A console session (its cookie and CSRF token sent by hand)."""

    def __init__(self, client: TestClient, username: str) -> None:
        self.http = client
        response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        self.headers = {"Cookie": f"{COOKIE}={response.cookies[COOKIE]}"}
        client.cookies.clear()
        self.csrf = response.json()["csrf_token"]

    def get(self, path: str) -> httpx.Response:
        response: httpx.Response = self.http.get(path, headers=self.headers)
        return response

    def send(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        response: httpx.Response = self.http.request(
            method, path, json=body or {}, headers={**self.headers, CSRF_HEADER: self.csrf}
        )
        return response


@pytest.fixture()
def app_client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, transport=httpx.MockTransport(Engine()))
    with TestClient(app) as client:
        for name, role in (("ana", Role.AGENT), ("jefa", Role.SUPERVISOR), ("admin", Role.ADMIN)):
            client.portal.call(  # type: ignore[union-attr]
                app.state.agents.create, name, PASSWORD, role, name.title(), None
            )
        yield client


@pytest.fixture()
def admin(app_client: TestClient) -> Staff:
    return Staff(app_client, "admin")


def lima(days: float = 3, hour: int = 18) -> dt.datetime:
    """A moment ``days`` from now at ``hour`` on Lima's clock, naive (as the console sends)."""
    moment = dt.datetime.now(LIMA) + dt.timedelta(days=days)
    return moment.replace(hour=hour, minute=30, second=0, microsecond=0, tzinfo=None)


def body(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": "Charla: emite tu boleta electrónica",
        "kind": "charla",
        "starts_at": lima().isoformat(),
        "place": "Centro de Servicios al Contribuyente, Av. Garcilaso de la Vega 1472, Lima",
        "capacity": 2,
        "registration_deadline": lima(2).isoformat(),
        "description": "Paso a paso, con ejemplos.",
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def say(client: TestClient, sender: str, text: str) -> list[dict[str, Any]]:
    response = client.post(
        "/webhooks/webchat", json={"sender": sender, "message": text}, headers=HEADERS
    )
    assert response.status_code == 200, response.text
    replies: list[dict[str, Any]] = response.json()
    return replies


def sign_up(client: TestClient, sender: str, event_id: int, name: str, contact: str) -> str:
    """The whole sign-up through the web chat; the last answer's text."""
    say(client, sender, f'/evento_inscribir{{"evento": {event_id}}}')
    say(client, sender, name)
    say(client, sender, contact)
    say(client, sender, "omitir")
    return str(say(client, sender, "confirmar")[-1]["text"])


def audit(client: TestClient) -> list[dict[str, Any]]:
    """The audit log, newest first."""
    log = client.app.state.audit  # type: ignore[attr-defined]

    async def read() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await log.entries()
        return found

    assert client.portal is not None
    return client.portal.call(read)


def history(client: TestClient, sender: str) -> list[str]:
    response = client.get("/webchat/history", params={"sender": sender}, headers=HEADERS)
    return [str(item.get("text")) for item in response.json()]


# --- who may call ------------------------------------------------------------------------------


def test_only_admins_manage_events(app_client: TestClient, admin: Staff) -> None:
    assert app_client.get("/api/events").status_code == 401
    created = admin.send("POST", "/api/events", body())
    assert created.status_code == 201, created.text
    event_id = created.json()["id"]
    for username in ("ana", "jefa"):
        staff = Staff(app_client, username)
        for method, path in (
            ("GET", "/api/events"), ("POST", "/api/events"), ("GET", "/api/events/proposals"),
            ("GET", f"/api/events/{event_id}"), ("PUT", f"/api/events/{event_id}"),
            ("POST", f"/api/events/{event_id}/cancel"),
            ("GET", f"/api/events/{event_id}/registrations"),
            ("GET", f"/api/events/{event_id}/attendees.csv"),
        ):  # fmt: skip
            answer = staff.get(path) if method == "GET" else staff.send(method, path, body())
            assert answer.status_code == 403, (username, method, path)
            assert answer.json()["error"] == "forbidden"
    # Without the CSRF token, a change is refused.
    refused = app_client.post("/api/events", json=body(), headers=admin.headers)
    assert refused.status_code == 403 and refused.json()["error"] == "csrf"


# --- creating and checking ---------------------------------------------------------------------


def test_an_event_is_created_in_lima_time_and_listed_with_its_places(
    app_client: TestClient, admin: Staff
) -> None:
    starts = lima()
    created = admin.send("POST", "/api/events", body(starts_at=starts.isoformat()))
    assert created.status_code == 201
    event = created.json()
    assert event["starts_at"] == starts.replace(tzinfo=LIMA).isoformat()  # 18:30 in Lima
    assert (event["capacity"], event["registered"], event["free"], event["state"]) == (
        2, 0, 2, "abierto",
    )  # fmt: skip
    [listed] = admin.get("/api/events").json()
    assert listed["id"] == event["id"]
    entry = audit(app_client)[0]  # the latest
    assert (entry["action"], entry["actor"]) == ("event_created", "admin")
    assert entry["detail"]["event_id"] == event["id"]


#: Wrong events: (what is changed, the error code).
WRONG: list[tuple[dict[str, Any], str]] = [
    ({"starts_at": lima(-1).isoformat(), "registration_deadline": lima(-2).isoformat()},
     "event_in_past"),
    ({"starts_at": "2020-01-01T10:00:00-05:00", "registration_deadline": None},
     "event_in_past"),
    ({"registration_deadline": lima(4).isoformat()}, "deadline_after_start"),
    ({"registration_deadline": lima(-1).isoformat()}, "deadline_in_past"),
    ({"ends_at": lima(3, hour=10).isoformat()}, "ends_before_start"),
    ({"place": "   "}, "place_missing"),
    ({"place": None, "online_url": "javascript:alert(1)"}, "url_invalid"),
    ({"place": None, "online_url": "https://[::1"}, "url_invalid"),
    ({"title": "   "}, "title_missing"),
    ({"capacity": 0}, "invalid_request"),
    ({"capacity": 100_001}, "invalid_request"),
    ({"capacity": 2**63}, "invalid_request"),
    ({"title": "x" * 161}, "invalid_request"),
    ({"kind": "fiesta"}, "invalid_request"),
    ({"starts_at": "mañana"}, "invalid_request"),
    ({"starts_at": "9999-12-31T23:59:00"}, "invalid_request"),
    ({"description": None}, "invalid_request"),
]  # fmt: skip


def test_a_wrong_event_is_refused_in_spanish_and_nothing_is_stored(admin: Staff) -> None:
    for changes, code in WRONG:
        answer = admin.send("POST", "/api/events", body(**changes))
        assert answer.status_code == 422, (changes, answer.text)
        assert answer.json()["error"] == code, changes
        assert answer.json()["message"]  # in Spanish: the gateway's own or the check's
    assert admin.get("/api/events?past=true").json() == []


def test_a_past_event_gets_a_spanish_message(admin: Staff) -> None:
    answer = admin.send(
        "POST", "/api/events",
        body(starts_at=lima(-1).isoformat(), registration_deadline=lima(-2).isoformat()),
    )  # fmt: skip
    assert answer.json()["message"] == (
        "La fecha y hora del evento ya pasaron: elige una fecha y hora futuras."
    )
    assert {p["field"] for p in answer.json()["problems"]} == {"starts_at", "registration_deadline"}


def test_ids_in_paths_are_bounded_and_unknown_ones_are_404(admin: Staff) -> None:
    for path in ("/api/events/0", "/api/events/-3", f"/api/events/{2**64}", "/api/events/x"):
        assert admin.get(path).status_code == 422, path
    assert admin.get("/api/events/424242").status_code == 404
    assert admin.get("/api/events/424242/attendees.csv").status_code == 404
    assert admin.send("POST", "/api/events/424242/cancel").status_code == 404
    assert admin.send("PUT", "/api/events/424242", body()).status_code == 404


# --- citizens, changes, the attendee list -----------------------------------------------------


def test_citizens_sign_up_in_the_chat_and_admins_get_the_attendee_list(
    app_client: TestClient, admin: Staff
) -> None:
    event_id = admin.send("POST", "/api/events", body()).json()["id"]
    listing = say(app_client, "vecina", "¿hay charlas este mes?")
    assert listing[-1]["buttons"][0]["payload"] == f'/evento_inscribir{{"evento": {event_id}}}'
    assert "está confirmado" in sign_up(
        app_client, "c1", event_id, '=HYPERLINK("http://x")', "a@b.pe"
    )
    assert "está confirmado" in sign_up(app_client, "c2", event_id, "José Ñahui", "987654321")
    assert "ya está lleno" in sign_up(app_client, "c3", event_id, "Rosa Mamani", "rosa@b.pe")
    say(app_client, "c3", "Sí, lista de espera")

    detail = admin.get(f"/api/events/{event_id}").json()
    assert (detail["registered"], detail["waiting"], detail["free"]) == (2, 1, 0)
    people = admin.get(f"/api/events/{event_id}/registrations").json()
    assert [(p["name"], p["status"]) for p in people] == [
        ('=HYPERLINK("http://x")', "inscrito"), ("José Ñahui", "inscrito"),
        ("Rosa Mamani", "en_espera"),
    ]  # fmt: skip

    answer = admin.get(f"/api/events/{event_id}/attendees.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert f"evento-{event_id}-asistentes.csv" in answer.headers["content-disposition"]
    assert answer.content.startswith(b"\xef\xbb\xbf")  # Excel reads the accents right
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["N.º", "Estado", "Nombre", "Contacto"]
    assert [r[1:4] for r in rows[1:]] == [
        ["Inscrito", '\'=HYPERLINK("http://x")', "a@b.pe"],
        ["Inscrito", "José Ñahui", "987654321"],
        ["En lista de espera", "Rosa Mamani", "rosa@b.pe"],
    ]


def test_a_change_reaches_the_citizens_and_capacity_cannot_drop_below_the_places_taken(
    app_client: TestClient, admin: Staff
) -> None:
    event_id = admin.send("POST", "/api/events", body(capacity=1)).json()["id"]
    sign_up(app_client, "c1", event_id, "Ana Quispe", "ana@b.pe")
    sign_up(app_client, "c2", event_id, "Beto Flores", "beto@b.pe")
    say(app_client, "c2", "lista de espera")

    lower = admin.send("PUT", f"/api/events/{event_id}", body(capacity=1, place="Otro lugar"))
    assert lower.status_code == 200  # the same capacity: fine
    assert "Otro lugar" in history(app_client, "c1")[-1]  # told of the new place
    assert "Otro lugar" in history(app_client, "c2")[-1]  # waiting: told too

    larger = admin.send("PUT", f"/api/events/{event_id}", body(capacity=2, place="Otro lugar"))
    assert larger.json()["registered"] == 2
    assert "Se liberó un lugar" in history(app_client, "c2")[-1]

    smaller = admin.send("PUT", f"/api/events/{event_id}", body(capacity=1, place="Otro lugar"))
    assert smaller.status_code == 422 and smaller.json()["error"] == "capacity_below_registered"
    assert admin.get(f"/api/events/{event_id}").json()["capacity"] == 2

    cancelled = admin.send("POST", f"/api/events/{event_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelado"
    assert "fue cancelado" in history(app_client, "c1")[-1]
    again = admin.send("POST", f"/api/events/{event_id}/cancel")
    assert again.status_code == 409 and again.json()["error"] == "event_cancelled"
    edit = admin.send("PUT", f"/api/events/{event_id}", body())
    assert edit.status_code == 409
    actions = [e["action"] for e in audit(app_client)]
    assert actions[:4] == ["event_cancelled", "event_changed", "event_changed", "event_created"]


def test_proposals_are_counted_per_topic_for_the_admins(
    app_client: TestClient, admin: Staff
) -> None:
    for sender, topic in (("p1", "el IGV"), ("p2", "Cómo pagar el IGV"), ("p3", "Régimen MYPE"),
                          ("p4", "regimen mype!")):  # fmt: skip
        say(app_client, sender, "/evento_proponer")
        assert "Anotamos tu propuesta" in say(app_client, sender, topic)[-1]["text"]
    counted = admin.get("/api/events/proposals").json()
    assert [(t["topic"], t["count"], t["recognised"]) for t in counted] == [
        ("regimen mype", 2, False),
        ("igv", 2, True),
    ] or [(t["topic"], t["count"]) for t in counted] == [("igv", 2), ("regimen mype", 2)]
    igv = next(t for t in counted if t["topic"] == "igv")
    assert igv["label"] != "igv"  # the article's title
    assert set(igv["examples"]) == {"el IGV", "Cómo pagar el IGV"}
