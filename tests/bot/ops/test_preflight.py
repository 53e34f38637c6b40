"""What `python -m bot up` makes sure of before it starts: the knowledge base fits the domain,
a padrón is loaded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.knowledge.padron import open_padron
from bot.knowledge.transparency import open_transparency
from bot.ops.preflight import (
    SAMPLE_PADRON,
    SAMPLE_TRANSPARENCY,
    check_knowledge,
    domain_intents,
    ensure_padron,
    ensure_transparency,
)
from bot.ops.settings import ROOT

KNOWLEDGE = ROOT / "data" / "knowledge"


def test_the_repositorys_knowledge_base_fits_its_domain() -> None:
    said = check_knowledge(KNOWLEDGE)
    assert said.startswith("knowledge OK: ")
    assert f"{len(domain_intents())} intents answered" in said


@pytest.fixture()
def knowledge(tmp_path: Path) -> Path:
    """A copy of the repository's knowledge base, to spoil."""
    copy = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, copy)
    return copy


def test_an_intent_without_its_article_is_named(knowledge: Path) -> None:
    intent = next(i for i in domain_intents() if (knowledge / f"{i}.yml").exists())
    (knowledge / f"{intent}.yml").unlink()
    with pytest.raises(SystemExit, match=f"intent '{intent}' has no article"):
        check_knowledge(knowledge)


def test_an_article_for_no_intent_and_a_button_to_no_intent_are_named(knowledge: Path) -> None:
    (knowledge / "no_such_intent.yml").write_text(
        (knowledge / "aclarar.yml")
        .read_text(encoding="utf-8")
        .replace("id: aclarar", "id: no_such_intent")
        .replace("payload: /fuera_de_alcance", "payload: /nowhere"),
        encoding="utf-8",
    )
    with pytest.raises(SystemExit) as raised:
        check_knowledge(knowledge)
    said = str(raised.value)
    assert said.startswith("error: knowledge base and domain disagree:")
    assert "no_such_intent.yml answers no intent of domain.yml" in said
    assert "no_such_intent.yml: button 'Ninguna de estas' names unknown intent /nowhere" in said


def test_a_fresh_start_imports_the_sample_padron_and_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'padron.db'}"
    said = ensure_padron(url)
    assert "none was loaded" in said and "SAMPLE" in said and "make import-padron" in said
    with open_padron(url) as store:
        assert store.count() > 100
        entry = store.lookup("10000000014")
        assert entry is not None and entry.nombre == "QUISPE MAMANI ROSA ELENA"


def test_a_loaded_padron_is_left_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'padron.db'}"
    small = tmp_path / "padron.txt"
    lines = SAMPLE_PADRON.read_bytes().splitlines(keepends=True)
    small.write_bytes(b"".join(lines[:4]))  # the header and three demo taxpayers
    with open_padron(url) as store:
        store.import_file(small)
        before = store.count()
    assert ensure_padron(url) == f"padrón: {before:,} RUCs loaded"
    with open_padron(url) as store:
        assert store.count() == before


def test_a_sample_that_cannot_be_read_is_reported_not_raised(tmp_path: Path) -> None:
    said = ensure_padron(f"sqlite:///{tmp_path / 'padron.db'}", tmp_path / "missing.txt")
    assert said.startswith("padrón: none loaded and the sample could not be imported")


def test_a_fresh_start_in_development_imports_the_labelled_sample_figures(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'transparencia.db'}"
    said = ensure_transparency(url, "development")
    assert "se importó el EJEMPLO INVENTADO" in said and "make import-transparency" in said
    with open_transparency(url) as store:
        year = store.year(2026)
        assert store.years() == [2025, 2026] and year is not None and year.ejemplo
    assert ensure_transparency(url, "development") == "transparencia: cifras de 2025, 2026 cargadas"


def test_production_never_gets_the_sample_figures(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'transparencia.db'}"
    said = ensure_transparency(url, "production")
    assert said.startswith("transparencia: no hay cifras cargadas (se responde con el portal)")
    assert not (tmp_path / "transparencia.db").exists()


def test_a_sample_figures_file_that_cannot_be_read_is_reported_not_raised(tmp_path: Path) -> None:
    said = ensure_transparency(
        f"sqlite:///{tmp_path / 't.db'}", "development", tmp_path / "missing.csv"
    )
    assert said.startswith("transparencia: no hay cifras cargadas y no se pudo importar el ejemplo")
    assert SAMPLE_TRANSPARENCY.exists()
