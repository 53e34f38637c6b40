"""Runs in the engine environment (make unit-engine): what the spaCy loader keeps."""

from __future__ import annotations

from bot.engine.spacy_nlp import SpacyNLP


def load(lemmas: bool):  # type: ignore[no-untyped-def]
    return SpacyNLP.create({"model": "es_core_news_sm", "lemmas": lemmas}, None, None, None)


def test_tokens_only_loads_no_pipeline_component() -> None:
    component = load(lemmas=False)
    nlp = component.provide().model
    assert nlp.pipe_names == []
    assert [t.text for t in nlp("kiero sacar mi ruc, xfa!")] == [
        "kiero",
        "sacar",
        "mi",
        "ruc",
        ",",
        "xfa",
        "!",
    ]


def test_lemmas_load_what_the_lemmatizer_needs_and_nothing_more() -> None:
    nlp = load(lemmas=True).provide().model
    assert "lemmatizer" in nlp.pipe_names
    assert not {"parser", "ner", "senter"} & set(nlp.pipe_names)
    assert [t.lemma_ for t in nlp("declaro mis impuestos")] == ["declarar", "mi", "impuesto"]


def test_fingerprint_tells_the_two_apart() -> None:
    assert load(True).provide().fingerprint() != load(False).provide().fingerprint()
