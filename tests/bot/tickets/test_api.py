"""The tickets through the real app: a complaint registered on the web chat, worked in the
console's API (list with deadlines, detail, assign, note, reply, status), every reply and
status change in the citizen's chat and mailbox (a fake SMTP server); who may do what; bad
input answered with the right status and a Spanish message; the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.accounts.agents import Role
from bot.ops.settings import Settings
from bot.tickets.codes import CODE
from bot.web.app import create_app
from tests.bot.handoff.console_app import PASSWORD, Agent, Engine, say
from tests.fakes.smtp import FakeSmtpServer
from tests.integrator import HEADERS


@pytest.fixture()
def app_client(settings: Settings, smtp: FakeSmtpServer) -> Iterator[TestClient]:
    settings = settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_starttls": False,
        "smtp_from": "Asistente SUNAT <no-responder@sunat.test>",
    })  # fmt: skip
    app = create_app(settings, transport=httpx.MockTransport(Engine()))
    with TestClient(app) as client:
        for name, role in (("ana", Role.AGENT), ("beto", Role.AGENT),
                           ("jefa", Role.SUPERVISOR)):  # fmt: skip
            client.portal.call(  # type: ignore[union-attr]
                app.state.agents.create, name, PASSWORD, role, name.title(), None
            )
        yield client


def register(client: TestClient, sender: str, contact: str = "ana@correo.pe") -> str:
    """A complaint through the web chat, as a citizen fills the form; its code."""
    for answer in ("/solicitud_nueva", "Queja", "Me atendieron muy mal en la ventanilla 3.",
                   "Omitir", contact):  # fmt: skip
        say(client, answer, sender)
    [done] = say(client, "Confirmar", sender)
    code = str(done["text"]).split("código ")[1].split(".")[0]
    assert CODE.match(code), done
    return code


def texts(client: TestClient, sender: str) -> list[str]:
    history = client.get("/webchat/history", params={"sender": sender}, headers=HEADERS).json()
    return [str(h["text"]) for h in history]


def ticket_id(agent: Agent, code: str) -> int:
    [found] = agent.get(f"/api/tickets?code={code}").json()["tickets"]
    return int(found["id"])


def test_a_complaint_from_the_web_chat_to_the_console_and_back(
    app_client: TestClient, smtp: FakeSmtpServer
) -> None:
    code = register(app_client, "vecina")
    ana = Agent(app_client, "ana")
    listed = ana.get("/api/tickets?kind=queja&status=recibido").json()
    [item] = listed["tickets"]
    assert (item["code"], item["kind_label"], item["status"], item["overdue"]) == (
        code, "Queja", "recibido", False,
    )  # fmt: skip
    assert listed["counts"]["queja"] == {"overdue": 0, "recibido": 1}
    assert next(k["name"] for k in listed["kinds"]) == "queja"
    detail = ana.get(f"/api/tickets/{item['id']}").json()
    assert detail["ticket"]["description"] == "Me atendieron muy mal en la ventanilla 3."
    assert detail["ticket"]["contact_email"] == "ana@correo.pe"
    assert "DS 007-2020-PCM" in detail["ticket"]["deadline"]
    assert detail["ticket"]["next_statuses"] == ["en_proceso", "respondido", "cerrado"]
    assert [(e["kind"], e["status"]) for e in detail["entries"]] == [("status", "recibido")]
    smtp.wait_for(1)  # the registration, e-mailed too

    noted = ana.post(f"/api/tickets/{item['id']}/notes", {"text": "Revisar cámaras."})
    assert noted.status_code == 200
    replied = ana.post(f"/api/tickets/{item['id']}/replies",
                       {"text": "Lamentamos lo ocurrido; hablamos con el equipo.",
                        "answered": True})  # fmt: skip
    assert replied.status_code == 200, replied.text
    body = replied.json()
    assert body["notified"] == "chat" and body["ticket"]["status"] == "respondido"
    assert body["ticket"]["assigned_name"] == "Ana"  # acting on it made it hers
    shown = texts(app_client, "vecina")[-1]
    assert shown.startswith(f"Respuesta de SUNAT a tu solicitud {code} (Queja):")
    assert "hablamos con el equipo" in shown and "quedó como «Respondida»" in shown
    mails = smtp.wait_for(2)
    assert mails[1].recipients == ["ana@correo.pe"] and "hablamos con el equipo" in mails[1].body

    closed = ana.post(f"/api/tickets/{item['id']}/status", {"status": "cerrado"})
    assert closed.status_code == 200 and closed.json()["ticket"]["next_statuses"] == []
    assert texts(app_client, "vecina")[-1] == (
        f"Novedad en tu solicitud {code} (Queja): ahora está «Cerrada»."
    )
    entries = ana.get(f"/api/tickets/{item['id']}").json()["entries"]
    assert [e["kind"] for e in entries] == ["status", "note", "assign", "reply", "status"]
    assert entries[1]["notified"] is None  # a note is never shown to the citizen
    assert smtp.wait_for(3)[2].subject == f"SUNAT – Tu solicitud {code}"
    # The citizen asks by the code; another citizen with the same code learns nothing.
    [status] = say(app_client, f"estado {code}", "vecina")
    assert "está: Cerrada" in status["text"] and "hablamos con el equipo" in status["text"]
    [other] = say(app_client, f"estado {code}", "otra")
    assert "No encontramos una solicitud" in other["text"]

    late = ana.post(f"/api/tickets/{item['id']}/replies", {"text": "¿Algo más?"})
    assert late.status_code == 409 and late.json()["error"] == "closed"
    audit = Agent(app_client, "jefa").get("/api/audit").json()
    actions = [a["action"] for a in audit]
    assert {"ticket_registered", "ticket_note", "ticket_reply", "ticket_status"} <= set(actions)
    assert all("Lamentamos" not in str(a["detail"]) for a in audit)  # codes, never contents


def test_who_may_do_what(app_client: TestClient) -> None:
    code = register(app_client, "c1", "987654321")
    ana, beto, jefa = (Agent(app_client, n) for n in ("ana", "beto", "jefa"))
    tid = ticket_id(ana, code)
    assert app_client.get("/api/tickets").status_code == 401
    assert ana.post(f"/api/tickets/{tid}/notes", {"text": "x"}, csrf=False).status_code == 403
    given = ana.post(f"/api/tickets/{tid}/assign", {"agent_id": beto.id})
    assert given.status_code == 403  # a free ticket: agents take it for themselves only
    assert ana.post(f"/api/tickets/{tid}/assign", {"agent_id": ana.id}).status_code == 200
    assert ana.get("/api/tickets?assigned=me").json()["tickets"][0]["code"] == code
    assert beto.get("/api/tickets?assigned=me").json()["tickets"] == []
    refused = beto.post(f"/api/tickets/{tid}/status", {"status": "en_proceso"})
    assert refused.status_code == 403 and "la atiende Ana" in refused.json()["message"]
    assert beto.post(f"/api/tickets/{tid}/assign", {"agent_id": beto.id}).status_code == 403
    assert beto.post(f"/api/tickets/{tid}/notes", {"text": "visto"}).status_code == 200
    moved = jefa.post(f"/api/tickets/{tid}/assign", {"agent_id": beto.id})
    assert moved.status_code == 200 and moved.json()["ticket"]["assigned_name"] == "Beto"
    assert beto.post(f"/api/tickets/{tid}/status", {"status": "en_proceso"}).status_code == 200
    assert ana.post(f"/api/tickets/{tid}/assign", {"agent_id": None}).status_code == 403
    assert beto.post(f"/api/tickets/{tid}/assign", {"agent_id": None}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("GET", "/api/tickets/0", None, 422, "invalid_request"),
        ("GET", "/api/tickets/2147483648", None, 422, "invalid_request"),
        ("GET", "/api/tickets/999", None, 404, "not_found"),
        ("GET", "/api/tickets?kind=denuncia", None, 422, "unknown_kind"),
        ("GET", "/api/tickets?status=abierto", None, 422, "invalid_request"),
        ("GET", "/api/tickets?limit=0", None, 422, "invalid_request"),
        ("POST", "/api/tickets/{id}/status", {"status": "abierto"}, 422, "invalid_request"),
        ("POST", "/api/tickets/{id}/status", {"status": "recibido"}, 409, "same_status"),
        ("POST", "/api/tickets/{id}/status", {"status": "respondido"}, 409, "no_reply"),
        ("POST", "/api/tickets/{id}/replies", {"text": ""}, 422, "invalid_request"),
        ("POST", "/api/tickets/{id}/replies", {"text": "x" * 4001}, 422, "invalid_request"),
        ("POST", "/api/tickets/{id}/notes", {"texto": "x"}, 422, "invalid_request"),
        ("POST", "/api/tickets/{id}/assign", {"agent_id": 0}, 422, "invalid_request"),
        ("POST", "/api/tickets/{id}/assign", {"agent_id": 2**31}, 422, "invalid_request"),
        ("POST", "/api/tickets/{id}/assign", {"agent_id": 999}, 422, "unknown_agent"),
        ("POST", "/api/tickets/999/notes", {"text": "x"}, 404, "not_found"),
    ],
)
def test_bad_requests(
    app_client: TestClient,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
    error: str,
) -> None:
    jefa = Agent(app_client, "jefa")
    tid = ticket_id(jefa, register(app_client, "c2"))
    path = path.format(id=tid)
    answer = jefa.get(path) if method == "GET" else jefa.post(path, body)
    assert (answer.status_code, answer.json()["error"]) == (status, error), answer.text
    assert answer.json()["message"]  # in Spanish, for the console
    entries = jefa.get(f"/api/tickets/{tid}").json()["entries"]
    assert len(entries) == 1  # nothing recorded


def test_illegal_transitions_are_409(app_client: TestClient) -> None:
    jefa = Agent(app_client, "jefa")
    tid = ticket_id(jefa, register(app_client, "c3"))
    assert jefa.post(f"/api/tickets/{tid}/status", {"status": "cerrado"}).status_code == 200
    again = jefa.post(f"/api/tickets/{tid}/status", {"status": "en_proceso"})
    assert again.status_code == 409 and again.json() == {
        "error": "transition",
        "message": "Una solicitud «Cerrada» no puede pasar a «En proceso».",
    }
