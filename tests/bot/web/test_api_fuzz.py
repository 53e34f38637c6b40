"""Every operation of the gateway's OpenAPI document, fuzzed with schemathesis (valid and invalid
parameters and bodies) three times: anonymously, as a citizen holding a web chat session, and
signed in to the console as an administrator. Whatever a caller sends, the answer is never a
server error (5xx).

A failure names the operation and the smallest example found (with a ``curl`` line to replay
it). The schemathesis pytest integration's ``from_fixture`` does not work with pytest 9
(``request.node._nodeid``), so the document is read at collection from an app that is never
started, and every call goes to the module's app (``app=``).

Reproducible (``derandomize``: the same examples on every run) and bounded (``MAX_EXAMPLES`` per
operation and mode, plus schemathesis's boundary-value cases), so it runs in ``make test``'s unit
stage. The engine is a fake (Rasa answers through an ``httpx.MockTransport``) and trainings
queued by the fuzzer fail at once (``rasa`` is ``/bin/false`` here): nothing outside the process
is started.
"""

from __future__ import annotations

import asyncio
import gc
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from pydantic import SecretStr
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import get_client, shutdown_lifespans

from bot.accounts.agents import AgentDirectory, Role
from bot.ops.processes import free_port
from bot.ops.settings import Settings
from bot.storage.database import create_engine
from bot.web.app import create_app
from bot.web.deps import COOKIE, CSRF_HEADER
from bot.workbench import training_jobs
from connectors.webchat_access import COOKIE as WEBCHAT_COOKIE

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "una-clave-larga-123"
MAX_EXAMPLES = 20
#: Without any session most operations stop at 401: fewer examples find what there is to find.
ANONYMOUS_EXAMPLES = 10
#: Limits high enough that the fuzzer reaches what is behind them (429 is not what is tested).
GENEROUS = "100000/minute"

#: Not fuzzed in-process:
#: - ``GET /webchat/stream``: server-sent events stay open until the client leaves, so every
#:   in-process call would last until the read timeout (tests/connectors/test_webchat.py covers
#:   it); the console's WebSocket is not an OpenAPI operation at all.
EXCLUDED_PATHS = ("/webchat/stream",)

#: aiosqlite warns about connections of the lifespans schemathesis's clients start and never
#: close (see the ``gateway`` fixture); the gateway's own tests check its connections are closed.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def rasa(request: httpx.Request) -> httpx.Response:
    """The engine and the action server: healthy, with a model, answering every message."""
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
    return httpx.Response(200, json=[{"recipient_id": "x", "text": "Respuesta del asistente"}])


class AdminSession:
    """An administrator's console session, renewed when a fuzzed call ended it (a logout, a
    new password of its own account): each renewal signs in a new administrator."""

    def __init__(self, app: FastAPI, database_url: str) -> None:
        self._client = get_client(app)  # type: ignore[arg-type]
        self._database_url = database_url
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
        username = f"fuzz-admin-{self._accounts}"
        asyncio.run(create_admin(self._database_url, username))
        response = self._client.post(
            "/api/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        self._client.cookies.clear()
        return {
            "Cookie": f"{COOKIE}={response.cookies[COOKIE]}",
            CSRF_HEADER: response.json()["csrf_token"],
        }


async def create_admin(database_url: str, username: str) -> None:
    engine = create_engine(database_url)
    try:
        await AgentDirectory(engine).create(username, PASSWORD, Role.ADMIN, "Fuzz", None)
    finally:
        await engine.dispose()


def document() -> dict[str, Any]:
    """The gateway's OpenAPI document, read at collection without starting anything (nor
    reading the environment): one test per operation."""
    collecting = Settings.model_construct(
        rasa_token=SecretStr("collection-only-token-0123456789"), api_docs=True
    )
    return create_app(collecting).openapi()


schema = schemathesis.openapi.from_dict(document()).exclude(path=list(EXCLUDED_PATHS))
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
FUZZ_ANONYMOUS = settings(FUZZ, max_examples=ANONYMOUS_EXAMPLES)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The app under test, on its own database and copy of the project (the fuzzer uploads
    zips, edits articles and annotates training data)."""
    tmp = tmp_path_factory.mktemp("fuzz")
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
            # drop them without closing what they held: collect that here, where the module's
            # warning filter applies, not in whichever test runs next. The app outlives its
            # lifespan (its bus keeps the listeners of the desk it served), so what it held is
            # dropped first.
            app.state._state.clear()
            gc.collect()


@pytest.fixture(scope="module")
def admin(gateway: FastAPI) -> AdminSession:
    return AdminSession(gateway, gateway.state.fuzzed_database)


@pytest.fixture(scope="module")
def citizen(gateway: FastAPI) -> Callable[[], dict[str, str]]:
    """A new web chat session for each call (a fuzzed call may end it): no account, only the
    cookie the chat page gets."""
    client = get_client(gateway)  # type: ignore[arg-type]

    def headers() -> dict[str, str]:
        started = client.post("/webchat/session", headers={"Origin": "http://testserver"})
        assert started.status_code == 201, started.text
        client.cookies.clear()
        return {"Cookie": f"{WEBCHAT_COOKIE}={started.cookies[WEBCHAT_COOKIE]}"}

    return headers


@schema.parametrize()
@FUZZ_ANONYMOUS
def test_anonymous_callers_get_no_server_error(case: Case[Any], gateway: FastAPI) -> None:
    case.call_and_validate(app=gateway, checks=[not_a_server_error])


@schema.parametrize()
@FUZZ
def test_a_citizen_in_the_web_chat_gets_no_server_error(
    case: Case[Any], gateway: FastAPI, citizen: Callable[[], dict[str, str]]
) -> None:
    case.call_and_validate(app=gateway, headers=citizen(), checks=[not_a_server_error])


@schema.parametrize()
@FUZZ
def test_an_administrator_gets_no_server_error(
    case: Case[Any], gateway: FastAPI, admin: AdminSession
) -> None:
    case.call_and_validate(app=gateway, headers=admin.headers(), checks=[not_a_server_error])
