"""Answer, ask or say it was not understood: the decision after an unsure NLU."""

from __future__ import annotations

from bot.knowledge.clarification import (
    ANSWER,
    ANSWER_SEARCHED,
    CLARIFY,
    NOT_UNDERSTOOD,
    decide,
    decide_unsure,
    second_question,
    segments,
)

ARTICLES = {"igv", "uit", "ruc_que_es", "ruc_costo", "clave_sol_recuperar", "clave_sol_obtener"}


def offerable(intent: str) -> bool:
    return intent in ARTICLES


def test_nlu_and_search_agreeing_answer() -> None:
    ranking = [("nlu_fallback", 0.6), ("igv", 0.3), ("uit", 0.1)]
    decision = decide_unsure(ranking, [("igv", 5.0), ("uit", 4.5)], offerable)
    assert (decision.kind, decision.intent) == (ANSWER_SEARCHED, "igv")


def test_agreement_needs_some_confidence_and_a_real_hit() -> None:
    assert decide_unsure([("igv", 0.1)], [("igv", 5.0)], offerable).kind == CLARIFY
    assert decide_unsure([("igv", 0.3)], [("igv", 3.0)], offerable).kind == CLARIFY


def test_a_clear_search_hit_decides_alone() -> None:
    decision = decide_unsure([("uit", 0.3)], [("igv", 12.0), ("uit", 7.0)], offerable)
    assert (decision.kind, decision.intent) == (ANSWER_SEARCHED, "igv")


def test_a_strong_hit_with_a_close_second_is_not_clear() -> None:
    decision = decide_unsure([("uit", 0.3)], [("igv", 12.0), ("uit", 9.0)], offerable)
    assert decision.kind == CLARIFY and decision.candidates == ("uit", "igv")


def test_candidates_are_the_nlu_s_then_the_search_s_at_most_three() -> None:
    ranking = [("nlu_fallback", 0.5), ("saludo", 0.3), ("igv", 0.2), ("uit", 0.04)]
    decision = decide_unsure(ranking, [("ruc_costo", 6.0), ("ruc_que_es", 5.0)], offerable)
    assert decision.kind == CLARIFY
    # saludo is not offerable; uit is under the minimum confidence
    assert decision.candidates == ("igv", "ruc_costo", "ruc_que_es")


def test_unknown_words_or_nothing_to_offer_is_not_understood() -> None:
    assert decide_unsure([("igv", 0.3)], [], offerable, known_words=False).kind == NOT_UNDERSTOOD
    assert decide_unsure([("igv", 0.01)], [], offerable).kind == NOT_UNDERSTOOD


def test_a_sure_nlu_answers_whatever_the_search_says() -> None:
    decision = decide([("uit", 0.8)], [("igv", 20.0)], offerable, threshold=0.4)
    assert (decision.kind, decision.intent) == (ANSWER, "uit")
    assert decide([("uit", 0.39)], [], offerable, threshold=0.4).kind == CLARIFY


def test_segments_split_questions_not_phrases() -> None:
    assert segments("¿Qué es el RUC? ¿Y cuánto cuesta?") == ["Qué es el RUC", "Y cuánto cuesta"]
    assert segments("qué es el ruc y para qué sirve") == ["qué es el ruc y para qué sirve"]
    assert segments("el igv. Además, la uit") == ["el igv", ", la uit"]
    assert segments("hola\nquería saber de la uit") == ["hola", "quería saber de la uit"]


def fake_search(part: str) -> list[tuple[str, float]]:
    table = {"cuánto cuesta sacarlo": [("ruc_costo", 8.0)], "qué es el ruc": [("ruc_que_es", 9.0)]}
    return table.get(part.lower().strip(), [])


def words(part: str) -> int:
    return len(part.split())


def test_a_second_question_pointing_elsewhere_is_found() -> None:
    text = "¿Qué es el RUC? ¿cuánto cuesta sacarlo?"
    assert second_question(text, "ruc_que_es", fake_search, words, offerable) == "ruc_costo"


def test_one_question_or_the_same_article_finds_nothing() -> None:
    assert second_question("qué es el ruc", "ruc_que_es", fake_search, words, offerable) is None
    text = "¿Qué es el RUC? ¿qué es el ruc?"
    assert second_question(text, "ruc_que_es", fake_search, words, offerable) is None
