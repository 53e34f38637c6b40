"""Two real gateway processes behind no balancer, sharing one PostgreSQL database and Redis:
what happens on one is live on the other. An agent's console open on A makes her online for an
escalation that arrives at B, and receives it; the citizen's web chat stream held by A receives
the agent's reply sent through B; the citizen's next message, on A, goes to the agent (B opened
the handoff); a logout posted to B closes the console's socket on A.

The engine is a local stand-in that asks for a person when told to (what matters here is
between the gateways, not language); the real engine's handoff is in ``test_handoff.py``."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.e2e.scale_services import REDIS_PORT, database_url
from tests.e2e.stack import Stack, stop
from tests.e2e.test_handoff import Console, create_user
from tests.fakes.server import LocalServer
from tests.integrator import HEADERS

pytestmark = pytest.mark.e2e


class Engine(LocalServer):
    """Rasa and the action server as the gateways see them: ready, asks for a person when the
    message says "asesor", else echoes; records the messages it got."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.api_route("/{path:path}", methods=["GET", "POST", "PUT"])
        async def anything(path: str, request: Request) -> Any:
            if request.method == "GET":
                return {"model_file": "fake.tar.gz", "status": "ok"}
            if path.endswith("/tracker/events"):
                return {}
            message = (await request.json()).get("message", "")
            self.messages.append(message)
            if "asesor" in message:
                handoff = {"reason": "pedido", "team": "orientacion",
                           "intent": "pedir_humano", "confidence": 0.98}  # fmt: skip
                return [{"recipient_id": "x", "custom": {"handoff": handoff}}]
            return [{"recipient_id": "x", "text": f"bot: {message}"}]

        return app


@pytest.fixture()
def gateways(tmp_path: Path, database: str) -> Iterator[tuple[Stack, Stack, Engine]]:
    engine = Engine().start()
    shared = {
        "rasa_url": f"http://127.0.0.1:{engine.port}",
        "action_server_url": f"http://127.0.0.1:{engine.port}",
        "database_url": database_url(database),
        "redis_url": f"redis://127.0.0.1:{REDIS_PORT}/0",
        "log_level": "INFO",
    }
    stacks = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        stacks.append(Stack.on_free_ports(tmp_path / name, **shared))
    children = []
    try:
        for stack in stacks:  # one after the other: the first one migrates the database
            children.append(stack.start_gateway())
            stack.wait_healthy(timeout=90)
        yield stacks[0], stacks[1], engine
    finally:
        for child in children:
            stop(child)
        engine.stop()
        for stack in stacks:
            log = (stack.workdir / "gateway.log").read_text()
            if "Traceback" in log:
                print(log[-4000:])


class Stream:
    """The citizen's web chat push stream (SSE), read in a thread: the messages it got."""

    def __init__(self, stack: Stack, sender: str) -> None:
        self.messages: list[dict[str, Any]] = []
        self.ended = False
        self._response: httpx.Response
        self._open = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(stack, sender), daemon=True)
        self._thread.start()
        assert self._open.wait(10), "the stream did not open"

    def _read(self, stack: Stack, sender: str) -> None:
        url = f"{stack.base_url}/webchat/stream"
        with (
            contextlib.suppress(httpx.HTTPError),  # closed by the test, or the gateway stopped
            httpx.stream("GET", url, params={"sender": sender}, headers=HEADERS,
                         timeout=None) as response,
        ):  # fmt: skip
            self._response = response
            for line in response.iter_lines():
                if line == ": connected":
                    self._open.set()
                if line.startswith("data: "):
                    self.messages.append(json.loads(line.removeprefix("data: ")))
        self.ended = True

    def close(self) -> None:
        self._response.close()
        self._thread.join(10)


def until(condition: Any, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "not within time"
        time.sleep(0.05)


def test_two_gateways_share_the_desk_live(gateways: tuple[Stack, Stack, Engine]) -> None:
    a, b, engine = gateways
    create_user(a, "ana", "agent")
    ana_on_a, ana_on_b = Console(a, "ana"), Console(b, "ana")
    cookie = "; ".join(f"{k}={v}" for k, v in ana_on_a.http.cookies.items())
    socket_url = a.base_url.replace("http://", "ws://") + "/api/console/events"
    with connect(socket_url, additional_headers={"Cookie": cookie}) as console:
        # Presence: her console is open on A, so B queues the citizen for a person.
        replies = b.chat("ciudadano-1", "quiero hablar con un asesor")
        assert "puesto 1" in replies[0]["text"], replies
        event = json.loads(console.recv(timeout=10))
        assert event["type"] == "handoff" and event["handoff"]["state"] == "pending"
        handoff_id = event["handoff"]["id"]

        # The citizen's stream is held by A; the agent works on B.
        stream = Stream(a, "ciudadano-1")
        assert ana_on_b.post(f"/api/handoffs/{handoff_id}/claim").status_code == 200
        sent = ana_on_b.post(f"/api/handoffs/{handoff_id}/messages", {"text": "Hola, soy Ana."})
        assert sent.status_code == 200, sent.text
        until(lambda: any(m.get("text") == "Hola, soy Ana." for m in stream.messages))
        stream.close()

        # The citizen answers through A: B opened the handoff, A gives it to the agent.
        assert a.chat("ciudadano-1", "gracias, tengo otra duda") == []
        assert "gracias, tengo otra duda" not in engine.messages
        seen: list[dict[str, Any]] = []
        while not any(e.get("direction") == "in" for e in seen):
            seen.append(json.loads(console.recv(timeout=10)))

        # Logging out through B closes the socket held by A at once.
        logout = httpx.post(f"{b.base_url}/api/auth/logout", headers={
            "Cookie": cookie, "X-CSRF-Token": ana_on_a.csrf})  # fmt: skip
        assert logout.status_code == 200, logout.text
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                console.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    ana_on_a.close()
    ana_on_b.close()
