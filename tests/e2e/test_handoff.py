"""Human handoff end to end through the real stack (Rasa, action server, gateway), on the web
chat and on Messenger (a local fake of the Graph API): the citizen asks for a person → queued →
an agent claims it through the API → the agent's reply reaches the citizen's channel → the
citizen's messages meanwhile never reach Rasa and no bot answer is sent → close → the bot
answers again. The state survives a restart of the gateway."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.knowledge.articles import load_knowledge
from bot.ops.settings import ROOT
from bot.web.deps import CSRF_HEADER
from connectors.meta import sign
from tests.e2e.stack import TOKEN, Stack, stop
from tests.fakes.graph_api import FakeGraphApi

pytestmark = pytest.mark.e2e
KB = load_knowledge(ROOT / "data" / "knowledge")
SECRET = "e2e-app-secret"
PASSWORD = "clave-de-prueba-e2e-123"


def create_user(stack: Stack, username: str, role: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "create-user", username, "--role", role,
         "--name", username.title(), "--password-stdin"],
        input=PASSWORD + "\n", text=True, capture_output=True, cwd=ROOT,
        env={**stack.environ(), "DATABASE_URL": stack.settings.database_url}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


class Console:
    """An agent's session through the console's REST API."""

    def __init__(self, stack: Stack, username: str) -> None:
        self.http = httpx.Client(base_url=stack.base_url, timeout=15)
        response = self.http.post(
            "/api/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        self.csrf = response.json()["csrf_token"]

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(path, json=body or {}, headers={CSRF_HEADER: self.csrf})

    def close(self) -> None:
        self.http.close()

    def queue(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.http.get("/api/handoffs").json()
        return found


def rasa_user_events(stack: Stack, sender: str) -> list[dict[str, Any]]:
    tracker = httpx.get(
        f"{stack.settings.rasa_url}/conversations/{sender}/tracker",
        params={"token": TOKEN}, timeout=10,
    ).json()  # fmt: skip
    return [e for e in tracker["events"] if e["event"] == "user"]


@pytest.fixture(scope="module")
def graph_module() -> Iterator[FakeGraphApi]:
    fake = FakeGraphApi().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def desk_stack(
    tmp_path_factory: pytest.TempPathFactory, graph_module: FakeGraphApi
) -> Iterator[tuple[Stack, dict[str, Any]]]:
    stack = Stack.on_free_ports(
        tmp_path_factory.mktemp("handoff"),
        meta_app_secret=SECRET,
        messenger_verify_token="e2e-verify",
        messenger_page_access_token="e2e-page-token",
        graph_api_url=graph_module.url,
    )
    children = stack.start_all()
    try:
        stack.wait_healthy()
        create_user(stack, "ana", "agent")
        create_user(stack, "jefa", "supervisor")
        yield stack, children
    finally:
        for child in children.values():
            stop(child)


def test_web_chat_handoff(desk_stack: tuple[Stack, dict[str, Any]]) -> None:
    stack, _ = desk_stack
    ana = Console(stack, "ana")  # logged in: online
    sender = "handoff-web"
    [queued] = stack.chat(sender, "quiero hablar con un asesor")
    assert "puesto 1 de la fila" in str(queued["text"])
    [waiting] = [h for h in ana.queue() if h["state"] == "pending" and h["channel"] == "webchat"]
    assert waiting["intent"] == "pedir_humano" and waiting["confidence"] > 0.5
    assert ana.post(f"/api/handoffs/{waiting['id']}/claim").status_code == 200

    before = len(rasa_user_events(stack, f"webchat:{sender}"))
    assert stack.chat(sender, "tengo una deuda y no se que hacer") == []  # the bot stays silent
    assert ana.post(f"/api/handoffs/{waiting['id']}/messages", {"text": "Hola, soy Ana"}).is_success
    history = stack.history(sender)
    assert [h["text"] for h in history[-3:]] == [
        "Ana te atiende desde ahora.", "tengo una deuda y no se que hacer", "Hola, soy Ana",
    ]  # fmt: skip
    # Rasa's tracker holds the message without having interpreted it.
    deadline = time.monotonic() + 10
    while len(events := rasa_user_events(stack, f"webchat:{sender}")) == before:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert events[-1]["text"] == "tengo una deuda y no se que hacer"
    assert events[-1]["parse_data"]["intent"]["name"] == "handoff_message"

    closed = ana.post(f"/api/handoffs/{waiting['id']}/close", {"resolution": "informado"})
    assert closed.json()["state"] == "closed"
    answer = stack.chat(sender, "que es el ruc")
    assert answer[0]["text"] == KB.require("ruc_que_es").answer
    ana.close()


def test_messenger_handoff_survives_a_restart(
    desk_stack: tuple[Stack, dict[str, Any]], graph_module: FakeGraphApi
) -> None:
    stack, children = desk_stack
    graph = graph_module
    ana = Console(stack, "ana")
    psid = "psid-handoff"
    mids = iter(range(1, 100))

    def citizen(text: str) -> None:
        body = json.dumps({"object": "page", "entry": [{"id": "PAGE", "time": 1, "messaging": [
            {"sender": {"id": psid}, "recipient": {"id": "PAGE"}, "timestamp": 1,
             "message": {"mid": f"m_handoff_{next(mids)}", "text": text}}]}]}).encode()  # fmt: skip
        response = httpx.post(
            f"{stack.base_url}/webhooks/messenger", content=body, timeout=10,
            headers={"Content-Type": "application/json",
                     "X-Hub-Signature-256": sign(body, SECRET)},
        )  # fmt: skip
        assert response.status_code == 200

    def texts_to_citizen(count: int) -> list[str]:
        sent = [m for m in graph.wait_for_messages(count) if m["recipient"] == {"id": psid}]
        shown = []
        for m in sent:
            message = m["message"]
            shown.append(message.get("text") or message["attachment"]["payload"]["text"])
        return shown

    already = len(graph.messages())
    citizen("quiero hablar con un asesor")
    assert "puesto 1 de la fila" in texts_to_citizen(already + 1)[-1]
    [waiting] = [h for h in ana.queue() if h["channel"] == "messenger"]

    # The gateway restarts while the chat waits: it is still waiting afterwards.
    stop(children["gateway"])
    children["gateway"] = stack.start_gateway()
    stack.wait_healthy()
    ana.close()
    ana = Console(stack, "ana")
    assert [h["id"] for h in ana.queue() if h["channel"] == "messenger"] == [waiting["id"]]

    assert ana.post(f"/api/handoffs/{waiting['id']}/claim").status_code == 200
    assert texts_to_citizen(already + 2)[-1] == "Ana te atiende desde ahora."
    citizen("hola, tengo una multa")
    ana.post(f"/api/handoffs/{waiting['id']}/messages", {"text": "Hola, soy Ana, te ayudo."})
    assert texts_to_citizen(already + 3)[-1] == "Hola, soy Ana, te ayudo."
    time.sleep(1.0)
    assert len(graph.messages()) == already + 3  # no bot answer to the citizen's message
    detail = ana.http.get(f"/api/handoffs/{waiting['id']}").json()
    assert "hola, tengo una multa" in [t["text"] for t in detail["transcript"]]

    ana.post(f"/api/handoffs/{waiting['id']}/close", {"resolution": "resuelto"})
    closing = texts_to_citizen(already + 5)
    assert "finalizó la conversación" in closing[-2]
    # Then the satisfaction survey, once (bot/satisfaction); a question instead of a rating
    # goes to the assistant.
    assert closing[-1] == KB.require("satisfaccion").render("pregunta_handoff")
    citizen("que es el ruc")
    assert texts_to_citizen(already + 6)[-1] == KB.require("ruc_que_es").answer
    ana.close()
