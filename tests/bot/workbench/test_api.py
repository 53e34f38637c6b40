"""The review inbox through the real app: grouping, masking (the group key and the search
included), current predictions, annotation into the training files of a copy of the project
with placeholders for personal data, roles and bad input; the project zip: bad zips and files
Rasa would refuse are a 400 naming them, an upload keeps the previous project as a version
(restorable, atomically) and every changed article's previous text, a failed write changes
nothing."""

from __future__ import annotations

import io
import json
import shutil
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

from bot.accounts.agents import Role
from bot.conversation.channel import InboundMessage
from bot.ops.settings import Settings
from bot.web.app import create_app
from bot.web.deps import COOKIE, CSRF_HEADER

ROOT = Path(__file__).resolve().parents[3]
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
        for sender, text in said:  # recorded as any channel's message is
            test_client.portal.call(  # type: ignore[union-attr]
                app.state.conversations.handle, InboundMessage("webchat", sender, text)
            )
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


def test_neither_the_group_key_nor_the_search_reveals_personal_data(client: TestClient) -> None:
    admin = session(client, "admin")
    groups = inbox(client, admin)["groups"]
    shown = json.dumps(groups)
    for secret in ("20100070970", "20100070971", "ana@correo.pe", "ana correo pe", "0070970"):
        assert secret not in shown, secret
    assert groups[1]["key"] == "me escribio un ejecutor coactivo a correo ejemplo com"
    # Searching for a RUC or an e-mail does not tell whether someone wrote it.
    for query in ("20100070970", "ana@correo.pe", "correo.pe", "ana"):
        assert inbox(client, admin, q=query)["groups"] == [], query
    # What is shown can be searched: the masked text.
    assert inbox(client, admin, q="20*****0970")["groups"][0]["count"] == 1


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
    # One example per distinct text (the two near duplicates teach one), the RUC a placeholder.
    assert consultas.count("no sale en la consulta") == 1
    assert "- mi RUC 20123456786 no sale en la consulta\n" in consultas
    assert "20100070970" not in consultas and "20100070971" not in consultas
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
    new_topics = (project / "data/nlu/nuevos_temas.yml").read_text(encoding="utf-8")
    assert "- me escribió un ejecutor coactivo a correo@ejemplo.com\n" in new_topics
    assert "ana@correo.pe" not in new_topics
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
    assert bad.status_code == 400 and bad.json()["error"] == "not_a_zip"
    uploaded = client.put("/api/admin/project.zip", content=download.content, headers=zip_type)
    assert uploaded.status_code == 200 and "domain.yml" in uploaded.json()["written"]
    # Nothing changed: no version kept.
    assert uploaded.json()["changed"] == [] and uploaded.json()["version"] is None
    for path in (
        "/api/admin/project/versions",
        "/api/admin/project/versions/20260101-000000-000000.zip",
    ):
        assert client.get(path, headers=ana).status_code == 403
    restore = "/api/admin/project/versions/20260101-000000-000000/restore"
    assert client.post(restore, headers=ana).status_code == 403


def tree(root: Path) -> dict[str, bytes]:
    """Every file of the project (leftovers included) with its bytes; kept versions apart."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "var" not in p.relative_to(root).parts
    }


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def lying_about_its_size(data: bytes) -> bytes:
    changed = bytearray(data)
    struct.pack_into("<I", changed, changed.find(b"PK\x01\x02") + 24, 5)
    struct.pack_into("<I", changed, changed.find(b"PK\x03\x04") + 22, 5)
    return bytes(changed)


@pytest.mark.parametrize(
    ("content", "named", "problem"),
    [(zipped({"data/nlu/x.yml": "nlu: 5"}), "data/nlu/x.yml", "«nlu» debe ser una lista"),
     (zipped({"domain.yml": "intents: {a: 1}"}), "domain.yml", "«intents» debe ser una lista"),
     (zipped({"data/rules/x.yml": "rules:\n- steps: []\n"}), "data/rules/x.yml", "no tiene «rule»"),
     (lying_about_its_size(zipped({"data/nlu/x.yml": "nlu: []\n" * 100})), "data/nlu/x.yml",
      "el .zip está dañado")],
)  # fmt: skip
def test_bad_uploads_are_a_400_naming_the_file(
    client: TestClient, project: Path, content: bytes, named: str, problem: str
) -> None:
    admin = session(client, "admin")
    before = tree(project)
    response = client.put(
        "/api/admin/project.zip", content=content,
        headers={**admin, "Content-Type": "application/zip"},
    )  # fmt: skip
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_archive" and named in body["message"]
    assert any(p.startswith(f"{named}: ") and problem in p for p in body["problems"]), body
    assert tree(project) == before
    assert client.get("/api/admin/project/versions", headers=admin).json() == []


def edited_project(project: Path) -> bytes:
    """The IGV article and an NLU file changed, a new rules file."""
    igv = (project / "data/knowledge/igv.yml").read_text(encoding="utf-8")
    consultas = (project / "data/nlu/consultas.yml").read_text(encoding="utf-8")
    return zipped({
        "data/knowledge/igv.yml": igv.replace("reviewed:", "# subido\nreviewed:"),
        "data/nlu/consultas.yml": consultas + "# subido\n",
        "data/rules/nuevo.yml": "rules: []\n",
    })  # fmt: skip


def test_an_upload_keeps_every_version_and_is_restored(client: TestClient, project: Path) -> None:
    admin = session(client, "admin")
    zip_type = {**admin, "Content-Type": "application/zip"}
    original = tree(project)
    igv_before = original["data/knowledge/igv.yml"].decode()
    read = client.get("/api/admin/articles/igv", headers=admin).json()["version"]

    uploaded = client.put(
        "/api/admin/project.zip", content=edited_project(project), headers=zip_type
    )
    assert uploaded.status_code == 200, uploaded.text
    body = uploaded.json()
    assert body["changed"] == ["data/knowledge/igv.yml", "data/nlu/consultas.yml",
                               "data/rules/nuevo.yml"]  # fmt: skip
    kept = body["version"]
    assert kept["author"] == "admin" and kept["files"] == len(original)
    # The article it changed keeps its previous text, and an edit made before is now stale.
    article = client.get("/api/admin/articles/igv", headers=admin).json()
    [version] = article["versions"]
    assert version["author"] == "admin"
    old = client.get(f"/api/admin/articles/igv/versions/{version['id']}", headers=admin)
    assert old.text == igv_before
    stale = client.put("/api/admin/articles/igv", json={"version": read, "answer": "Otra."},
                       headers=admin)  # fmt: skip
    assert stale.status_code == 409 and "# subido" not in stale.json()["current"]["answer"]
    # The previous project is listed and downloadable as it was.
    assert [v["id"] for v in client.get("/api/admin/project/versions", headers=admin).json()] == [
        kept["id"]
    ]
    download = client.get(f"/api/admin/project/versions/{kept['id']}.zip", headers=admin)
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.content)) as zf:
        assert {n: zf.read(n) for n in zf.namelist()} == original
    after_upload = tree(project)

    restored = client.post(f"/api/admin/project/versions/{kept['id']}/restore", headers=admin)
    assert restored.status_code == 200, restored.text
    assert tree(project) == original  # exactly: the new rules file is gone
    assert "data/rules/nuevo.yml" in restored.json()["changed"]
    assert client.app.state.knowledge.current.require("igv").answer  # type: ignore[attr-defined]
    # The restore kept what it replaced: the upload can be brought back.
    again = restored.json()["version"]["id"]
    assert (
        client.post(f"/api/admin/project/versions/{again}/restore", headers=admin).status_code
        == 200
    )
    assert tree(project) == after_upload
    actions = [a["action"] for a in client.get("/api/audit", headers=admin).json()]
    assert actions[:3] == ["project_restored", "project_restored", "project_uploaded"]
    unknown = "/api/admin/project/versions/20260101-000000-000000/restore"
    assert client.post(unknown, headers=admin).status_code == 404
    invalid = client.post("/api/admin/project/versions/..%2F..%2Fx/restore", headers=admin)
    assert invalid.status_code in (404, 422) and invalid.json()["error"]


def test_a_failure_while_writing_an_upload_changes_nothing(
    client: TestClient, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = session(client, "admin")
    before = tree(project)
    content = edited_project(project)
    real_replace = Path.replace
    calls = {"n": 0}

    def replace(self: Path, target: Path) -> Path:  # type: ignore[override]
        calls["n"] += 1  # 1: the version kept; then the swaps: the fourth rename fails
        if calls["n"] == 4:
            raise OSError(5, "Input/output error")
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", replace)
    response = client.put(
        "/api/admin/project.zip", content=content,
        headers={**admin, "Content-Type": "application/zip"},
    )  # fmt: skip
    monkeypatch.undo()
    assert calls["n"] >= 4
    assert response.status_code == 500 and response.json()["error"] == "write_failed"
    assert tree(project) == before  # byte for byte, no leftovers
    assert client.get("/api/admin/project/versions", headers=admin).json() == []
    assert client.get("/api/admin/articles/igv", headers=admin).json()["versions"] == []
