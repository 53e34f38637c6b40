"""The Twilio webhook's contract: signed forms only, an empty TwiML answer, the reply sent
through the (fake) REST API."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bot.ops.settings import Settings
from bot.web.app import create_app
from connectors.twilio import signature
from tests.fakes.rasa_engine import FakeRasa
from tests.fakes.twilio_api import FakeTwilioApi

TOKEN = "unit-twilio-token"
FORM = {"From": "whatsapp:+51999", "To": "whatsapp:+14155238886", "Body": "hola",
        "MessageSid": "SMunit1", "NumMedia": "0"}  # fmt: skip
URL = "http://testserver/webhooks/twilio"


@pytest.fixture()
def twilio(settings: Settings, twilio_api: FakeTwilioApi) -> Iterator[TestClient]:
    enabled = Settings(
        rasa_url=settings.rasa_url,
        action_server_url=settings.action_server_url,
        rasa_token="unit-test-token-0123456789",
        database_url=settings.database_url,
        rasa_timeout_seconds=2.0,
        twilio_account_sid="AC1",
        twilio_auth_token=TOKEN,
        twilio_whatsapp_from="whatsapp:+14155238886",
        twilio_api_url=twilio_api.url,
    )
    with TestClient(create_app(enabled)) as client:
        yield client


def post(client: TestClient, form: dict[str, str], sig: str | None) -> object:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if sig is not None:
        headers["X-Twilio-Signature"] = sig
    return client.post("/webhooks/twilio", content=urllib.parse.urlencode(form), headers=headers)


def test_a_signed_form_is_answered_through_the_rest_api(
    twilio: TestClient, twilio_api: FakeTwilioApi, settings: Settings
) -> None:
    engine = FakeRasa(int(settings.rasa_url.rsplit(":", 1)[1])).start()
    try:
        response = post(twilio, FORM, signature(URL, FORM, TOKEN))
        assert response.status_code == 200  # type: ignore[attr-defined]
        assert response.headers["content-type"].startswith("text/xml")  # type: ignore[attr-defined]
        deadline = time.monotonic() + 10
        while not twilio_api.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # a duplicate would follow at once: let it show
    finally:
        engine.stop()
    [sent] = twilio_api.messages
    assert sent["To"] == "whatsapp:+51999" and sent["Body"] == engine.reply


@pytest.mark.parametrize("sig", [None, "AAAA", signature(URL, {**FORM, "Body": "x"}, TOKEN)])
def test_unsigned_or_tampered_forms_are_refused(
    twilio: TestClient, twilio_api: FakeTwilioApi, sig: str | None
) -> None:
    response = post(twilio, FORM, sig)
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert response.json()["error"] == "invalid_signature"  # type: ignore[attr-defined]
    time.sleep(0.2)
    assert twilio_api.messages == []


def test_a_form_without_message_sid_is_a_400(twilio: TestClient) -> None:
    form = {"From": "whatsapp:+51999", "Body": "hola"}
    response = post(twilio, form, signature(URL, form, TOKEN))
    assert response.status_code == 400  # type: ignore[attr-defined]


def test_off_without_credentials(client: TestClient) -> None:
    assert post(client, FORM, "x").status_code == 404  # type: ignore[attr-defined]
    assert client.get("/health").json()["channels"]["twilio"] == "off (credentials missing)"
