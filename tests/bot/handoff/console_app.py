"""The console through the real app for the tests of its API and its WebSocket: an engine that
asks for a person when told to, agents' sessions, and the citizen's side of the web chat."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from bot.ops.settings import Settings
from bot.web.app import create_app
from bot.web.deps import COOKIE, CSRF_HEADER
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
