from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import yaml
from rasa_sdk.executor import CollectingDispatcher
from trackers import tracker

from actions.knowledge_answers import ActionAnswer, ActionClarify


def run(action, t):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, {}))
    assert events == []
    return dispatcher.messages


def article(knowledge_dir: Path, article_id: str):
    return yaml.safe_load((knowledge_dir / f"{article_id}.yml").read_text(encoding="utf-8"))


def test_answer_comes_from_the_article_of_the_intent(knowledge_dir: Path) -> None:
    messages = run(ActionAnswer(), tracker("ruc_costo"))
    expected = article(knowledge_dir, "ruc_costo")
    assert len(messages) == 1
    assert messages[0]["text"] == expected["answer"].strip()
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        b["payload"] for b in expected["buttons"]
    ]


def test_edited_answer_is_used_without_retraining(knowledge_dir: Path) -> None:
    path = knowledge_dir / "uit.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["answer"] = "Respuesta editada por un administrador."
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    later = time.time() + 5
    os.utime(path, (later, later))
    assert (
        run(ActionAnswer(), tracker("uit"))[0]["text"] == "Respuesta editada por un administrador."
    )


def test_broken_edit_keeps_the_last_good_answer(knowledge_dir: Path) -> None:
    before = run(ActionAnswer(), tracker("igv"))[0]["text"]
    path = knowledge_dir / "igv.yml"
    path.write_text("id: igv\ntitle: sin respuesta\n", encoding="utf-8")
    later = time.time() + 5
    os.utime(path, (later, later))
    assert run(ActionAnswer(), tracker("igv"))[0]["text"] == before


def test_intent_without_article_gets_the_fallback(knowledge_dir: Path) -> None:
    messages = run(ActionAnswer(), tracker("intent_desconocido"))
    assert messages[0]["text"] == article(knowledge_dir, "fallback")["answer"].strip()


def test_system_article_is_never_answered_as_an_intent(knowledge_dir: Path) -> None:
    messages = run(ActionAnswer(), tracker("error_servicio"))
    assert messages[0]["text"] == article(knowledge_dir, "fallback")["answer"].strip()


def test_clarify_offers_top_candidates_then_none_of_these(knowledge_dir: Path) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.7},
        {"name": "clave_sol_recuperar", "confidence": 0.25},
        {"name": "saludo", "confidence": 0.2},
        {"name": "clave_sol_obtener", "confidence": 0.2},
        {"name": "clave_sol_que_es", "confidence": 0.1},
        {"name": "cronograma", "confidence": 0.06},
        {"name": "igv", "confidence": 0.01},
    ]
    messages = run(ActionClarify(), tracker("nlu_fallback", ranking))
    assert messages[0]["text"] == article(knowledge_dir, "aclarar")["answer"].strip()
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    # Greetings are not offered; at most three candidates, best first; then "Ninguna de estas".
    assert payloads == [
        "/clave_sol_recuperar",
        "/clave_sol_obtener",
        "/clave_sol_que_es",
        "/fuera_de_alcance",
    ]
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles[0] == article(knowledge_dir, "clave_sol_recuperar")["title"]


def test_clarify_ignores_candidates_below_the_minimum(knowledge_dir: Path) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.7},
        {"name": "igv", "confidence": 0.2},
        {"name": "uit", "confidence": 0.01},
    ]
    payloads = [
        b["payload"] for b in run(ActionClarify(), tracker("nlu_fallback", ranking))[0]["buttons"]
    ]
    assert payloads == ["/igv", "/fuera_de_alcance"]


def test_second_misunderstanding_in_a_row_gets_the_polite_fallback(knowledge_dir: Path) -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.7}, {"name": "igv", "confidence": 0.2}]
    messages = run(
        ActionClarify(), tracker("nlu_fallback", ranking, previous_intent="nlu_fallback")
    )
    assert messages[0]["text"] == article(knowledge_dir, "fallback")["answer"].strip()


def test_misunderstanding_after_an_understood_message_clarifies(knowledge_dir: Path) -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.7}, {"name": "igv", "confidence": 0.2}]
    messages = run(ActionClarify(), tracker("nlu_fallback", ranking, previous_intent="saludo"))
    assert messages[0]["text"] == article(knowledge_dir, "aclarar")["answer"].strip()


def test_search_fills_the_offer_when_the_nlu_has_few_candidates(knowledge_dir: Path) -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.7}, {"name": "igv", "confidence": 0.2}]
    t = tracker("nlu_fallback", ranking, text="me olvidé la contraseña de sol")
    [message] = run(ActionClarify(), t)
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads[0] == "/igv"  # the NLU's candidate first
    assert "/clave_sol_recuperar" in payloads[1:3]
    assert payloads[-1] == "/fuera_de_alcance" and len(payloads) == 4


def test_nothing_to_offer_gets_the_polite_fallback(knowledge_dir: Path) -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.9}, {"name": "igv", "confidence": 0.01}]
    [message] = run(ActionClarify(), tracker("nlu_fallback", ranking, text="asdf qwerty"))
    assert message["text"] == article(knowledge_dir, "fallback")["answer"].strip()


def test_every_clarification_is_reported_for_the_review_inbox(knowledge_dir: Path) -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.7}, {"name": "igv", "confidence": 0.2}]
    [message] = run(ActionClarify(), tracker("nlu_fallback", ranking, text="asdf"))
    assert message["custom"] == {
        "clarification": {
            "intents": [
                {"name": "nlu_fallback", "confidence": 0.7},
                {"name": "igv", "confidence": 0.2},
            ],
            "offered": ["/igv"],
        }
    }
    [second] = run(
        ActionClarify(), tracker("nlu_fallback", ranking, previous_intent="nlu_fallback")
    )
    assert second["custom"]["clarification"]["offered"] == []


def test_the_channel_s_own_version_of_an_answer_is_used(knowledge_dir: Path) -> None:
    expected = article(knowledge_dir, "ruc_inscripcion_dni")
    t = tracker("ruc_inscripcion_dni")
    t.latest_message["metadata"] = {"channel": "whatsapp"}
    [message] = run(ActionAnswer(), t)
    assert message["text"] == expected["variants"]["whatsapp"].strip()
    assert message["text"].startswith("*Sacar tu RUC")
    t.latest_message["metadata"] = {"channel": "twilio"}  # WhatsApp through Twilio
    assert run(ActionAnswer(), t)[0]["text"] == expected["variants"]["whatsapp"].strip()
    t.latest_message["metadata"] = {"channel": "webchat"}
    assert run(ActionAnswer(), t)[0]["text"] == expected["answer"].strip()
