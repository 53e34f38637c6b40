"""Annotations written into the training files: round trip, duplicates and conflicts flagged
before saving, new intents with their rule and article, bad input refused with nothing
written."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from bot.knowledge.articles import load_knowledge
from bot.workbench.training_data import MAX_EXAMPLE_CHARS, TrainingData, TrainingDataError

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "domain.yml", tmp_path / "domain.yml")
    for folder in ("data/nlu", "data/rules", "data/knowledge"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.yml"))
    }


def test_every_file_round_trips_unchanged(project: Path) -> None:
    data = TrainingData(project)
    files = [project / "domain.yml", *sorted((project / "data").rglob("*.yml"))]
    for path in files:
        assert data._dump(data._load(path)) == path.read_text(encoding="utf-8"), path


def test_examples_are_appended_to_their_intent_and_nothing_else_changes(project: Path) -> None:
    before = snapshot(project)
    plan = TrainingData(project).add_examples(
        [("oe como saco mi ruc siendo menor de edad", "ruc_inscripcion_dni"),
         ("cuanto me cobran por el ruc", "ruc_costo")]
    )  # fmt: skip
    assert plan.problems == []
    after = snapshot(project)
    changed = [name for name in after if after[name] != before[name]]
    assert changed == ["data/nlu/ruc.yml"]
    old, new = before["data/nlu/ruc.yml"].splitlines(), after["data/nlu/ruc.yml"].splitlines()
    assert len(new) == len(old) + 2
    assert [line for line in new if line not in old] == [
        "    - oe como saco mi ruc siendo menor de edad",
        "    - cuanto me cobran por el ruc",
    ]
    examples = TrainingData(project).examples_by_intent()
    assert examples["ruc_costo"][-1] == "cuanto me cobran por el ruc"


def test_duplicates_are_dropped_and_conflicts_refused_before_saving(project: Path) -> None:
    data = TrainingData(project)
    existing = data.examples_by_intent()["igv"][0]
    plan = data.plan([(existing.upper(), "igv"), ("algo nuevo del igv", "igv")])
    assert [(p.kind, p.intent) for p in plan.problems] == [("duplicate", "igv")]
    assert plan.add == {"igv": ["algo nuevo del igv"]}

    before = snapshot(project)
    with pytest.raises(TrainingDataError) as refused:
        data.add_examples([("nueva frase valida", "uit"), (existing, "ruc_costo")])
    assert refused.value.code == "conflict" and "igv" in refused.value.message
    assert snapshot(project) == before  # nothing written, not even the valid one


@pytest.mark.parametrize(
    ("text", "intent", "code"),
    [("hola", "intención con espacios", "invalid_intent"),
     ("hola", "coactiva_señal", "invalid_intent"),
     ("hola", "Mayusculas", "invalid_intent"),
     ("   ", "igv", "empty_example"),
     ("x" * 10_000, "igv", "example_too_long"),
     ("/igv", "igv", "invalid_example"),
     ("hola", "no_existe_aun", "unknown_intent")],
)  # fmt: skip
def test_bad_input_is_refused_and_nothing_is_written(
    project: Path, text: str, intent: str, code: str
) -> None:
    before = snapshot(project)
    with pytest.raises(TrainingDataError) as refused:
        TrainingData(project).add_examples([(text, intent)])
    assert refused.value.code == code and refused.value.message
    assert snapshot(project) == before


def test_a_new_intent_gets_examples_domain_rule_and_article(project: Path) -> None:
    TrainingData(project).add_intent(
        "constancia_no_adeudo",
        ["necesito una constancia de no adeudo", "certificado de no tener deudas con sunat",
         "me piden constancia de no adeudo tributario para una licitacion"],
        "Constancia de no adeudo",
        "La constancia de no adeudo dice que no tienes deudas exigibles con SUNAT.",
        "SUNAT",
        "https://www.gob.pe/sunat",
        dt.date(2026, 11, 28),
    )  # fmt: skip
    domain = yaml.safe_load((project / "domain.yml").read_text(encoding="utf-8"))
    assert domain["intents"][-1] == "constancia_no_adeudo"
    rules = yaml.safe_load((project / "data/rules/faq.yml").read_text(encoding="utf-8"))
    assert rules["rules"][-1]["steps"] == [
        {"intent": "constancia_no_adeudo"}, {"action": "action_answer"},
    ]  # fmt: skip
    nlu = yaml.safe_load((project / "data/nlu/nuevos_temas.yml").read_text(encoding="utf-8"))
    assert nlu["nlu"][0]["intent"] == "constancia_no_adeudo"
    assert "certificado de no tener deudas con sunat" in nlu["nlu"][0]["examples"]
    article = load_knowledge(project / "data" / "knowledge").require("constancia_no_adeudo")
    assert article.source.url == "https://www.gob.pe/sunat"
    assert article.reviewed == dt.date(2026, 11, 28)

    with pytest.raises(TrainingDataError) as again:
        TrainingData(project).add_intent(
            "constancia_no_adeudo", ["a b c", "d e f"], "t", "a", "SUNAT", "https://x.pe",
            dt.date(2026, 11, 28),
        )  # fmt: skip
    assert again.value.code == "intent_exists"


def test_a_new_intent_needs_an_official_source(project: Path) -> None:
    before = snapshot(project)
    with pytest.raises(TrainingDataError) as refused:
        TrainingData(project).add_intent(
            "nuevo_tema", ["uno dos tres", "cuatro cinco"], "T", "R", "Blog", "http://blog.pe",
            dt.date(2026, 11, 28),
        )  # fmt: skip
    assert refused.value.code == "invalid_source"
    assert snapshot(project) == before
    assert MAX_EXAMPLE_CHARS < 10_000


def test_every_intent_of_the_domain_has_at_least_25_training_examples() -> None:
    from bot.knowledge.search import sample_questions

    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    examples = sample_questions(ROOT / "data" / "nlu")
    few = {i: len(examples.get(i, [])) for i in domain["intents"] if len(examples.get(i, [])) < 25}
    assert few == {}
