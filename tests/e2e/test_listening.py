"""Listening on the fanpage end to end through the real stack (Rasa, action server, gateway),
Messenger on against a local fake of the Graph API: a signed ``feed`` webhook with a comment,
delivered twice → stored once, with the topic the real NLU gives it and the sentiment of the
packaged model → an agent answers privately through the console's API → the fake Graph API
receives Messenger's private reply, and a second one is refused."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from bot.ops.settings import ROOT
from bot.web.deps import CSRF_HEADER
from connectors.meta import sign
from tests.e2e.stack import Stack, stop
from tests.fakes.graph_api import FakeGraphApi

pytestmark = pytest.mark.e2e
SECRET = "e2e-app-secret"
PASSWORD = "clave-de-prueba-e2e-123"
PAGE = "1000001"
COMMENT = f"{PAGE}_77_1"
SAID = "Pésima atención, quiero presentar una queja: nadie contesta. Mi RUC es 20100070970"


def feed_webhook(text: str) -> bytes:
    post = f"{PAGE}_77"
    value = {
        "from": {"id": "4242", "name": "Rosa Quispe"},
        "post": {"id": post, "status_type": "mobile_status_update", "is_published": True},
        "message": text, "post_id": post, "comment_id": COMMENT,
        "created_time": int(time.time()), "item": "comment", "parent_id": post, "verb": "add",
    }  # fmt: skip
    return json.dumps({
        "object": "page",
        "entry": [{"id": PAGE, "time": int(time.time()),
                   "changes": [{"field": "feed", "value": value}]}],
    }).encode()  # fmt: skip


def deliver(stack: Stack, body: bytes, secret: str = SECRET) -> httpx.Response:
    return httpx.post(
        f"{stack.base_url}/webhooks/messenger",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, secret)},
        timeout=10,
    )


def create_agent(stack: Stack, username: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "create-user", username, "--role", "agent",
         "--name", username.title(), "--password-stdin"],
        input=PASSWORD + "\n", text=True, capture_output=True, cwd=ROOT,
        env={**stack.environ(), "DATABASE_URL": stack.settings.database_url}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_a_signed_comment_is_stored_once_with_topic_and_sentiment_and_answered_privately(
    tmp_path: Any, graph: FakeGraphApi
) -> None:
    stack = Stack.on_free_ports(
        tmp_path,
        meta_app_secret=SECRET,
        messenger_verify_token="e2e-verify",
        messenger_page_access_token="e2e-page-token",
        graph_api_url=graph.url,
    )
    children = stack.start_all()
    try:
        stack.wait_healthy()
        create_agent(stack, "ana")
        # A forged delivery is refused; the signed one, delivered twice, is stored once.
        assert deliver(stack, feed_webhook(SAID), secret="forged").status_code == 403
        first = deliver(stack, feed_webhook(SAID))
        again = deliver(stack, feed_webhook(SAID))
        assert first.status_code == again.status_code == 200
        assert first.json()["comments"] == {"accepted": 1, "repeated": 0}
        assert again.json()["comments"] == {"accepted": 0, "repeated": 1}

        with httpx.Client(base_url=stack.base_url, timeout=15) as console:
            login = console.post("/api/auth/login", json={"username": "ana", "password": PASSWORD})
            assert login.status_code == 200, login.text
            csrf = {CSRF_HEADER: login.json()["csrf_token"]}
            [comment] = console.get("/api/comments").json()["comments"]
            # Topic (the real NLU) and sentiment (the packaged model, loaded at this first
            # comment) are settled in the background.
            deadline = time.monotonic() + 180
            while not (comment["analysed"] and comment["sentiment"]):
                assert time.monotonic() < deadline, comment
                time.sleep(0.5)
                comment = console.get(f"/api/comments/{comment['id']}").json()
            assert "20100070970" not in comment["text"] and "20*****0970" in comment["text"]
            assert comment["topic"] and comment["topic_confidence"] is not None
            assert comment["sentiment"] == "negativo" and comment["flagged"]

            reply = "Hola Rosa, lamentamos lo ocurrido. Te escribimos por interno para ayudarte."
            answered = console.post(
                f"/api/comments/{comment['id']}/reply",
                json={"kind": "privada", "text": reply},
                headers=csrf,
            )
            assert answered.status_code == 200, answered.text
            assert answered.json()["status"] == "respondido"
            [private] = graph.private_replies()
            assert private.query["access_token"] == "e2e-page-token"
            assert private.body == {
                "recipient": {"comment_id": COMMENT},
                "message": {"text": reply},
            }
            second = console.post(
                f"/api/comments/{comment['id']}/reply",
                json={"kind": "privada", "text": "otra"},
                headers=csrf,
            )
            assert second.status_code == 409 and second.json()["error"] == "private_reply_used"
            assert len(graph.private_replies()) == 1
            listed = console.get("/api/comments", params={"status": "respondido"}).json()
            assert [c["id"] for c in listed["comments"]] == [comment["id"]]
    finally:
        for child in children.values():
            stop(child)
