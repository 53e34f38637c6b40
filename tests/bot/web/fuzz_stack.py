"""The disposable stack the API fuzz tests drive: the gateway on its own SQLite database and
copy of the project, its engine a fake, and the callers it is fuzzed as (a citizen of the web
chat, and a console session of each role). Everything is thrown away after the module: the
fuzzer may delete, deploy, log out and upload at will.

The engine is a fake (Rasa answers through an ``httpx.MockTransport``) and trainings queued by
the fuzzer fail at once (``rasa`` is ``/bin/false`` here): nothing outside the process starts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import io
import json
import shutil
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from schemathesis.python.asgi import get_client, shutdown_lifespans
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.accounts.agents import AgentDirectory, Role
from bot.community.events import EventDraft
from bot.community.store import EventStore
from bot.conversation.page_feed import FeedComment
from bot.listening.store import CommentStore
from bot.ops.processes import free_port
from bot.ops.settings import Settings
from bot.storage.database import create_engine
from bot.storage.tables import Conversation, HandoffRow
from bot.storage.time import utcnow
from bot.tickets.store import NewTicket, TicketStore
from bot.web.app import create_app
from bot.web.deps import COOKIE, CSRF_HEADER
from bot.workbench import training_jobs
from bot.workbench.model_registry import ModelRegistry
from connectors.webchat_access import COOKIE as WEBCHAT_COOKIE

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "una-clave-larga-123"
#: Limits high enough that the fuzzer reaches what is behind them (429 is not what is tested).
GENEROUS = "100000/minute"


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


#: Project uploads worth sending besides random bytes.
ZIPS = [_zip({}), _zip({"data/nlu/fuzz.yml": 'version: "3.1"\nnlu: []\n'})]


#: What a citizen writes for the fake engine to ask for a person (the engine's handoff request).
ASKS_FOR_A_PERSON = "asesor"


def rasa(request: httpx.Request) -> httpx.Response:
    """The engine and the action server: healthy, with a model, answering every message; a
    message with :data:`ASKS_FOR_A_PERSON` is answered with a request for a person."""
    path = request.url.path
    if path == "/status":
        return httpx.Response(200, json={"model_file": "models/20240101-000000.tar.gz"})
    if path == "/model/parse":
        intent = {"name": "consulta_ruc", "confidence": 0.9}
        return httpx.Response(200, json={"intent": intent, "intent_ranking": [intent]})
    if path.endswith("/tracker/events") or request.method == "PUT":
        return httpx.Response(200, json={})
    if path == "/health" or request.method == "GET":
        return httpx.Response(200, json={"status": "ok"})
    sent = json.loads(request.content or b"{}")
    if isinstance(sent, dict) and ASKS_FOR_A_PERSON in str(sent.get("message")):
        handoff = {"reason": "pedido", "team": "orientacion", "intent": "pedir_humano",
                   "confidence": 0.98}  # fmt: skip
        return httpx.Response(200, json=[{"recipient_id": "x", "custom": {"handoff": handoff}}])
    return httpx.Response(200, json=[{"recipient_id": "x", "text": "Respuesta del asistente"}])


def document() -> dict[str, Any]:
    """The gateway's OpenAPI document, read at collection without starting anything (nor
    reading the environment)."""
    collecting = Settings.model_construct(
        rasa_token=SecretStr("collection-only-token-0123456789"), api_docs=True
    )
    return create_app(collecting).openapi()


@contextmanager
def disposable_gateway(tmp: Path) -> Iterator[FastAPI]:
    """The app under test, on its own database and copy of the project (the fuzzer uploads
    zips, edits articles and annotates training data), its lifespan started."""
    project = tmp / "project"
    project.mkdir()
    shutil.copy(ROOT / "domain.yml", project / "domain.yml")
    for folder in ("data/nlu", "data/rules", "data/knowledge"):
        shutil.copytree(ROOT / folder, project / folder)
    fuzzed = Settings(
        rasa_url=f"http://127.0.0.1:{free_port()}",
        action_server_url=f"http://127.0.0.1:{free_port()}",
        rasa_token="unit-test-token-0123456789",
        database_url=f"sqlite+aiosqlite:///{tmp / 'gateway.db'}",
        project_dir=project,
        knowledge_dir=project / "data" / "knowledge",
        limit_webchat_posts_per_session=GENEROUS,
        limit_webchat_posts_per_address=GENEROUS,
        limit_sessions_per_address=GENEROUS,
        limit_handoffs_per_conversation=GENEROUS,
        limit_callbacks_per_conversation=GENEROUS,
        limit_logins_per_address=GENEROUS,
        limit_logins_per_account=GENEROUS,
        # Each client schemathesis starts runs a lifespan of its own, and each would load the
        # 600 MB sentiment model for the seeded comments (tests/bot/listening cover it).
        listening_sentiment=False,
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(training_jobs, "engine_bin", lambda name: Path("/bin/false"))
        app = create_app(fuzzed, transport=httpx.MockTransport(rasa))
        app.state.fuzzed_database = fuzzed.database_url
        # Starts the lifespan, which schemathesis keeps for every call to this app.
        with get_client(app):  # type: ignore[arg-type]
            pass
        try:
            yield app
        finally:
            shutdown_lifespans()
            # schemathesis's ASGI clients run the app's lifespan on their own event loops and
            # drop them without closing what they held: collect that here, where the test
            # module's warning filter applies, not in whichever test runs next. The app outlives
            # its lifespan (its bus keeps the listeners of the desk it served), so what it held
            # is dropped first.
            app.state._state.clear()
            gc.collect()


#: Citizens of the web chat who asked for a person before the fuzzing starts.
SEEDED_HANDOFFS = 3


def seed(app: FastAPI) -> None:
    """Something behind every kind of id before the first fuzzed call, so that the generators'
    favourite ids (1 is every id's minimum) reach rows that exist and the routes past their "not
    found": handoffs asked for in the web chat (open hours and an account online: pending),
    tickets of those citizens, two events with a place taken, two comments from the fanpage, a
    model. Trainings, project versions, accounts and articles come from the fuzzed calls and the
    project's files."""
    database_url: str = app.state.fuzzed_database
    asyncio.run(create_account(database_url, "fuzz-desk", Role.ADMIN))
    client = get_client(app)  # type: ignore[arg-type]
    # Always open, with the desk's account online: the handoffs wait for an agent (pending).
    desk = _signed_in(client, "fuzz-desk")
    opened = client.put("/api/admin/office-hours", json={}, headers=desk)
    assert opened.status_code == 200, opened.text
    session = citizen_headers(app)
    for _ in range(SEEDED_HANDOFFS):
        asked = client.post(
            "/webhooks/webchat",
            json={"message": f"quiero hablar con un {ASKS_FOR_A_PERSON}"},
            headers=session(),
        )
        assert asked.status_code == 200, asked.text
    asyncio.run(_seed_rows(database_url))


async def _seed_rows(database_url: str) -> None:
    engine = create_engine(database_url)
    now = utcnow()
    try:
        conversations = [int(row) for row in await _scalars(engine, select(Conversation.id))]
        assert len(conversations) >= SEEDED_HANDOFFS, conversations
        handoffs = await _scalars(engine, select(HandoffRow.id))
        assert len(handoffs) == SEEDED_HANDOFFS, handoffs
        tickets = TicketStore(engine)
        for conversation_id, kind in zip(conversations, ("queja", "reclamo"), strict=False):
            await tickets.create(
                NewTicket(conversation_id, "webchat", kind, "Me atendieron mal en la agencia.",
                          None, "ciudadano@example.com", None),
                now, now + dt.timedelta(days=30),
            )  # fmt: skip
        events = EventStore(engine)
        for days in (10, 20):
            starts = now + dt.timedelta(days=days)
            event = await events.create(
                EventDraft("Charla: tu primer RUC", "charla", starts, None, "Lima", None, 5,
                           starts, "Cómo sacar el RUC."),
                None, now,
            )  # fmt: skip
            await events.sign_up(event.id, conversations[0], ("Ana", "999888777", None), now)
        comments = CommentStore(engine)
        for n in (1, 2):
            await comments.add(
                FeedComment(f"post_{n}", "add", "post", None, f"author-{n}", "Ana",
                            "¿Cómo saco mi RUC?", now),
                "¿Cómo saco mi RUC?",
            )  # fmt: skip
        await ModelRegistry(engine, Path("models")).record("fuzz.tar.gz", "fuzz", "fuzz", None)
    finally:
        await engine.dispose()


async def _scalars(engine: AsyncEngine, query: Any) -> list[Any]:
    async with engine.connect() as db:
        return list((await db.execute(query)).scalars())


class ConsoleSession:
    """A console session of one role, renewed when a fuzzed call ended it (a logout, a new
    password of its own account, a deactivation): each renewal signs in a new account."""

    def __init__(self, app: FastAPI, role: Role) -> None:
        self._client = get_client(app)  # type: ignore[arg-type]
        self._database_url: str = app.state.fuzzed_database
        self._role = role
        self._accounts = 0
        self._headers: dict[str, str] = {}

    def headers(self) -> dict[str, str]:
        if (
            not self._headers
            or self._client.get("/api/auth/me", headers=self._headers).status_code != 200
        ):
            self._headers = self._sign_in()
        return dict(self._headers)

    def _sign_in(self) -> dict[str, str]:
        self._accounts += 1
        username = f"fuzz-{self._role.value}-{self._accounts}"
        asyncio.run(create_account(self._database_url, username, self._role))
        return _signed_in(self._client, username)


def _signed_in(client: Any, username: str) -> dict[str, str]:
    """The headers of a new console session of ``username``."""
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {
        "Cookie": f"{COOKIE}={response.cookies[COOKIE]}",
        CSRF_HEADER: response.json()["csrf_token"],
    }


async def create_account(database_url: str, username: str, role: Role) -> None:
    engine = create_engine(database_url)
    try:
        await AgentDirectory(engine).create(username, PASSWORD, role, "Fuzz", None)
    finally:
        await engine.dispose()


def citizen_headers(app: FastAPI) -> Callable[[], dict[str, str]]:
    """A new web chat session for each call (a fuzzed call may end it): no account, only the
    cookie the chat page gets."""
    client = get_client(app)  # type: ignore[arg-type]

    def headers() -> dict[str, str]:
        started = client.post("/webchat/session", headers={"Origin": "http://testserver"})
        assert started.status_code == 201, started.text
        client.cookies.clear()
        return {"Cookie": f"{WEBCHAT_COOKIE}={started.cookies[WEBCHAT_COOKIE]}"}

    return headers
