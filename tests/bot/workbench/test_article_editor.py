"""The knowledge-base editor through the real app, on a copy of the articles: edits are live,
versions kept with author and time, bad edits refused with nothing written, an edit of an older
version refused (409, both texts shown) so no edit is lost, even when two arrive at once;
previews per channel with each platform's limits, overdue reviews flagged."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

from bot.accounts.agents import Role
from bot.ops.settings import Settings
from bot.web.app import create_app
from bot.web.deps import COOKIE, CSRF_HEADER
from bot.workbench.article_editor import KnowledgeEditor, StaleVersion, version_of

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "una-clave-larga-123"


@pytest.fixture()
def articles(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(ROOT / "data" / "knowledge", target)
    return target


@pytest.fixture()
def client(settings: Settings, articles: Path) -> Iterator[TestClient]:
    settings = settings.model_copy(update={"knowledge_dir": articles})
    app = create_app(settings, transport=httpx.MockTransport(lambda r: httpx.Response(503)))
    with TestClient(app) as test_client:
        test_client.portal.call(  # type: ignore[union-attr]
            app.state.desk.agents.create, "admin", PASSWORD, Role.ADMIN, "Admin", None
        )
        yield test_client


@pytest.fixture()
def admin(client: TestClient) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
    cookie = response.cookies[COOKIE]
    client.cookies.clear()
    return {"Cookie": f"{COOKIE}={cookie}", CSRF_HEADER: response.json()["csrf_token"]}


def current_version(client: TestClient, admin: dict[str, str], article_id: str) -> str:
    response = client.get(f"/api/admin/articles/{article_id}", headers=admin)
    assert response.status_code == 200, response.text
    found: str = response.json()["version"]
    return found


def test_an_edit_is_live_and_the_previous_version_kept(
    client: TestClient, admin: dict[str, str], articles: Path
) -> None:
    original = (articles / "ruc_costo.yml").read_text(encoding="utf-8")
    edit = {"answer": "Sacar el RUC es gratis.\nSe hace en línea con tu DNI.",
            "buttons": [{"title": "Cómo sacarlo", "payload": "/ruc_inscripcion_dni"}],
            "source": {"name": "SUNAT", "url": "https://www.gob.pe/7840"},
            "reviewed": "2026-11-28"}  # fmt: skip
    assert current_version(client, admin, "ruc_costo") == version_of(original)
    edit["version"] = version_of(original)
    response = client.put("/api/admin/articles/ruc_costo", json=edit, headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["answer"].startswith("Sacar el RUC es gratis.")
    assert body["version"] == version_of((articles / "ruc_costo.yml").read_text(encoding="utf-8"))
    assert body["buttons"] == edit["buttons"] and body["source"]["url"] == "https://www.gob.pe/7840"
    # The citizen gets the new answer at once: the gateway's knowledge base is already new.
    assert client.app.state.knowledge.current.require("ruc_costo").answer.startswith(  # type: ignore[attr-defined]
        "Sacar el RUC es gratis."
    )
    [version] = body["versions"]
    assert version["author"] == "admin"
    old = client.get(f"/api/admin/articles/ruc_costo/versions/{version['id']}", headers=admin)
    assert old.text == original
    saved = yaml.safe_load((articles / "ruc_costo.yml").read_text(encoding="utf-8"))
    assert saved["id"] == "ruc_costo" and saved["answer"].endswith("con tu DNI.\n")
    audit = client.get("/api/audit", headers=admin).json()
    assert audit[0]["action"] == "article_edited"


@pytest.mark.parametrize(
    ("edit", "status"),
    [({"source": {"name": "Blog", "url": "http://blog.pe"}}, 422),
     ({"answer": ""}, 422),
     ({"buttons": [{"title": f"b{i}", "payload": "/igv"} for i in range(4)]}, 422),
     ({"reviewed": "2026-02-30"}, 422),
     ({"reviewed": "2099-01-01"}, 422),
     ({"title": "x" * 41}, 422),
     ({"buttons": [{"title": "x" * 21, "payload": "/igv"}]}, 422)],
)  # fmt: skip
def test_bad_edits_are_refused_and_nothing_is_written(
    client: TestClient, admin: dict[str, str], articles: Path, edit: dict[str, object], status: int
) -> None:
    before = (articles / "igv.yml").read_text(encoding="utf-8")
    edit = {**edit, "version": version_of(before)}
    response = client.put("/api/admin/articles/igv", json=edit, headers=admin)
    assert response.status_code == status and response.json()["message"]
    assert (articles / "igv.yml").read_text(encoding="utf-8") == before


def test_an_edit_without_its_version_is_refused(
    client: TestClient, admin: dict[str, str], articles: Path
) -> None:
    before = (articles / "igv.yml").read_text(encoding="utf-8")
    response = client.put("/api/admin/articles/igv", json={"answer": "Otro."}, headers=admin)
    assert response.status_code == 422 and response.json()["error"] == "invalid_request"
    assert (articles / "igv.yml").read_text(encoding="utf-8") == before


def test_an_edit_of_an_older_version_is_refused_showing_both_texts(
    client: TestClient, admin: dict[str, str], articles: Path
) -> None:
    """Two admins open the article; the first saves; the second's save, made on the version
    both read, would silently undo the first: it is a 409 with the current text and the text
    sent, nothing written."""
    original = (articles / "igv.yml").read_text(encoding="utf-8")
    read = current_version(client, admin, "igv")
    first = {"version": read, "answer": "El IGV es 18% (primera edición)."}
    second = {"version": read, "answer": "El IGV es 18% (segunda edición)."}
    assert client.put("/api/admin/articles/igv", json=first, headers=admin).status_code == 200
    saved = (articles / "igv.yml").read_text(encoding="utf-8")
    stale = client.put("/api/admin/articles/igv", json=second, headers=admin)
    assert stale.status_code == 409, stale.text
    body = stale.json()
    assert body["error"] == "stale_version" and body["message"]
    assert body["current"]["answer"] == "El IGV es 18% (primera edición)."
    assert body["current"]["version"] == version_of(saved) != read
    assert body["sent"] == {"answer": "El IGV es 18% (segunda edición)."}
    assert (articles / "igv.yml").read_text(encoding="utf-8") == saved  # nothing written
    # The admin merges and saves on the current version: accepted; every text is kept.
    merged = {"version": body["current"]["version"], "answer": "El IGV es 18% (las dos)."}
    assert client.put("/api/admin/articles/igv", json=merged, headers=admin).status_code == 200
    shown = client.get("/api/admin/articles/igv", headers=admin).json()
    kept = [
        client.get(f"/api/admin/articles/igv/versions/{v['id']}", headers=admin).text
        for v in shown["versions"]
    ]
    assert kept == [saved, original]


def test_two_saves_at_once_on_one_version_one_wins_none_is_lost(
    client: TestClient, articles: Path
) -> None:
    """Both saves read the same version at the same moment: one is written, the other is
    refused with the text it would have overwritten; the original stays among the versions."""
    editor: KnowledgeEditor = client.app.state.knowledge_editor  # type: ignore[attr-defined]
    original = (articles / "igv.yml").read_text(encoding="utf-8")
    read = version_of(original)

    async def both() -> list[Any]:
        return await asyncio.gather(
            editor.save("igv", {"answer": "Texto de Ana."}, "ana", read),
            editor.save("igv", {"answer": "Texto de Luis."}, "luis", read),
            return_exceptions=True,
        )

    results = client.portal.call(both)  # type: ignore[union-attr]
    [written] = [r for r in results if isinstance(r, str)]
    [refused] = [r for r in results if isinstance(r, Exception)]
    assert isinstance(refused, StaleVersion), refused
    now = (articles / "igv.yml").read_text(encoding="utf-8")
    assert now == written and refused.current == now
    assert ("Texto de Ana." in now) != ("Texto de Luis." in now)
    versions = client.portal.call(editor.versions, "igv")  # type: ignore[union-attr]
    assert [v.content for v in versions] == [original]


def test_unknown_articles(client: TestClient, admin: dict[str, str]) -> None:
    missing = client.put("/api/admin/articles/no_existe", json={"version": "x"}, headers=admin)
    assert missing.status_code == 404
    assert client.get("/api/admin/articles/..%2Fdomain", headers=admin).status_code == 404


def test_preview_per_channel_with_limits(client: TestClient, admin: dict[str, str]) -> None:
    long = "Una oración larga sobre el RUC. " * 80  # about 2,500 characters
    body = {"answer": long, "buttons": [{"title": "Un título de botón muy largo", "payload": "/x"}]}
    shown = client.post("/api/admin/articles/preview", json=body, headers=admin).json()
    messenger = shown["channels"]["messenger"]
    assert len(messenger) == 2 and all(len(m.get("text", "")) <= 2000 for m in messenger[:1])
    assert any("2000" in w for w in shown["warnings"]["messenger"])
    assert any("recortado" in w for w in shown["warnings"]["whatsapp"])
    assert shown["warnings"]["webchat"] == []


def test_overdue_reviews_are_flagged(client: TestClient, admin: dict[str, str]) -> None:
    edit = {"reviewed": "2024-01-15", "version": current_version(client, admin, "uit")}
    assert client.put("/api/admin/articles/uit", json=edit, headers=admin).status_code == 200
    listed = {a["id"]: a for a in client.get("/api/admin/articles", headers=admin).json()}
    assert listed["uit"]["overdue"] is True and listed["igv"]["overdue"] is False
