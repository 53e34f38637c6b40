"""A local stand-in for Meta's Graph API (the Send API, WhatsApp's messages, replies to the
Page's comments: public ones and Messenger's private replies): a real HTTP server on loopback
that records every call and answers with what the test asks for (errors, delays)."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.fakes.server import LocalServer


@dataclass
class Call:
    path: str
    query: dict[str, str]
    body: dict[str, Any]
    at: float


def messenger_message(sender: str, mid: str, text: str) -> bytes:
    """What Meta posts to the Page's webhook for a Messenger message (to be signed)."""
    return json.dumps({
        "object": "page",
        "entry": [{"id": "PAGE", "time": 1, "messaging": [
            {"sender": {"id": sender}, "recipient": {"id": "PAGE"}, "timestamp": 1,
             "message": {"mid": mid, "text": text}}]}],
    }).encode()  # fmt: skip


class FakeGraphApi(LocalServer):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        #: Answers to give, in order, before falling back to success: (status, json body).
        self.failures: deque[tuple[int, dict[str, Any]]] = deque()
        self.delay_seconds = 0.0
        self._ids = 0

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

    def private_replies(self) -> list[Call]:
        """Messenger's private replies to comments (``recipient.comment_id``), in order."""
        return [c for c in self.calls if "comment_id" in (c.body.get("recipient") or {})]

    def public_replies(self) -> list[Call]:
        """Replies under comments (``POST /{comment-id}/comments``), in order."""
        return [c for c in self.calls if c.path.endswith("/comments")]

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

        @app.post("/v21.0/{comment_id}/comments")
        async def comment_reply(comment_id: str, request: Request) -> JSONResponse:
            body = await request.json()
            self.calls.append(Call(request.url.path, dict(request.query_params), body, time.time()))
            if self.failures:
                status, error = self.failures.popleft()
                return JSONResponse(error, status_code=status)
            self._ids += 1
            return JSONResponse({"id": f"{comment_id}_reply{self._ids}"})

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
