from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path

import pytest
import yaml

from bot.knowledge.articles import (
    SYSTEM_ARTICLES,
    KnowledgeError,
    KnowledgeStore,
    load_knowledge,
    parse_article,
)

ROOT = Path(__file__).resolve().parents[3]
KNOWLEDGE = ROOT / "data" / "knowledge"
GOOD = {
    "id": "prueba",
    "title": "Prueba",
    "answer": "Una respuesta.",
    "buttons": [{"title": "Ver IGV", "payload": "/igv"}],
    "source": {"name": "SUNAT", "url": "https://www.gob.pe/sunat"},
    "reviewed": "2026-11-01",
    "tags": ["x"],
}


@pytest.fixture()
def kb_dir(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


def write(directory: Path, article_id: str, data: dict[str, object]) -> Path:
    path = directory / f"{article_id}.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_an_answer_may_start_with_si_or_no_as_words() -> None:
    for answer in ("Si emites una boleta…", "No puedes estar en el Nuevo RUS si…", "Sin RUC…"):
        assert parse_article({**GOOD, "answer": answer}, Path("prueba.yml")).answer == answer


def test_shipped_knowledge_base_is_valid_sourced_and_reviewed() -> None:
    kb = load_knowledge(KNOWLEDGE)
    assert len(kb) >= 120
    for article in kb.articles:
        assert article.source.url.startswith("https://")
        assert article.reviewed <= dt.date.today()
    assert all(a in kb for a in SYSTEM_ARTICLES)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"answer": ""}, "answer"),
        ({"answer": "x" * 1001}, "answer"),
        ({"title": "t" * 41}, "title"),
        ({"id": "otro"}, "id"),
        ({"source": {"name": "SUNAT", "url": "http://inseguro.example"}}, "source.url"),
        ({"source": {"url": "https://www.gob.pe/sunat"}}, "source.name"),
        ({"reviewed": "ayer"}, "reviewed"),
        ({"reviewed": "2999-01-01"}, "reviewed"),
        (
            {"buttons": [{"title": "Un título demasiado largo", "payload": "/igv"}]},
            "buttons[0].title",
        ),
        ({"buttons": [{"title": "IGV", "payload": "igv"}]}, "buttons[0].payload"),
        ({"buttons": [{"title": "a", "payload": "/a"}] * 4}, "buttons"),
        ({"respuesta": "campo mal escrito"}, "respuesta"),
        ({"variants": {"telegram": "hola"}}, "variants.telegram"),
        ({"variants": {"whatsapp": "x" * 1001}}, "variants.whatsapp"),
        ({"variants": "solo texto"}, "variants"),
        ({"templates": {"suma": "Total: {total"}}, "templates.suma"),
        ({"answer": "No. Tu clave es tuya."}, "answer"),
        ({"answer": "Sí, puedes hacerlo."}, "answer"),
        ({"answer": "*NO*: nunca."}, "answer"),
        ({"variants": {"whatsapp": "si. puedes"}}, "variants.whatsapp"),
    ],
)
def test_bad_article_is_an_error_naming_file_and_field(
    kb_dir: Path, change: dict[str, object], field: str
) -> None:
    path = write(kb_dir, "prueba", {**GOOD, **change})
    with pytest.raises(KnowledgeError) as error:
        load_knowledge(kb_dir)
    assert f"{path}: field '{field}'" in str(error.value)


def test_missing_field_is_named(kb_dir: Path) -> None:
    data = dict(GOOD)
    del data["source"]
    path = write(kb_dir, "prueba", data)
    with pytest.raises(KnowledgeError) as error:
        load_knowledge(kb_dir)
    assert f"{path}: field 'source': is missing" in str(error.value)


def test_invalid_yaml_is_named(kb_dir: Path) -> None:
    (kb_dir / "roto.yml").write_text("id: [sin cerrar\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"roto\.yml: not valid YAML"):
        load_knowledge(kb_dir)


def test_missing_system_article_is_an_error(kb_dir: Path) -> None:
    (kb_dir / "error_servicio.yml").unlink()
    with pytest.raises(KnowledgeError, match="missing system articles: error_servicio"):
        load_knowledge(kb_dir)


def _touch_later(path: Path) -> None:
    later = time.time() + 5
    os.utime(path, (later, later))


def test_store_reloads_an_edited_article(kb_dir: Path) -> None:
    store = KnowledgeStore(kb_dir, check_every=0.0)
    path = write(kb_dir, "prueba", GOOD)
    _touch_later(path)
    assert store.current.require("prueba").answer == "Una respuesta."
    write(kb_dir, "prueba", {**GOOD, "answer": "Respuesta nueva."})
    _touch_later(path)
    assert store.current.require("prueba").answer == "Respuesta nueva."


def test_store_keeps_the_last_good_base_when_an_edit_breaks_it(
    kb_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = KnowledgeStore(kb_dir, check_every=0.0)
    before = store.current.require("igv").answer
    path = write(kb_dir, "igv", {"id": "igv"})
    _touch_later(path)
    assert store.current.require("igv").answer == before
    assert "knowledge base not reloaded" in caplog.text


def test_store_checks_files_at_most_every_interval(kb_dir: Path) -> None:
    store = KnowledgeStore(kb_dir, check_every=3600.0)
    path = write(kb_dir, "prueba", GOOD)
    _touch_later(path)
    assert store.current.get("prueba") is None


def test_unreadable_article_is_named(kb_dir: Path) -> None:
    (kb_dir / "latin1.yml").write_bytes("id: latin1\ntitle: Canción\n".encode("latin-1"))
    with pytest.raises(KnowledgeError, match=r"latin1\.yml: cannot be read"):
        load_knowledge(kb_dir)


def test_broken_edit_is_reported_once_until_the_files_change_again(
    kb_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = KnowledgeStore(kb_dir, check_every=0.0)
    path = write(kb_dir, "igv", {"id": "igv"})
    _touch_later(path)
    for _ in range(3):
        store.current  # noqa: B018
    assert caplog.text.count("knowledge base not reloaded") == 1
