"""A local stand-in for Twilio's Messages REST API: a real HTTP server on loopback that records
every message and answers with what the test asks for (errors)."""

from __future__ import annotations

import urllib.parse
from collections import deque
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.fakes.server import LocalServer


class FakeTwilioApi(LocalServer):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[dict[str, str]] = []
        self.auth: list[str] = []
        self.failures: deque[tuple[int, dict[str, Any]]] = deque()

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
