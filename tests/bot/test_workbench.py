"""The review inbox through the real app: grouping, masking, current predictions, annotation
into the training files of a copy of the project, roles and bad input."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

from bot.agents import Role
from bot.app import create_app
from bot.console import COOKIE, CSRF_HEADER
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "una-clave-larga-123"


def engine(request: httpx.Request) -> httpx.Response:
    """Rasa: every message is a clarification; parsing guesses ``consulta_ruc``."""
    if request.url.path == "/model/parse":
        ranking = [{"name": "consulta_ruc", "confidence": 0.61}, {"name": "ruc_que_es",
                   "confidence": 0.2}]  # fmt: skip
        return httpx.Response(200, json={"intent": ranking[0], "intent_ranking": ranking})
    guesses = [
        {"name": "nlu_fallback", "confidence": 0.7},
        {"name": "ruc_que_es", "confidence": 0.3},
    ]
    report = {"intents": guesses, "offered": ["/ruc_que_es"]}
    return httpx.Response(200, json=[{"recipient_id": "x", "text": "¿Quisiste decir…?",
                                      "custom": {"clarification": report}}])  # fmt: skip


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(ROOT / "domain.yml", root / "domain.yml")
    for folder in ("data/nlu", "data/rules", "data/knowledge"):
        shutil.copytree(ROOT / folder, root / folder)
    return root


@pytest.fixture()
def client(settings: Settings, project: Path) -> Iterator[TestClient]:
    settings = settings.model_copy(
        update={"project_dir": project, "knowledge_dir": project / "data" / "knowledge"}
    )
    app = create_app(settings, transport=httpx.MockTransport(engine))
    with TestClient(app) as test_client:
        for name, role in (("admin", Role.ADMIN), ("ana", Role.AGENT)):
            test_client.portal.call(  # type: ignore[union-attr]
                app.state.desk.agents.create, name, PASSWORD, role, name.title(), None
            )
        said = [("a", "mi RUC 20100070970 no sale en la consulta"),
                ("b", "Mi ruc 20100070971 no sale en la consulta!!"),
                ("c", "me escribió un ejecutor coactivo a ana@correo.pe")]  # fmt: skip
        for sender, text in said:
            test_client.post("/webhooks/webchat", json={"sender": sender, "message": text})
        yield test_client


def session(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    cookie = response.cookies[COOKIE]
    client.cookies.clear()
    return {"Cookie": f"{COOKIE}={cookie}", CSRF_HEADER: response.json()["csrf_token"]}


def inbox(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get("/api/admin/inbox", params=params, headers=headers)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def test_groups_masked_with_predictions(client: TestClient) -> None:
    admin = session(client, "admin")
    groups = inbox(client, admin)["groups"]
    assert [g["count"] for g in groups] == [2, 1]
    ruc, coactivo = groups
    assert "20*****0970" in ruc["text"] or "20*****0971" in ruc["text"]
    assert "20100070970" not in json.dumps(groups) and "ana@correo.pe" not in json.dumps(groups)
    assert coactivo["text"] == "me escribió un ejecutor coactivo a a***@***"
    assert ruc["predicted"][0] == {"name": "consulta_ruc", "confidence": 0.61}
    assert ruc["guessed"][0]["name"] == "nlu_fallback" and ruc["channels"] == ["webchat"]
    shown = inbox(client, admin, show_personal_data=True)["groups"]
    assert "ana@correo.pe" in shown[1]["text"]
    audit = client.get("/api/audit", headers=admin).json()
    assert audit[0]["action"] == "inbox_personal_data_shown"
    assert inbox(client, admin, q="coactivo")["groups"][0]["count"] == 1


def test_annotating_writes_the_training_files(client: TestClient, project: Path) -> None:
    admin = session(client, "admin")
    ruc = inbox(client, admin)["groups"][0]
    done = client.post(
        "/api/admin/inbox/annotate", headers=admin,
        json={"items": ruc["items"], "action": "intent", "intent": "consulta_ruc"},
    )  # fmt: skip
    assert done.status_code == 200, done.text
    assert done.json()["decided"] == 2
    consultas = (project / "data/nlu/consultas.yml").read_text(encoding="utf-8")
    # One example per distinct text (the two near duplicates teach one).
    assert consultas.count("no sale en la consulta") == 1
    assert [g["count"] for g in inbox(client, admin)["groups"]] == [1]
    assert inbox(client, admin, status="annotated")["groups"][0]["count"] == 2


def test_a_new_intent_from_the_inbox(client: TestClient, project: Path) -> None:
    admin = session(client, "admin")
    coactivo = inbox(client, admin)["groups"][1]
    body = {"items": coactivo["items"], "intent": "constancia_no_adeudo", "title": "Cobranza",
            "answer": "Texto", "source_url": "http://no-oficial.pe",
            "extra_examples": ["certificado de no adeudo con sunat"]}  # fmt: skip
    refused = client.post("/api/admin/inbox/new-intent", headers=admin, json=body)
    assert refused.status_code == 422 and refused.json()["error"] == "invalid_source"
    body["source_url"] = "https://www.gob.pe/sunat"
    created = client.post("/api/admin/inbox/new-intent", headers=admin, json=body)
    assert created.status_code == 201, created.text
    assert created.json() == {"intent": "constancia_no_adeudo", "examples": 2, "decided": 1}
    domain = yaml.safe_load((project / "domain.yml").read_text(encoding="utf-8"))
    assert "constancia_no_adeudo" in domain["intents"]
    assert (project / "data/knowledge/constancia_no_adeudo.yml").exists()
    names = [i["name"] for i in client.get("/api/admin/intents", headers=admin).json()]
    assert "constancia_no_adeudo" in names


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [({"action": "intent", "intent": "con espacios"}, 422, "invalid_intent"),
     ({"action": "intent", "intent": "intención"}, 422, "invalid_intent"),
     ({"action": "intent", "intent": "no_existe"}, 422, "unknown_intent"),
     ({"action": "intent"}, 422, "missing_intent"),
     ({"action": "borrar"}, 422, "invalid_request")],
)  # fmt: skip
def test_bad_annotations_change_nothing(
    client: TestClient, project: Path, body: dict[str, Any], status: int, code: str
) -> None:
    admin = session(client, "admin")
    before = (project / "data/nlu/consultas.yml").read_text(encoding="utf-8")
    items = inbox(client, admin)["groups"][0]["items"]
    response = client.post("/api/admin/inbox/annotate", headers=admin,
                           json={"items": items, **body})  # fmt: skip
    assert response.status_code == status and response.json()["error"] == code
    assert response.json()["message"]
    assert (project / "data/nlu/consultas.yml").read_text(encoding="utf-8") == before
    assert inbox(client, admin)["groups"][0]["count"] == 2


def test_spam_and_dismiss_and_roles(client: TestClient) -> None:
    admin, ana = session(client, "admin"), session(client, "ana")
    assert client.get("/api/admin/inbox", headers=ana).status_code == 403
    groups = inbox(client, admin)["groups"]
    for group, action in zip(groups, ("spam", "dismiss"), strict=True):
        response = client.post("/api/admin/inbox/annotate", headers=admin,
                               json={"items": group["items"], "action": action})  # fmt: skip
        assert response.status_code == 200
    assert inbox(client, admin)["groups"] == []
    assert inbox(client, admin)["counts"] == {"spam": 2, "dismissed": 1}


def test_the_project_as_a_zip(client: TestClient, project: Path) -> None:
    admin, ana = session(client, "admin"), session(client, "ana")
    assert client.get("/api/admin/project.zip", headers=ana).status_code == 403
    download = client.get("/api/admin/project.zip", headers=admin)
    assert download.headers["content-type"] == "application/zip"
    zip_type = {**admin, "Content-Type": "application/zip"}
    bad = client.put("/api/admin/project.zip", content=b"no es zip", headers=zip_type)
    assert bad.status_code == 422 and bad.json()["error"] == "not_a_zip"
    uploaded = client.put("/api/admin/project.zip", content=download.content, headers=zip_type)
    assert uploaded.status_code == 200 and "domain.yml" in uploaded.json()["written"]
