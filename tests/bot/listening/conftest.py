"""The listening room's fixtures: its store on both databases, fakes of the NLU and of the
sentiment model, feed webhooks as Meta sends them, and the real app with Messenger on against
the fake Graph API, with an agent signed in."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.accounts.agents import AgentDirectory, Role
from bot.conversation.page_feed import FeedComment
from bot.listening.sentiment import Sentiment, label_of
from bot.ops.processes import url_port
from bot.ops.settings import Settings
from bot.storage.database import create_engine, migrate
from bot.web.app import create_app
from bot.web.deps import COOKIE, CSRF_HEADER
from connectors.meta import sign
from tests.bot.databases import BACKENDS, database_url
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.server import LocalServer

SECRET = "listening-app-secret"
PAGE = "1000001"
PASSWORD = "una-clave-larga-123"


# --- the store on both databases ---------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with database_url(request.param, tmp_path) as url:
        engine = create_engine(url)
        await migrate(engine)
        try:
            yield engine
        finally:
            await engine.dispose()


@pytest.fixture()
async def agent_id(engine: AsyncEngine) -> int:
    """An agent's row (replies name who wrote them)."""
    agents = AgentDirectory(engine)
    created = await agents.create("ana", PASSWORD, Role.AGENT, "Ana", None)
    return created.id


def feed_comment(
    platform_id: str = "111_222",
    text: str = "¿Cómo saco mi RUC?",
    verb: str = "add",
    created_at: dt.datetime | None = None,
    parent_id: str | None = None,
) -> FeedComment:
    return FeedComment(
        platform_id=platform_id,
        verb=verb,  # type: ignore[arg-type]
        post_id="111",
        parent_id=parent_id,
        author_id="u-1",
        author_name="Rosa Quispe",
        text=text,
        created_at=created_at or dt.datetime.now(dt.UTC),
    )


# --- fakes --------------------------------------------------------------------------------------


class FakeSentiment:
    """Words decide: "gracias" positive, "pésim"/"nadie" negative, else neutral."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def estimate(self, text: str) -> Sentiment:
        self.texts.append(text)
        lowered = text.lower()
        score = 0.9 if "gracias" in lowered else 0.1 if re.search("pésim|nadie", lowered) else 0.5
        return Sentiment(label_of(score), score)


class FakeNlu(LocalServer):
    """Rasa's ``/model/parse`` on the port the gateway's settings name: the intent whose
    keyword the text holds (``intents``), else ``nlu_fallback``; ``down`` answers 503."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port
        self.down = False
        self.intents = {"queja": ("quejas_sugerencias", 0.91), "ruc": ("ruc_inscripcion_dni", 0.88)}
        self.parsed: list[str] = []

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/model/parse")
        async def parse(request: Request) -> JSONResponse:
            if self.down:
                return JSONResponse({}, status_code=503)
            text = (await request.json())["text"]
            self.parsed.append(text)
            name, confidence = next(
                (v for k, v in self.intents.items() if k in text.lower()), ("nlu_fallback", 0.3)
            )
            return JSONResponse({"text": text, "intent": {"name": name, "confidence": confidence}})

        return app


# --- feed webhooks ------------------------------------------------------------------------------


def comment_value(
    comment_id: str,
    text: str,
    verb: str = "add",
    author: tuple[str, str] = ("u-1", "Rosa Quispe"),
    parent: str | None = None,
    created: int | None = None,
) -> dict[str, Any]:
    """A ``feed`` change's value for a comment on the post ``{PAGE}_9``, as Meta sends it."""
    post = f"{PAGE}_9"
    return {
        "from": {"id": author[0], "name": author[1]},
        "post": {"id": post, "status_type": "added_photos", "is_published": True},
        "message": text,
        "post_id": post,
        "comment_id": comment_id,
        "created_time": created if created is not None else int(time.time()),
        "item": "comment",
        "parent_id": parent or post,
        "verb": verb,
    }


def feed_webhook(*values: dict[str, Any], page: str = PAGE) -> bytes:
    changes = [{"field": "feed", "value": v} for v in values]
    return json.dumps(
        {"object": "page", "entry": [{"id": page, "time": int(time.time()), "changes": changes}]}
    ).encode()


def post_signed(client: TestClient, body: bytes, secret: str = SECRET) -> httpx.Response:
    return client.post(
        "/webhooks/messenger",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, secret)},
    )


# --- the app ------------------------------------------------------------------------------------


@pytest.fixture()
def nlu(settings: Settings) -> Iterator[FakeNlu]:
    fake = FakeNlu(url_port(settings.rasa_url)).start()
    yield fake
    fake.stop()


@pytest.fixture()
def listening_settings(settings: Settings, graph: FakeGraphApi) -> Settings:
    return settings.model_copy(
        update={
            "meta_app_secret": SecretStr(SECRET),
            "messenger_verify_token": SecretStr("verify-token"),
            "messenger_page_access_token": SecretStr("page-token"),
            "graph_api_url": graph.url,
            "listening_sentiment": False,
            "listening_retry_seconds": 0.2,
        }
    )


@pytest.fixture()
def sentiment() -> FakeSentiment:
    return FakeSentiment()


@pytest.fixture()
def app_client(
    listening_settings: Settings, nlu: FakeNlu, sentiment: FakeSentiment
) -> Iterator[TestClient]:
    app = create_app(listening_settings)
    with TestClient(app) as client:
        app.state.listening.sentiment = sentiment
        client.portal.call(  # type: ignore[union-attr]
            app.state.agents.create, "ana", PASSWORD, Role.AGENT, "Ana", "orientacion"
        )
        yield client


class Staff:
    """An agent's console session on the test client (cookie and CSRF token sent by hand)."""

    def __init__(self, client: TestClient, username: str = "ana") -> None:
        self.client = client
        response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        self.cookie = f"{COOKIE}={response.cookies[COOKIE]}"
        client.cookies.clear()
        self.csrf = response.json()["csrf_token"]

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, params=params, headers={"Cookie": self.cookie})

    def post(
        self, path: str, body: dict[str, Any] | None = None, csrf: bool = True
    ) -> httpx.Response:
        headers = {"Cookie": self.cookie, **({CSRF_HEADER: self.csrf} if csrf else {})}
        return self.client.post(path, json=body or {}, headers=headers)

    def wait_for(
        self, comment_id: int, ready: Callable[[dict[str, Any]], bool], timeout: float = 10
    ) -> dict[str, Any]:
        """The comment once ``ready`` holds (its analysis runs in the background)."""
        deadline = time.monotonic() + timeout
        while True:
            item: dict[str, Any] = self.get(f"/api/comments/{comment_id}").json()
            if ready(item) or time.monotonic() > deadline:
                return item
            time.sleep(0.05)
