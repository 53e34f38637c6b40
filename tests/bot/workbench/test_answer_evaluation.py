"""Replaying the engine's decisions on a held-out set (rankings given, no model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge.articles import load_knowledge
from bot.knowledge.search import KnowledgeSearch, sample_questions
from bot.workbench.answer_evaluation import Example, evaluate, fallback_threshold, load_examples

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def kb_and_search():
    kb = load_knowledge(ROOT / "data" / "knowledge")
    return kb, KnowledgeSearch(kb.articles, sample_questions(ROOT / "data" / "nlu"))


def test_right_misrouted_and_clarified_are_counted(kb_and_search) -> None:
    kb, search = kb_and_search
    examples = [
        Example("que es el igv", "igv"),  # sure and right
        Example("cuanto vale la uit", "uit"),  # sure and wrong
        Example("la clave", "clave_sol_recuperar"),  # unsure: a clarification
        Example("me olvidé la contraseña de sol", "clave_sol_recuperar"),  # search decides
    ]
    rankings = [
        [("igv", 0.9)],
        [("igv", 0.8), ("uit", 0.1)],
        [("nlu_fallback", 0.6), ("clave_sol_obtener", 0.2)],
        [("nlu_fallback", 0.6), ("clave_sol_recuperar", 0.3)],
    ]
    report = evaluate(examples, rankings, kb, search, threshold=0.4)
    assert report.accuracy == 0.5
    assert report.misroute_rate == 0.25
    assert report.clarification_rate == 0.25
    assert report.searched_rate == 0.25
    assert report.misroutes() == {("uit", "igv"): 1}
    assert report.nlu_accuracy == 0.5  # uit and the clarified one were not the NLU's top
    without = evaluate(examples, rankings, kb, search, threshold=0.4, use_search=False)
    assert without.accuracy == 0.25 and without.clarification_rate == 0.5


def test_macro_f1_counts_a_clarification_as_no_prediction(kb_and_search) -> None:
    kb, search = kb_and_search
    examples = [Example("que es el igv", "igv"), Example("la clave", "uit")]
    rankings = [[("igv", 0.9)], [("nlu_fallback", 0.9), ("uit", 0.2)]]
    report = evaluate(examples, rankings, kb, search, threshold=0.4)
    assert report.macro_f1 == pytest.approx(0.5)  # igv: F1 1; uit: never predicted, F1 0


def test_held_out_files_and_the_threshold_are_read_as_rasa_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "h.yml"
    path.write_text(
        'version: "3.1"\nnlu:\n- intent: igv\n  examples: |\n    - que es el igv\n'
        "    - IGV?\n- intent: uit\n  examples: |\n    - la uit\n",
        encoding="utf-8",
    )
    assert load_examples(path) == [
        Example("que es el igv", "igv"),
        Example("IGV?", "igv"),
        Example("la uit", "uit"),
    ]
    assert fallback_threshold(ROOT / "config.yml") == 0.4


def _folded(text: str) -> str:
    """Case, accents and punctuation folded away (how overlaps are judged)."""
    import re
    import unicodedata

    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return " ".join(re.findall(r"[a-z0-9]+", plain))


@pytest.mark.parametrize("heldout", ["heldout.yml", "heldout_outside.yml"])
def test_the_held_out_sets_are_never_trained_on(heldout: str) -> None:
    trained = {
        _folded(question)
        for questions in sample_questions(ROOT / "data" / "nlu").values()
        for question in questions
    }
    held = load_examples(ROOT / "heldout" / heldout)
    assert len(held) >= (300 if heldout == "heldout_outside.yml" else 250)
    overlap = sorted({e.text for e in held if _folded(e.text) in trained})
    assert overlap == []
