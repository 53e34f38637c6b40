"""Web chat limits: posts per session and per address, sessions per address, open streams.

Over a limit: a 429 with Retry-After and a Spanish message, and nothing stored."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import redis
import uvicorn
from fastapi.testclient import TestClient

from bot.ops.processes import free_port
from bot.ops.settings import Settings
from bot.web.app import create_app
from connectors.webchat_access import COOKIE
from tests.integrator import HEADERS

REDIS_URL = "redis://127.0.0.1:6379/0"


def limited(settings: Settings, **limits: Any) -> Settings:
    return settings.model_copy(update=limits)


def start(client: TestClient) -> str:
    response = client.post("/webchat/session")
    assert response.status_code == 201, response.text
    token: str = response.cookies[COOKIE]
    return token


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    body = response.json()
    assert body["error"] == "rate_limited"
    assert body["retry_after"] == int(response.headers["Retry-After"])
    assert "segundos" in body["message"]


def inbound(client: TestClient, sender: str) -> list[str]:
    response = client.get("/webchat/history", params={"sender": sender}, headers=HEADERS)
    return [item["text"] for item in response.json() if item["direction"] == "in"]


def test_posts_over_the_session_limit_are_refused_and_not_stored(settings: Settings) -> None:
    with TestClient(create_app(limited(settings, limit_webchat_posts_per_session="2/minute"))) as c:
        start(c)
        for text in ("uno", "dos"):
            assert c.post("/webhooks/webchat", json={"message": text}).status_code == 200
        response = c.post("/webhooks/webchat", json={"message": "tres"})
        assert_refused(response)
        assert "rápido" in response.json()["message"]
        history = c.get("/webchat/history").json()  # the session's own view
        assert [item["text"] for item in history if item["direction"] == "in"] == ["uno", "dos"]
        # Another session from the same address is not held back by this one.
        start(c)
        assert c.post("/webhooks/webchat", json={"message": "otra"}).status_code == 200


def test_posts_over_the_address_limit_are_refused_across_sessions(settings: Settings) -> None:
    with TestClient(create_app(limited(settings, limit_webchat_posts_per_address="2/minute"))) as c:
        for text in ("uno", "dos"):
            start(c)
            assert c.post("/webhooks/webchat", json={"message": text}).status_code == 200
        start(c)
        response = c.post("/webhooks/webchat", json={"message": "tres"})
        assert_refused(response)
        assert c.get("/webchat/history").json() == []


def test_an_integrator_is_limited_per_conversation_not_per_address(settings: Settings) -> None:
    app = create_app(limited(settings, limit_webchat_posts_per_session="1/minute",
                             limit_webchat_posts_per_address="1/minute"))  # fmt: skip
    with TestClient(app) as c:
        for sender in ("a", "b", "c"):
            ok = c.post("/webhooks/webchat", json={"sender": sender, "message": "hola"},
                        headers=HEADERS)  # fmt: skip
            assert ok.status_code == 200
        again = c.post("/webhooks/webchat", json={"sender": "a", "message": "otra"},
                       headers=HEADERS)  # fmt: skip
        assert_refused(again)
        assert inbound(c, "a") == ["hola"]


def test_sessions_per_address_are_limited(settings: Settings) -> None:
    with TestClient(create_app(limited(settings, limit_sessions_per_address="2/hour"))) as c:
        start(c)
        start(c)
        response = c.post("/webchat/session")
        assert_refused(response)
        assert "set-cookie" not in response.headers


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """The gateway on a real port (server-sent events need a real connection)."""
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.02)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            yield http, app
    finally:
        server.should_exit = True
        await task


async def new_session(http: httpx.AsyncClient) -> dict[str, str]:
    response = await http.post("/webchat/session")
    assert response.status_code == 201
    # Over http://127.0.0.1 the cookie is Secure: httpx would keep it to itself, so pass it.
    token = response.cookies[COOKIE]
    http.cookies.clear()
    return {"Cookie": f"{COOKIE}={token}"}


async def test_streams_per_session_are_capped_and_given_back(settings: Settings) -> None:
    async with serving(limited(settings, max_streams_per_session=1)) as (http, app):
        headers = await new_session(http)
        async with http.stream("GET", "/webchat/stream", headers=headers) as first:
            assert first.status_code == 200
            lines = first.aiter_lines()  # kept: a dropped iterator closes the stream
            assert await anext(lines) == ": connected"
            second = await http.get("/webchat/stream", headers=headers)
            assert_refused(second)
            assert "ventanas" in second.json()["message"]
            # Another session is not affected.
            other = await new_session(http)
            async with http.stream("GET", "/webchat/stream", headers=other) as third:
                assert third.status_code == 200
        # The closed stream's slot comes back.
        limits = app.state.rate_limits
        async with asyncio.timeout(5):
            while await limits.open_connections("webchat-streams-address", "127.0.0.1"):
                await asyncio.sleep(0.05)
        async with http.stream("GET", "/webchat/stream", headers=headers) as again:
            assert again.status_code == 200


async def test_streams_per_address_are_capped(settings: Settings) -> None:
    async with serving(limited(settings, max_streams_per_address=1)) as (http, _):
        first_headers = await new_session(http)
        second_headers = await new_session(http)
        async with http.stream("GET", "/webchat/stream", headers=first_headers) as first:
            assert first.status_code == 200
            lines = first.aiter_lines()
            assert await anext(lines) == ": connected"
            assert_refused(await http.get("/webchat/stream", headers=second_headers))


@pytest.fixture()
def redis_prefix() -> Iterator[str]:
    """The Redis on 127.0.0.1:6379 (.ci/run starts it); the test's keys are deleted after."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail("no Redis on 127.0.0.1:6379 (.ci/run starts one)")
    prefix = uuid.uuid4().hex
    yield prefix
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)
    client.close()


def test_two_gateways_sharing_redis_share_the_count(settings: Settings, redis_prefix: str) -> None:
    shared = limited(settings, redis_url=REDIS_URL, limit_webchat_posts_per_session="2/minute")
    sender = f"integrador-{redis_prefix}"  # unique keys in the shared Redis
    body = {"sender": sender, "message": "hola"}
    with TestClient(create_app(shared)) as first, TestClient(create_app(shared)) as second:
        assert first.post("/webhooks/webchat", json=body, headers=HEADERS).status_code == 200
        assert second.post("/webhooks/webchat", json=body, headers=HEADERS).status_code == 200
        assert_refused(first.post("/webhooks/webchat", json=body, headers=HEADERS))
        assert inbound(second, sender) == ["hola", "hola"]
