"""A stand-in for the Rasa engine's REST channel in unit tests of the platform channels: a real
HTTP server on loopback that answers every message with one text and records what it got.
(The e2e tests use the real engine; this one lets a unit test bring "the engine" back.)"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

from tests.fakes.server import LocalServer


class FakeRasa(LocalServer):
    def __init__(self, port: int, reply: str = "¡Hola! Soy el asistente.") -> None:
        super().__init__()
        self.port = port
        self.reply = reply
        self.received: list[dict[str, Any]] = []

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/webhooks/rest/webhook")
        async def webhook(request: Request) -> list[dict[str, Any]]:
            body = await request.json()
            self.received.append(body)
            return [{"recipient_id": body.get("sender"), "text": self.reply}]

        return app
