"""A local stand-in for Meta's Graph API (the Send API): a real HTTP server on loopback that
records every call and answers with what the test asks for (errors, delays)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from bot.processes import free_port


@dataclass
class Call:
    path: str
    query: dict[str, str]
    body: dict[str, Any]
    at: float


@dataclass
class FakeGraphApi:
    port: int = field(default_factory=free_port)
    calls: list[Call] = field(default_factory=list)
    #: Answers to give, in order, before falling back to success: (status, json body).
    failures: deque[tuple[int, dict[str, Any]]] = field(default_factory=deque)
    delay_seconds: float = 0.0
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    _ids: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v21.0"

    def fail_next(self, times: int, status: int, code: int | None = None) -> None:
        body = {"error": {"message": "fake", "type": "OAuthException", "code": code or status}}
        self.failures.extend([(status, body)] * times)

    def messages(self) -> list[dict[str, Any]]:
        """The Messenger message calls (not typing/mark_seen), in order."""
        return [c.body for c in self.calls if "message" in c.body]

    def whatsapp_messages(self) -> list[dict[str, Any]]:
        """The WhatsApp message calls (not read marks), in order."""
        return [c.body for c in self.calls if c.path.endswith("/messages") and "type" in c.body]

    def wait_for_messages(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.messages()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages()

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v21.0/me/messages")
        async def send(request: Request) -> JSONResponse:
            body = await request.json()
            self.calls.append(Call(request.url.path, dict(request.query_params), body, time.time()))
            if self.delay_seconds:
                await asyncio.sleep(self.delay_seconds)
            if "message" in body and self.failures:
                status, error = self.failures.popleft()
                return JSONResponse(error, status_code=status)
            recipient = body.get("recipient", {}).get("id")
            if "message" not in body:  # a sender action
                return JSONResponse({"recipient_id": recipient})
            self._ids += 1
            return JSONResponse({"recipient_id": recipient, "message_id": f"m_fake{self._ids}"})

        @app.post("/v21.0/{phone_number_id}/messages")
        async def whatsapp(phone_number_id: str, request: Request) -> JSONResponse:
            body = await request.json()
            query = dict(request.query_params)
            query["authorization"] = request.headers.get("authorization", "")
            self.calls.append(Call(request.url.path, query, body, time.time()))
            if body.get("status") == "read":
                return JSONResponse({"success": True})
            if self.failures:
                status, error = self.failures.popleft()
                return JSONResponse(error, status_code=status)
            self._ids += 1
            return JSONResponse({
                "messaging_product": "whatsapp",
                "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                "messages": [{"id": f"wamid.fake{self._ids}"}],
            })  # fmt: skip

        return app

    def start(self) -> FakeGraphApi:
        config = uvicorn.Config(self._app(), host="127.0.0.1", port=self.port, log_level="error")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake Graph API did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
