"""The gateway as a whole: security headers on every kind of answer, the framing policy of the
web chat page, the OpenAPI pages by setting, ``/admin``, and uploads that must be signed in
before a byte of their body is read."""

from __future__ import annotations

import functools
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Message

from bot.accounts.agents import Role
from bot.ops.settings import Settings
from bot.web.app import MAX_BODY_BYTES, UPLOAD_MAX_BODY_BYTES, create_app
from bot.web.deps import COOKIE, CSRF_HEADER

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "una-clave-larga-123"
EMBEDDING_SITES = ["https://www.sunat.gob.pe", "https://orientacion.sunat.gob.pe:8443"]


def rasa(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=[{"recipient_id": "x", "text": "hola"}])


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(ROOT / "domain.yml", root / "domain.yml")
    for folder in ("data/nlu", "data/rules", "data/knowledge"):
        shutil.copytree(ROOT / folder, root / folder)
    return root


def start(settings: Settings, **changes: object) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update=changes), transport=httpx.MockTransport(rasa))
    with TestClient(app) as client:
        for name, role in (("admin", Role.ADMIN), ("ana", Role.AGENT)):
            client.portal.call(  # type: ignore[union-attr]
                app.state.desk.agents.create, name, PASSWORD, role, name.title(), None
            )
        yield client


@pytest.fixture()
def client(settings: Settings, project: Path) -> Iterator[TestClient]:
    yield from start(
        settings,
        project_dir=project,
        knowledge_dir=project / "data" / "knowledge",
        webchat_allowed_origins=EMBEDDING_SITES,
    )


def session(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    cookie = response.cookies[COOKIE]
    client.cookies.clear()
    return {"Cookie": f"{COOKIE}={cookie}", CSRF_HEADER: response.json()["csrf_token"]}


def directives(response: httpx.Response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    found = {}
    for directive in policy.split(";"):
        name, _, value = directive.strip().partition(" ")
        found[name] = value
    return found


# --- security headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/agent", "text/html"),  # the console
        ("/api/auth/me", "application/json"),  # 401
        ("/api/no-existe", "application/json"),  # 404
        ("/agent/static/console.js", "javascript"),
        ("/static/webchat.css", "text/css"),
    ],
)
def test_every_answer_carries_the_security_headers(
    client: TestClient, path: str, kind: str
) -> None:
    response = client.get(path)
    assert kind in response.headers["content-type"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    policy = directives(response)
    assert policy["frame-ancestors"] == "'none'"
    # No inline script or style anywhere: only the gateway's own files.
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["default-src"] == "'self'"
    # Plain HTTP in development: no HSTS (a browser would refuse http://localhost for a year).
    assert "strict-transport-security" not in response.headers


def test_refusals_of_the_size_limit_carry_them_too(client: TestClient) -> None:
    response = client.post("/webhooks/webchat", content=b"x" * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert response.headers["x-content-type-options"] == "nosniff"
    assert directives(response)["frame-ancestors"] == "'none'"


def test_the_web_chat_page_may_be_framed_by_the_allowed_sites_only(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert directives(page)["frame-ancestors"] == "'self' " + " ".join(EMBEDDING_SITES)
    assert directives(page)["script-src"] == "'self'"
    # X-Frame-Options cannot list sites: it would forbid the embedding CSP allows.
    assert "x-frame-options" not in page.headers
    assert page.headers["x-content-type-options"] == "nosniff"


def test_without_allowed_sites_the_chat_page_is_framed_by_the_gateway_only(
    settings: Settings,
) -> None:
    for client in start(settings):
        assert directives(client.get("/"))["frame-ancestors"] == "'self'"


def test_embed_js_is_loadable_by_other_sites(client: TestClient) -> None:
    script = client.get("/static/embed.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert script.headers["cross-origin-resource-policy"] == "cross-origin"
    assert script.headers["x-content-type-options"] == "nosniff"
    assert client.get("/agent").headers["cross-origin-resource-policy"] == "same-origin"


def test_https_deployments_send_hsts(settings: Settings) -> None:
    for client in start(settings, secure_cookies=True):
        for path in ("/", "/agent", "/api/auth/me", "/static/embed.js"):
            hsts = client.get(path).headers["strict-transport-security"]
            assert hsts.startswith("max-age=") and int(hsts.split("=")[1]) >= 180 * 24 * 3600


def test_a_bad_embedding_origin_stops_start_up(settings: Settings) -> None:
    bad = settings.model_copy(update={"webchat_allowed_origins": ["https://a.pe; script-src *"]})
    with pytest.raises(ValueError, match="WEBCHAT_ALLOWED_ORIGINS"), TestClient(create_app(bad)):
        pass


# --- the OpenAPI pages --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "served"),
    [
        ({}, True),  # development
        ({"api_docs": False}, False),
        ({"environment": "production", "secure_cookies": True}, False),
        ({"environment": "production", "secure_cookies": True, "api_docs": True}, True),
    ],
)
def test_api_docs_only_when_enabled(
    settings: Settings, changes: dict[str, object], served: bool
) -> None:
    for client in start(settings, **changes):
        for path in ("/docs", "/redoc", "/openapi.json"):
            response = client.get(path)
            if served:
                assert response.status_code == 200, path
            else:
                assert response.status_code == 404, path
                assert response.json()["error"] == "not_found"
                assert response.json()["message"] == "No encontramos lo que buscas."
        if served:
            assert "/api/admin/users" in client.get("/openapi.json").json()["paths"]
            # Swagger UI's CDN assets and start-up script, on its own page only.
            assert "https://cdn.jsdelivr.net" in directives(client.get("/docs"))["script-src"]


# --- /admin -------------------------------------------------------------------------------------


def test_admin_opens_the_workbench_tab_of_the_console(client: TestClient) -> None:
    response = client.get("/admin", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/agent#admin"
    assert client.get("/admin").status_code == 200  # the console page


# --- uploads: signed in before the body is read --------------------------------------------------


async def send_partly(app: FastAPI, headers: list[tuple[bytes, bytes]]) -> list[Message]:
    """A PUT of the project that declares 10 MiB and sends 2 bytes, then nothing, ever."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "PUT",
        "scheme": "http", "path": "/api/admin/project.zip", "raw_path": b"/api/admin/project.zip",
        "root_path": "", "query_string": b"", "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/zip"),
                    (b"content-length", str(UPLOAD_MAX_BODY_BYTES).encode()), *headers],
    }  # fmt: skip
    sent: list[Message] = []
    first = True
    never = anyio.Event()

    async def receive() -> Message:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"PK", "more_body": True}
        await never.wait()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    with anyio.fail_after(5):
        await app(scope, receive, send)
    return sent


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [(None, 401, "not_logged_in"), ("ana", 403, "forbidden"), ("forged", 401, "not_logged_in")],
)
def test_an_upload_not_from_an_administrator_is_refused_before_its_body(
    client: TestClient, who: str | None, status: int, code: str
) -> None:
    headers: list[tuple[bytes, bytes]] = []
    if who == "forged":
        headers = [(b"cookie", f"{COOKIE}=not-a-session".encode())]
    elif who is not None:
        headers = [(k.lower().encode(), v.encode()) for k, v in session(client, who).items()]
    began = time.monotonic()
    app: FastAPI = client.app  # type: ignore[assignment]
    sent = client.portal.call(functools.partial(send_partly, app, headers))  # type: ignore[union-attr]
    assert time.monotonic() - began < 2  # answered without waiting for the 10 MiB
    assert sent[0]["status"] == status
    assert f'"error":"{code}"'.encode() in sent[1]["body"]


def test_an_administrator_uploads_more_than_the_normal_limit(client: TestClient) -> None:
    admin = session(client, "admin")
    exported = client.get("/api/admin/project.zip", headers=admin)
    assert exported.status_code == 200
    # Well over the 64 KiB every other route accepts.
    assert len(exported.content) > MAX_BODY_BYTES
    uploaded = client.put(
        "/api/admin/project.zip",
        content=exported.content,
        headers={**admin, "Content-Type": "application/zip"},
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["written"]


def test_not_even_an_administrator_uploads_more_than_10_mib(client: TestClient) -> None:
    admin = session(client, "admin")
    too_big = client.put(
        "/api/admin/project.zip",
        content=b"x" * (UPLOAD_MAX_BODY_BYTES + 1),
        headers={**admin, "Content-Type": "application/zip"},
    )
    assert too_big.status_code == 413
    assert too_big.json()["error"] == "body_too_large"
    assert too_big.json()["message"] == "Tu mensaje es demasiado grande."
