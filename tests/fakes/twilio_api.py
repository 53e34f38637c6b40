"""A local stand-in for Twilio's Messages REST API: a real HTTP server on loopback that records
every message and answers with what the test asks for (errors)."""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from bot.processes import free_port


@dataclass
class FakeTwilioApi:
    port: int = field(default_factory=free_port)
    messages: list[dict[str, str]] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)
    failures: deque[tuple[int, dict[str, Any]]] = field(default_factory=deque)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, times: int, status: int, code: int | None = None) -> None:
        self.failures.extend([(status, {"code": code or status, "message": "fake"})] * times)

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/2010-04-01/Accounts/{sid}/Messages.json")
        async def create(sid: str, request: Request) -> JSONResponse:
            form = dict(urllib.parse.parse_qsl((await request.body()).decode()))
            self.messages.append(form)
            self.auth.append(request.headers.get("authorization", ""))
            if self.failures:
                status, error = self.failures.popleft()
                return JSONResponse(error, status_code=status)
            return JSONResponse({"sid": f"SMfake{len(self.messages)}"}, status_code=201)

        return app

    def start(self) -> FakeTwilioApi:
        config = uvicorn.Config(self._app(), host="127.0.0.1", port=self.port, log_level="error")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake Twilio API did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
