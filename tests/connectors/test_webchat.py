"""The web chat endpoint's contract for bad input and a down engine (no engine needed).

Sessions, API keys and limits are in tests/connectors/test_webchat_sessions.py; answers from a
running engine are covered end to end in tests/e2e/.
"""

from __future__ import annotations

import pytest
import yaml
from fastapi.testclient import TestClient

from bot.ops.settings import ROOT
from connectors.webchat_access import MAX_SENDER_CHARS
from tests.integrator import HEADERS


def post(client: TestClient, body: object, integrator: bool = True) -> tuple[int, object]:
    response = client.post("/webhooks/webchat", json=body, headers=HEADERS if integrator else {})
    assert response.headers["content-type"].startswith("application/json")
    return response.status_code, response.json()


def history(client: TestClient, sender: str) -> list[dict[str, object]]:
    response = client.get("/webchat/history", params={"sender": sender}, headers=HEADERS)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()
    return items


def test_invalid_json_is_a_400_with_a_spanish_message(client: TestClient) -> None:
    response = client.post(
        "/webhooks/webchat",
        content=b'{"sender": "a", "message": ',
        headers={"content-type": "application/json", **HEADERS},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_json"
    assert "JSON" in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sender": "a"}, "message"),
        ({"sender": "a", "message": ""}, "message"),
        ({"sender": "a", "message": "   \n "}, "message"),
        ({"sender": "a", "message": 42}, "message"),
        ({"sender": "a", "message": ["hola"]}, "message"),
        ({"sender": "a", "message": None}, "message"),
        ({"sender": 7, "message": "hola"}, "sender"),
        ({"sender": "a", "message": "hola", "metadata": "no"}, "metadata"),
    ],
)
def test_invalid_fields_are_a_422_naming_the_field(
    client: TestClient, body: dict[str, object], field: str
) -> None:
    status, payload = post(client, body)
    assert status == 422
    assert isinstance(payload, dict)
    assert payload["error"] == "invalid_request"
    assert payload["message"] == "Tu mensaje no tiene el formato esperado."
    assert [d["field"] for d in payload["details"]] == [field]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"message": "hola"}, "sender_required"),
        ({"sender": "", "message": "hola"}, "invalid_sender"),
        ({"sender": "a\x00b", "message": "hola"}, "invalid_sender"),
        ({"sender": "a\nb", "message": "hola"}, "invalid_sender"),
        ({"sender": "x" * (MAX_SENDER_CHARS + 1), "message": "hola"}, "invalid_sender"),
    ],
)
def test_an_integrator_must_name_a_valid_conversation(
    client: TestClient, body: dict[str, object], code: str
) -> None:
    status, payload = post(client, body)
    assert status == 422
    assert isinstance(payload, dict) and payload["error"] == code
    assert payload["message"].startswith(("El identificador", "Con una clave"))


def test_body_that_is_not_an_object_is_a_422(client: TestClient) -> None:
    status, payload = post(client, ["hola"])
    assert status == 422
    assert isinstance(payload, dict) and payload["error"] == "invalid_request"


def test_message_over_the_limit_is_a_413_and_is_not_recorded(client: TestClient) -> None:
    limit = client.app.state.settings.webchat_max_message_chars  # type: ignore[attr-defined]
    status, payload = post(client, {"sender": "largo", "message": "a" * (limit + 1)})
    assert status == 413
    assert isinstance(payload, dict)
    assert payload["error"] == "message_too_long"
    assert str(limit) in payload["message"]
    assert history(client, "largo") == []


def test_longest_sender_is_accepted(client: TestClient) -> None:
    status, _ = post(client, {"sender": "x" * MAX_SENDER_CHARS, "message": "hola"})
    assert status == 200


def test_engine_down_answers_in_spanish_and_keeps_the_message(client: TestClient) -> None:
    notice = yaml.safe_load((ROOT / "data/knowledge/error_servicio.yml").read_text("utf-8"))
    status, payload = post(client, {"sender": "ana", "message": "como saco mi ruc"})
    assert status == 200
    assert payload == [{"recipient_id": "ana", "text": notice["answer"].strip()}]
    assert [(h["direction"], h["text"]) for h in history(client, "ana")] == [
        ("in", "como saco mi ruc"),
        ("out", notice["answer"].strip()),
    ]


def test_health_names_what_is_down(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["down"] == ["rasa", "action_server"]
    assert body["components"]["database"] == "up"


def test_history_rejects_a_bad_sender(client: TestClient) -> None:
    response = client.get("/webchat/history", params={"sender": "a\x07"}, headers=HEADERS)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_sender"


def test_unknown_route_is_a_json_404(client: TestClient) -> None:
    response = client.get("/no-existe")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_wrong_method_is_a_json_405(client: TestClient) -> None:
    response = client.get("/webhooks/webchat")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_page_and_openapi_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert 'lang="es-PE"' in page.text
    assert "/static/webchat.js" in page.text
    assert "Terminar conversación" in page.text
    script = client.get("/static/webchat.js")
    assert script.status_code == 200
    # The page keeps no conversation id of its own, nor makes one up.
    for banned in ("localStorage", "Math.random", "Date.now", "sender"):
        assert banned not in script.text
    spec = client.get("/openapi.json").json()
    assert {"/webhooks/webchat", "/webchat/session"} <= set(spec["paths"])
    assert client.get("/docs").status_code == 200


def test_oversized_body_is_a_413_before_it_is_read(client: TestClient) -> None:
    body = {"sender": "a", "message": "hola", "metadata": {"x": "y" * 70_000}}
    status, payload = post(client, body)
    assert status == 413
    assert isinstance(payload, dict) and payload["error"] == "body_too_large"


def test_oversized_streamed_body_is_a_413(client: TestClient) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"sender": "a", "message": "'
        for _ in range(20):
            yield b"x" * 4096
        yield b'"}'

    response = client.post(
        "/webhooks/webchat",
        content=chunks(),
        headers={"content-type": "application/json", **HEADERS},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"
