"""Who may read and write a web chat conversation: the session cookie, or an integrator's key."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bot.ops.settings import Settings
from bot.web.app import create_app
from connectors.webchat_access import COOKIE, api_key_matches
from tests.integrator import API_KEY, HEADERS

ROUTES = (("GET", "/webchat/history"), ("GET", "/webchat/stream"), ("POST", "/webhooks/webchat"))


def start(client: TestClient) -> str:
    """A citizen's new session; the cookie's token (the client keeps it too)."""
    response = client.post("/webchat/session")
    assert response.status_code == 201, response.text
    assert response.json() == {"idle_minutes": 60.0}
    token: str = response.cookies[COOKIE]
    return token


def cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"{COOKIE}={token}"}


def say(client: TestClient, text: str, **headers: str) -> list[dict[str, object]]:
    response = client.post("/webhooks/webchat", json={"message": text}, headers=headers)
    assert response.status_code == 200, response.text
    replies: list[dict[str, object]] = response.json()
    return replies


def texts(client: TestClient, **headers: str) -> list[str]:
    response = client.get("/webchat/history", headers=headers)
    assert response.status_code == 200, response.text
    return [item["text"] for item in response.json() if item["direction"] == "in"]


def integrator_texts(client: TestClient, sender: str) -> list[str]:
    response = client.get("/webchat/history", params={"sender": sender}, headers=HEADERS)
    assert response.status_code == 200, response.text
    return [item["text"] for item in response.json() if item["direction"] == "in"]


def request(client: TestClient, method: str, path: str, **kwargs: object):  # type: ignore[no-untyped-def]
    if method == "POST":
        return client.post(path, json={"message": "hola"}, **kwargs)  # type: ignore[arg-type]
    return client.get(path, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_without_a_session_every_route_is_a_401_in_spanish(
    client: TestClient, method: str, path: str
) -> None:
    response = request(client, method, path)
    assert response.status_code == 401
    assert response.json()["error"] == "session_required"
    assert "conversación" in response.json()["message"]
    # ?sender= is no credential without a key.
    response = request(client, method, path, params={"sender": "ana"})
    assert response.status_code == 401


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_an_unknown_cookie_is_a_401(client: TestClient, method: str, path: str) -> None:
    response = request(client, method, path, headers=cookie("x" * 43))
    assert response.status_code == 401
    assert response.json()["error"] == "session_required"


def test_another_client_cannot_read_or_write_a_citizens_session(client: TestClient) -> None:
    token = start(client)
    [reply] = say(client, "mi RUC es 20100070970")
    sender = str(reply["recipient_id"])
    client.cookies.clear()

    # Knowing the conversation's key is not enough: it is not a credential.
    assert client.get("/webchat/history", params={"sender": sender}).status_code == 401
    response = client.post("/webhooks/webchat", json={"sender": sender, "message": "intruso"})
    assert response.status_code == 401
    assert client.get("/webchat/stream", params={"sender": sender}).status_code == 401

    # Another citizen with their own session writes only into their own conversation.
    start(client)
    [other] = say(client, "intruso", sender=sender)
    assert other["recipient_id"] != sender
    client.cookies.clear()
    assert texts(client, **cookie(token)) == ["mi RUC es 20100070970"]


def test_a_sender_in_the_body_is_ignored_without_a_key(client: TestClient) -> None:
    start(client)
    response = client.post("/webhooks/webchat", json={"sender": "victima", "message": "hola"})
    assert response.status_code == 200
    [reply] = response.json()
    assert reply["recipient_id"] != "victima"
    assert integrator_texts(client, "victima") == []
    assert texts(client) == ["hola"]


def test_an_integrator_with_a_key_names_the_conversation(client: TestClient) -> None:
    response = client.post("/webhooks/webchat", json={"sender": "51999", "message": "hola"},
                           headers=HEADERS)  # fmt: skip
    assert response.status_code == 200
    assert response.json()[0]["recipient_id"] == "51999"
    assert integrator_texts(client, "51999") == ["hola"]
    # The conversation may be named in a header instead of the query string.
    by_header = client.get("/webchat/history", headers={**HEADERS, "X-Webchat-Sender": "51999"})
    assert [i["text"] for i in by_header.json() if i["direction"] == "in"] == ["hola"]


@pytest.mark.parametrize("key", ["", "clave-equivocada", API_KEY + "x", API_KEY[:-1]])
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_wrong_key_is_a_401(client: TestClient, method: str, path: str, key: str) -> None:
    response = request(client, method, path, params={"sender": "51999"},
                       headers={"X-Api-Key": key})  # fmt: skip
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_api_key",
                               "message": "La clave de API no es válida."}  # fmt: skip


def test_keys_are_compared_whole() -> None:
    from pydantic import SecretStr

    keys = [SecretStr("primera-clave-0123456789"), SecretStr("segunda-clave-0123456789")]
    assert api_key_matches("segunda-clave-0123456789", keys)
    assert not api_key_matches("segunda-clave-012345678", keys)
    assert not api_key_matches("segunda-clave-0123456789", [])


def test_ending_the_conversation_invalidates_the_session(client: TestClient) -> None:
    token = start(client)
    say(client, "hola")
    response = client.delete("/webchat/session")
    assert response.status_code == 204
    cleared = response.headers["set-cookie"]
    assert cleared.startswith(f'{COOKIE}=""') and "Max-Age=0" in cleared
    # The old cookie, kept by someone, reads and writes nothing any more.
    client.cookies.clear()
    assert client.get("/webchat/history", headers=cookie(token)).status_code == 401
    gone = client.post("/webhooks/webchat", json={"message": "x"}, headers=cookie(token))
    assert gone.status_code == 401
    # Ending twice (or with no session) is not an error.
    assert client.delete("/webchat/session", headers=cookie(token)).status_code == 204


def test_a_session_expires_when_idle_and_activity_keeps_it(client: TestClient) -> None:
    sessions = client.app.state.webchat_sessions  # type: ignore[attr-defined]
    start(client)
    now = dt.datetime.now(dt.UTC)
    try:
        sessions.clock = lambda: now + dt.timedelta(minutes=50)
        say(client, "sigo aquí")  # activity: the idle hour starts again
        sessions.clock = lambda: now + dt.timedelta(minutes=100)
        assert texts(client) == ["sigo aquí"]
        sessions.clock = lambda: now + dt.timedelta(minutes=111)
        response = client.get("/webchat/history")
        assert response.status_code == 401
        assert response.json()["error"] == "session_required"
    finally:
        sessions.clock = lambda: dt.datetime.now(dt.UTC)


def test_starting_again_ends_the_previous_session(client: TestClient) -> None:
    first = start(client)
    second = start(client)
    assert first != second
    client.cookies.clear()
    assert client.get("/webchat/history", headers=cookie(first)).status_code == 401
    assert client.get("/webchat/history", headers=cookie(second)).status_code == 200


def test_the_token_is_random_urlsafe_and_long(client: TestClient) -> None:
    tokens = {start(client) for _ in range(5)}
    assert len(tokens) == 5
    for token in tokens:
        # 32 random bytes: 43 characters of the URL-safe alphabet (256 bits).
        assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", token)


def test_cross_site_requests_with_the_cookie_are_refused(client: TestClient) -> None:
    start(client)
    response = client.post("/webhooks/webchat", json={"message": "hola"},
                           headers={"Sec-Fetch-Site": "cross-site"})  # fmt: skip
    assert response.status_code == 403
    assert response.json()["error"] == "cross_site"
    assert (
        client.delete("/webchat/session", headers={"Sec-Fetch-Site": "cross-site"}).status_code
        == 403
    )
    assert texts(client, **{"Sec-Fetch-Site": "same-origin"}) == []


def attributes(set_cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in set_cookie.split(";")[1:]} | {
        part.strip().lower() for part in set_cookie.split(";")[1:] if "samesite" in part.lower()
    }


def test_cookie_over_plain_http_is_httponly_and_lax(client: TestClient) -> None:
    set_cookie = client.post("/webchat/session").headers["set-cookie"]
    assert attributes(set_cookie) >= {"httponly", "path", "samesite=lax"}
    assert "secure" not in attributes(set_cookie)
    assert "partitioned" not in attributes(set_cookie)
    assert "max-age" not in attributes(set_cookie)  # gone when the browser closes


@pytest.fixture()
def production_client(settings: Settings) -> Iterator[TestClient]:
    secure = settings.model_copy(update={"secure_cookies": True})
    with TestClient(create_app(secure)) as test_client:
        yield test_client


def test_cookie_with_secure_cookies_works_in_an_embedding_sites_frame(
    production_client: TestClient,
) -> None:
    set_cookie = production_client.post("/webchat/session").headers["set-cookie"]
    assert attributes(set_cookie) >= {"httponly", "secure", "partitioned", "samesite=none"}


def test_cookie_on_loopback_is_secure_and_partitioned(settings: Settings) -> None:
    # Browsers treat http://127.0.0.1 and http://localhost as secure contexts.
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as local:
        set_cookie = local.post("/webchat/session").headers["set-cookie"]
    assert attributes(set_cookie) >= {"httponly", "secure", "partitioned", "samesite=none"}


def test_an_integrator_key_does_not_reach_a_citizens_session(client: TestClient) -> None:
    start(client)
    [reply] = say(client, "mi RUC es 20100070970")
    session_sender = str(reply["recipient_id"])
    client.cookies.clear()
    read = client.get("/webchat/history", params={"sender": session_sender}, headers=HEADERS)
    assert read.status_code == 422 and read.json()["error"] == "invalid_sender"
    write = client.post("/webhooks/webchat", json={"sender": session_sender, "message": "x"},
                        headers=HEADERS)  # fmt: skip
    assert write.status_code == 422


def test_a_foreign_origin_without_fetch_metadata_is_refused(client: TestClient) -> None:
    start(client)
    foreign = client.post("/webhooks/webchat", json={"message": "hola"},
                          headers={"Origin": "https://atacante.example"})  # fmt: skip
    assert foreign.status_code == 403 and foreign.json()["error"] == "cross_site"
    own = client.post("/webhooks/webchat", json={"message": "hola"},
                      headers={"Origin": "http://testserver"})  # fmt: skip
    assert own.status_code == 200


def test_a_citizens_message_must_be_declared_json(client: TestClient) -> None:
    """A page of another site can post, with no preflight, only bodies not declared JSON (a
    ``no-cors`` fetch of a Blob or a form): such a body is never read as a message."""
    start(client)
    for headers in ({}, {"Content-Type": "text/plain"}):
        response = client.post(
            "/webhooks/webchat", content=b'{"message": "quiero un asesor"}', headers=headers
        )
        assert response.status_code == 422
    assert texts(client) == []  # nothing stored
