"""The Messenger and WhatsApp webhooks' contract: Meta's subscription check, signatures, bad
input.

The engine is down in these tests until a stand-in starts answering at its address: a message
waits meanwhile and is answered once when it is back. Answers from the real engine are covered
in tests/e2e/test_messenger.py."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.ops.settings import Settings
from bot.web.app import create_app
from connectors.meta import sign
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.rasa_engine import FakeRasa

SECRET = "unit-app-secret"
VERIFY = "unit-verify-token"


@pytest.fixture()
def messenger(settings: Settings, graph: FakeGraphApi) -> Iterator[TestClient]:
    enabled = Settings(
        rasa_url=settings.rasa_url,
        action_server_url=settings.action_server_url,
        rasa_token="unit-test-token-0123456789",
        database_url=settings.database_url,
        rasa_timeout_seconds=2.0,
        meta_app_secret=SECRET,
        messenger_verify_token=VERIFY,
        messenger_page_access_token="unit-page-token",
        whatsapp_verify_token=VERIFY,
        whatsapp_access_token="unit-wa-token",
        whatsapp_phone_number_id="PHONE1",
        graph_api_url=graph.url,
    )
    with TestClient(create_app(enabled)) as client:
        yield client


def post(
    client: TestClient, body: bytes, signature: str | None = "auto", path: str = "messenger"
) -> object:
    headers = {"Content-Type": "application/json"}
    if signature == "auto":
        headers["X-Hub-Signature-256"] = sign(body, SECRET)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return client.post(f"/webhooks/{path}", content=body, headers=headers)


def stored(settings: Settings) -> int:
    db = sqlite3.connect(settings.database_url.split("///", 1)[1])
    try:
        return int(db.execute("SELECT count(*) FROM messages").fetchone()[0])
    finally:
        db.close()


@contextlib.contextmanager
def engine_back(settings: Settings) -> Iterator[FakeRasa]:
    """The engine starts answering at ``RASA_URL`` (down until then in these tests)."""
    engine = FakeRasa(int(settings.rasa_url.rsplit(":", 1)[1])).start()
    try:
        yield engine
    finally:
        engine.stop()


def wait_for(sent: Callable[[], list[dict[str, Any]]], seconds: float = 15) -> list[dict[str, Any]]:
    """What was sent, once something was (the outbox retries every few seconds)."""
    deadline = time.monotonic() + seconds
    while not sent() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # a duplicate would follow at once: let it show
    return sent()


HELLO = json.dumps({
    "object": "page",
    "entry": [{"id": "P", "time": 1, "messaging": [
        {"sender": {"id": "42"}, "recipient": {"id": "P"}, "timestamp": 1,
         "message": {"mid": "m_hello", "text": "hola"}}]}],
}).encode()  # fmt: skip


WA_HELLO = json.dumps({
    "object": "whatsapp_business_account",
    "entry": [{"id": "W", "changes": [{"field": "messages", "value": {
        "messages": [{"from": "51999", "id": "wamid.hello", "timestamp": "1", "type": "text",
                      "text": {"body": "hola"}}]}}]}],
}).encode()  # fmt: skip
CHANNELS = [("messenger", HELLO), ("whatsapp", WA_HELLO)]


@pytest.mark.parametrize("path", ["messenger", "whatsapp"])
def test_subscription_check(messenger: TestClient, path: str) -> None:
    ok = messenger.get(
        f"/webhooks/{path}",
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"},
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    assert ok.headers["content-type"].startswith("text/plain")
    wrong = messenger.get(
        f"/webhooks/{path}",
        params={"hub.mode": "subscribe", "hub.verify_token": "otro", "hub.challenge": "1"},
    )
    assert wrong.status_code == 403 and wrong.json()["error"] == "verification_failed"


def test_a_signed_message_is_stored_then_answered_through_the_send_api(
    messenger: TestClient, settings: Settings, graph: FakeGraphApi
) -> None:
    response = post(messenger, HELLO)
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.json() == {"status": "ok", "accepted": 1, "repeated": 0}  # type: ignore[attr-defined]
    assert post(messenger, HELLO).json()["repeated"] == 1  # type: ignore[attr-defined]
    assert stored(settings) == 1
    # The engine is down: the message waits (retried), nothing is sent meanwhile.
    time.sleep(2.5)
    assert graph.messages() == []
    with engine_back(settings) as engine:
        [sent] = wait_for(graph.messages)
    assert sent["recipient"] == {"id": "42"} and engine.reply in json.dumps(
        sent, ensure_ascii=False
    )
    assert [m["message"] for m in engine.received if m["message"] == "hola"] == ["hola"]


@pytest.mark.parametrize(("path", "hello"), CHANNELS)
@pytest.mark.parametrize(
    ("body", "signature", "status", "error"),
    [(None, None, 403, "invalid_signature"),
     (None, "sha256=" + "0" * 64, 403, "invalid_signature"),
     (None, "other-secret", 403, "invalid_signature"),
     (b"{not json", "auto", 400, "invalid_json"),
     (b'{"object": "instagram", "entry": []}', "auto", 400, "unsupported_object"),
     (b'{"object": "page", "entry": [' + b'{"id": "x"},' * 90_000 + b'{}]}', "auto", 413,
      "body_too_large")],
)  # fmt: skip
def test_bad_requests_are_refused_and_nothing_is_stored(
    messenger: TestClient, settings: Settings, path: str, hello: bytes, body: bytes | None,
    signature: str | None, status: int, error: str,
) -> None:  # fmt: skip
    body = body or hello
    if signature == "other-secret":
        signature = sign(body, "otro-secreto")
    response = post(messenger, body, signature, path)
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response.json()["error"] == error  # type: ignore[attr-defined]
    assert stored(settings) == 0


@pytest.mark.parametrize(("path", "hello"), CHANNELS)
def test_a_channel_without_credentials_is_off(
    client: TestClient, settings: Settings, path: str, hello: bytes
) -> None:
    response = post(client, hello, path=path)
    assert response.status_code == 404  # type: ignore[attr-defined]
    assert response.json()["error"] == "channel_disabled"  # type: ignore[attr-defined]
    assert client.get("/health").json()["channels"][path] == "off (credentials missing)"


def test_a_signed_whatsapp_message_is_answered_through_the_cloud_api(
    messenger: TestClient, settings: Settings, graph: FakeGraphApi
) -> None:
    with engine_back(settings) as engine:
        assert post(messenger, WA_HELLO, path="whatsapp").json()["accepted"] == 1  # type: ignore[attr-defined]
        [sent] = wait_for(graph.whatsapp_messages)
    assert sent["to"] == "51999" and sent["text"]["body"] == engine.reply
