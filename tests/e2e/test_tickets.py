"""Tickets end to end through the real stack (Rasa, action server, gateway), on the web chat
and on WhatsApp (a local fake of the Graph API), with a fake SMTP server: a complaint taken in
the form → its code, deadline and next steps answered → its status asked by the code (another
citizen with the same code learns nothing) → an agent, signed in to the console's API, replies
→ the reply reaches the citizen's chat (the web chat's history, a Graph API call) and mailbox.

The form starts with the ``/solicitud_nueva`` payload and the status is asked with the code:
neither needs the NLU, so the test does not depend on the trained model knowing tickets."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from bot.ops.settings import ROOT
from bot.web.deps import CSRF_HEADER
from connectors.meta import sign
from tests.e2e.stack import Stack, stop
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.smtp import FakeSmtpServer

pytestmark = pytest.mark.e2e
SECRET = "e2e-app-secret"
PASSWORD = "clave-de-prueba-e2e-123"
CODE = re.compile(r"SR-\d{4}-\d{6}")


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[FakeGraphApi, FakeSmtpServer]]:
    graph, smtp = FakeGraphApi().start(), FakeSmtpServer().start()
    yield graph, smtp
    graph.stop()
    smtp.stop()


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, fakes: tuple[FakeGraphApi, FakeSmtpServer]
) -> Iterator[Stack]:
    graph, smtp = fakes
    stack = Stack.on_free_ports(
        tmp_path_factory.mktemp("tickets"),
        meta_app_secret=SECRET,
        whatsapp_verify_token="e2e-verify",
        whatsapp_access_token="e2e-wa-token",
        whatsapp_phone_number_id="PHONE",
        graph_api_url=graph.url,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="Asistente SUNAT <no-responder@sunat.test>",
        smtp_starttls=False,
    )
    children = stack.start_all()
    try:
        stack.wait_healthy()
        done = subprocess.run(
            [sys.executable, "-m", "bot", "create-user", "rosa", "--role", "agent",
             "--name", "Rosa", "--password-stdin"],
            input=PASSWORD + "\n", text=True, capture_output=True, cwd=ROOT,
            env={**stack.environ(), "DATABASE_URL": stack.settings.database_url}, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        yield stack
    finally:
        for child in children.values():
            stop(child)


class Console:
    """An agent's session through the console's REST API."""

    def __init__(self, stack: Stack) -> None:
        self.http = httpx.Client(base_url=stack.base_url, timeout=15)
        response = self.http.post(
            "/api/auth/login", json={"username": "rosa", "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        self.csrf = response.json()["csrf_token"]

    def close(self) -> None:
        self.http.close()

    def ticket(self, code: str) -> dict[str, Any]:
        [found] = self.http.get("/api/tickets", params={"code": code}).json()["tickets"]
        detail: dict[str, Any] = self.http.get(f"/api/tickets/{found['id']}").json()
        return detail

    def reply(self, ticket_id: int, text: str) -> dict[str, Any]:
        response = self.http.post(
            f"/api/tickets/{ticket_id}/replies",
            json={"text": text, "answered": True},
            headers={CSRF_HEADER: self.csrf},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def said(replies: list[dict[str, Any]]) -> str:
    return "\n".join(str(r.get("text") or "") for r in replies)


def test_a_complaint_on_the_web_chat(
    stack: Stack, fakes: tuple[FakeGraphApi, FakeSmtpServer]
) -> None:
    _, smtp = fakes
    sender = "tickets-web"
    kinds = stack.chat(sender, "/solicitud_nueva")
    assert [b["title"] for b in kinds[0]["buttons"]] == [
        "Queja", "Reclamo", "Sugerencia", "Información pública",
    ]  # fmt: skip
    assert "INDECOPI" in said(kinds)
    assert "qué pasó" in said(stack.chat(sender, "Queja"))
    long = stack.chat(sender, "Muy mal. " * 300)
    assert "el máximo es 2000" in said(long)
    stack.chat(sender, "En la oficina de Miraflores esperé tres horas y nadie me atendió.")
    stack.chat(sender, "Omitir")
    assert "• Contacto: vecina@correo.pe" in said(stack.chat(sender, "vecina@correo.pe"))
    done = said(stack.chat(sender, "Confirmar"))
    code = CODE.search(done)
    assert code is not None, done
    assert "30 días hábiles, DS 007-2020-PCM" in done and f"estado {code[0]}" in done

    status = said(stack.chat(sender, f"estado {code[0]}"))
    assert f"Tu solicitud {code[0]} (Queja) está: Recibida." in status
    stranger = said(stack.chat("tickets-otro", f"estado {code[0]}"))
    assert "No encontramos una solicitud" in stranger and "Recibida" not in stranger
    assert "no está completo" in said(stack.chat(sender, "estado SR-2026-12"))

    console = Console(stack)
    try:
        detail = console.ticket(code[0])
        answered = console.reply(detail["ticket"]["id"], "Lamentamos la espera; ya lo revisamos.")
    finally:
        console.close()
    assert "tres horas" in detail["ticket"]["description"] and not detail["ticket"]["overdue"]
    assert answered["notified"] == "chat" and answered["ticket"]["status"] == "respondido"
    history = [str(h["text"]) for h in stack.history(sender)]
    assert history[-1].startswith(f"Respuesta de SUNAT a tu solicitud {code[0]}")
    assert "ya lo revisamos" in history[-1]
    mails = [m for m in smtp.wait_for(2, timeout=20) if "ya lo revisamos" in m.body]
    assert mails and mails[0].recipients == ["vecina@correo.pe"]
    assert "Respondida" in said(stack.chat(sender, f"estado {code[0]}"))


def whatsapp(stack: Stack, sender: str, wamid: str, text: str) -> None:
    body = json.dumps({
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5101", "phone_number_id": "PHONE"},
            "contacts": [{"profile": {"name": "Rosa"}, "wa_id": sender}],
            "messages": [{"from": sender, "id": wamid, "timestamp": str(int(time.time())),
                          "type": "text", "text": {"body": text}}],
        }}]}],
    }).encode()  # fmt: skip
    response = httpx.post(
        f"{stack.base_url}/webhooks/whatsapp",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, SECRET)},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def shown(message: dict[str, Any]) -> str:
    if message["type"] == "text":
        return str(message["text"]["body"])
    return str(message["interactive"]["body"]["text"])


def answers(graph: FakeGraphApi, sender: str, count: int) -> list[str]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        sent = [shown(m) for m in graph.whatsapp_messages() if m.get("to") == sender]
        if len(sent) >= count:
            return sent
        time.sleep(0.05)
    raise AssertionError(f"{count} WhatsApp messages to {sender} expected, got {sent}")


def test_a_complaint_on_whatsapp(stack: Stack, fakes: tuple[FakeGraphApi, FakeSmtpServer]) -> None:
    graph, _ = fakes
    sender = "51987654321"
    steps = ["/solicitud_nueva", "Reclamo", "No me entregaron la constancia que pedí en agosto.",
             "20100070970", "Omitir"]  # fmt: skip
    for n, text in enumerate(steps, 1):
        whatsapp(stack, sender, f"wamid.t{n}", text)
        answers(graph, sender, n)
    sent = answers(graph, sender, len(steps))
    assert "INDECOPI" in sent[0] and "por este mismo chat" in sent[3]
    assert "• Documento: 20100070970" in sent[4]
    whatsapp(stack, sender, "wamid.t6", "Confirmar")
    summary_and_done = answers(graph, sender, 6)
    code = CODE.search(summary_and_done[5])
    assert code is not None, summary_and_done
    assert "30 días hábiles" in summary_and_done[5]

    whatsapp(stack, sender, "wamid.t7", f"estado {code[0]}")
    assert f"{code[0]} (Reclamo) está: Recibida" in answers(graph, sender, 7)[6]

    console = Console(stack)
    try:
        detail = console.ticket(code[0])
        answered = console.reply(detail["ticket"]["id"], "Su constancia ya está en su buzón SOL.")
    finally:
        console.close()
    assert detail["ticket"]["channel"] == "whatsapp" and detail["ticket"]["contact_email"] is None
    assert answered["notified"] == "chat"  # within WhatsApp's 24-hour window
    reply = answers(graph, sender, 8)[7]
    assert reply.startswith(f"Respuesta de SUNAT a tu solicitud {code[0]}")
    assert "buzón SOL" in reply


@pytest.mark.browser
def test_the_console_works_a_ticket(stack: Stack, browser: Browser) -> None:
    """«Solicitudes» in a real browser: the queue with its deadline, the ticket (the citizen's
    markup shown as text), a reply that marks it answered, and the citizen gets it."""
    sender = "tickets-browser"
    markup = "<b>Pésima</b> atención <script>alert(1)</script> en la sede."
    for text in ("/solicitud_nueva", "Sugerencia", markup, "Omitir", "987654321"):
        stack.chat(sender, text)
    code = CODE.search(said(stack.chat(sender, "Confirmar")))
    assert code is not None
    context = browser.new_context(viewport={"width": 1366, "height": 860}, locale="es-PE")
    context.set_default_timeout(15_000)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(stack.base_url + "/agent")
        form = page.get_by_test_id("login-form")
        form.get_by_label("Usuario").fill("rosa")
        form.get_by_label("Contraseña").fill(PASSWORD)
        form.get_by_role("button", name="Ingresar").click()
        page.get_by_test_id("tab-tickets").click()
        page.get_by_test_id("tickets-kind-sugerencia").click()
        item = page.get_by_test_id("tickets-item").filter(has_text=code[0])
        expect(item).to_contain_text("Plazo:")
        item.click()
        expect(page.get_by_test_id("ticket-title")).to_have_text(code[0])
        expect(page.get_by_test_id("ticket-description")).to_have_text(markup)
        expect(page.get_by_test_id("ticket").locator("b, script")).to_have_count(0)
        expect(page.get_by_test_id("ticket-deadline")).to_contain_text("no un plazo legal")
        page.get_by_test_id("ticket-reply-text").fill("Gracias, la pasamos al área de atención.")
        page.get_by_role("button", name="Enviar respuesta").click()
        expect(page.get_by_test_id("ticket-state")).to_have_text("Respondida")
        expect(page.get_by_test_id("ticket-assignee")).to_have_text("Rosa")
        expect(page.get_by_test_id("ticket-entry").last).to_contain_text("enviado por su canal")
        page.get_by_test_id("ticket-next-status").select_option("cerrado")
        page.get_by_role("button", name="Cambiar estado").click()
        expect(page.get_by_test_id("ticket-state")).to_have_text("Cerrada")
        expect(page.get_by_test_id("ticket-reply-form")).to_be_hidden()
    finally:
        context.close()
    assert errors == []
    history = [str(h["text"]) for h in stack.history(sender)]
    assert "la pasamos al área de atención" in history[-2]
    assert history[-1].endswith("ahora está «Cerrada».")
