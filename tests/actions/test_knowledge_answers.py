from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import yaml
from rasa_sdk.events import FollowupAction
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


def test_clarify_names_the_candidates_in_text_and_buttons(knowledge_dir: Path) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.7},
        {"name": "clave_sol_recuperar", "confidence": 0.25},
        {"name": "saludo", "confidence": 0.2},
        {"name": "clave_sol_obtener", "confidence": 0.2},
        {"name": "clave_sol_que_es", "confidence": 0.1},
        {"name": "cronograma", "confidence": 0.06},
        {"name": "igv", "confidence": 0.01},
    ]
    [message] = run(ActionClarify(), tracker("nlu_fallback", ranking, text="la clave"))
    payloads = [b["payload"] for b in message["buttons"]]
    # Greetings are not offered; at most three candidates, best first; then "Ninguna de estas".
    assert payloads == [
        "/clave_sol_recuperar",
        "/clave_sol_obtener",
        "/clave_sol_que_es",
        "/fuera_de_alcance",
    ]
    titles = [article(knowledge_dir, p[1:])["title"] for p in payloads[:3]]
    assert [b["title"] for b in message["buttons"][:3]] == titles
    # The text names them too, so it reads well where buttons are not shown.
    spoken = [f"«{t.lstrip('¿').rstrip('?')}»" for t in titles]
    assert message["text"] == (
        "No estoy seguro de haberte entendido. "
        f"¿Quisiste preguntar por {spoken[0]}, {spoken[1]} o {spoken[2]}? "
        "Elige una opción o escríbeme tu consulta con otras palabras."
    )


def test_clarify_ignores_candidates_below_the_minimum(knowledge_dir: Path) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.7},
        {"name": "igv", "confidence": 0.2},
        {"name": "uit", "confidence": 0.01},
    ]
    t = tracker("nlu_fallback", ranking, text="el impuesto")
    payloads = [b["payload"] for b in run(ActionClarify(), t)[0]["buttons"]]
    assert payloads[0] == "/igv" and "/uit" not in payloads


def test_second_misunderstanding_in_a_row_gets_the_polite_fallback(knowledge_dir: Path) -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.7}, {"name": "igv", "confidence": 0.2}]
    messages = run(
        ActionClarify(),
        tracker("nlu_fallback", ranking, previous_intent="nlu_fallback", text="el impuesto"),
    )
    assert messages[0]["text"] == article(knowledge_dir, "fallback")["answer"].strip()


def test_misunderstanding_after_an_understood_message_clarifies(knowledge_dir: Path) -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.7}, {"name": "igv", "confidence": 0.2}]
    t = tracker("nlu_fallback", ranking, previous_intent="saludo", text="el impuesto")
    [message] = run(ActionClarify(), t)
    assert message["text"].startswith("No estoy seguro de haberte entendido. ¿Quisiste")


def test_search_fills_the_offer_when_the_nlu_has_few_candidates(knowledge_dir: Path) -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.7}, {"name": "igv", "confidence": 0.06}]
    t = tracker("nlu_fallback", ranking, text="no puedo entrar a mi clave sol")
    [message] = run(ActionClarify(), t)
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads[0] == "/igv"  # the NLU's candidate first
    assert "/clave_sol_recuperar" in payloads[1:3]
    assert payloads[-1] == "/fuera_de_alcance"


def test_nlu_and_search_agreeing_answer_with_a_did_it_help(knowledge_dir: Path) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.6},
        {"name": "clave_sol_recuperar", "confidence": 0.3},
        {"name": "clave_sol_obtener", "confidence": 0.25},
    ]
    t = tracker("nlu_fallback", ranking, text="me olvidé la contraseña de sol")
    answer, follow_up = run(ActionClarify(), t)
    assert answer["text"] == article(knowledge_dir, "clave_sol_recuperar")["answer"].strip()
    assert follow_up["text"].startswith("¿Te sirvió?")
    report = follow_up["custom"]
    assert report["article"] == "clave_sol_recuperar"  # the gateway offers 👍/👎
    assert report["clarification"]["answered"] == "clave_sol_recuperar"


def test_a_weak_nlu_guess_the_search_contradicts_is_not_answered(knowledge_dir: Path) -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.6}, {"name": "igv", "confidence": 0.3}]
    t = tracker("nlu_fallback", ranking, text="no puedo entrar a mi clave sol")
    [message] = run(ActionClarify(), t)
    assert message["text"].startswith("No estoy seguro")
    assert "answered" not in message["custom"]["clarification"]


def test_gibberish_is_not_understood_and_gets_the_menu(knowledge_dir: Path) -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.9}, {"name": "igv", "confidence": 0.3}]
    [message] = run(ActionClarify(), tracker("nlu_fallback", ranking, text="asdf qwerty zxcv"))
    menu = article(knowledge_dir, "ayuda")
    assert message["text"].startswith("Disculpa, no te entendí.")
    assert menu["answer"].strip() in message["text"]
    assert [b["payload"] for b in message["buttons"]] == [b["payload"] for b in menu["buttons"]]
    assert "Quisiste" not in message["text"]


def test_after_an_answer_found_by_search_a_misunderstanding_is_the_first(
    knowledge_dir: Path,
) -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.7}, {"name": "igv", "confidence": 0.2}]
    t = tracker("nlu_fallback", ranking, previous_intent="nlu_fallback", text="el impuesto")
    # The previous message was answered by the search: the engine's reply says so.
    t.events.insert(
        -1,
        {
            "event": "bot",
            "text": "¿Te sirvió?",
            "data": {"custom": {"clarification": {"answered": "clave_sol_recuperar"}}},
        },
    )
    [message] = run(ActionClarify(), t)
    assert message["text"].startswith("No estoy seguro")
    assert "handoff" not in message["custom"]


def test_every_clarification_is_reported_for_the_review_inbox(knowledge_dir: Path) -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.7}, {"name": "igv", "confidence": 0.2}]
    [message] = run(ActionClarify(), tracker("nlu_fallback", ranking, text="el impuesto"))
    assert message["custom"]["clarification"]["intents"] == [
        {"name": "nlu_fallback", "confidence": 0.7},
        {"name": "igv", "confidence": 0.2},
    ]
    assert message["custom"]["clarification"]["offered"][0] == "/igv"
    [gibberish] = run(ActionClarify(), tracker("nlu_fallback", ranking, text="asdf"))
    assert gibberish["custom"]["clarification"]["offered"] == []
    [second] = run(
        ActionClarify(),
        tracker("nlu_fallback", ranking, previous_intent="nlu_fallback", text="el impuesto"),
    )
    assert second["custom"]["clarification"]["offered"] == []


def test_a_second_question_in_the_message_is_offered(knowledge_dir: Path) -> None:
    text = "¿Qué es el RUC? Y también quería saber cómo recupero mi clave sol olvidada"
    answer, offer = run(ActionAnswer(), tracker("ruc_que_es", text=text))
    assert answer["text"] == article(knowledge_dir, "ruc_que_es")["answer"].strip()
    title = article(knowledge_dir, "clave_sol_recuperar")["title"]
    assert offer["text"] == f"También preguntaste por «{title}». ¿Quieres que te lo explique?"
    assert [b["payload"] for b in offer["buttons"]] == ["/clave_sol_recuperar"]


def test_one_question_gets_one_answer(knowledge_dir: Path) -> None:
    text = "hola buenas tardes. quería saber qué es el RUC y para qué sirve"
    assert len(run(ActionAnswer(), tracker("ruc_que_es", text=text))) == 1


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


def test_a_regime_question_with_the_business_s_figures_goes_to_the_advisor(
    knowledge_dir: Path,
) -> None:
    t = tracker("regimen_nuevo_rus", text="vendo 25 mil al mes, me conviene el rus?")
    t.latest_message["entities"] = [
        {"entity": "monto", "role": "ventas_mensuales", "value": 25000.0, "start": 6, "end": 12}
    ]
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionAnswer().run(dispatcher, t, {}))
    assert events == [FollowupAction("asesor_regimen_form")]
    assert dispatcher.messages == []


def test_a_regime_question_without_figures_or_inside_the_form_gets_the_article(
    knowledge_dir: Path,
) -> None:
    expected = article(knowledge_dir, "regimen_nuevo_rus")["answer"].strip()
    assert run(ActionAnswer(), tracker("regimen_nuevo_rus"))[0]["text"] == expected
    t = tracker("regimen_nuevo_rus", text="y el rus? vendo 25 mil")
    t.latest_message["entities"] = [{"entity": "monto", "role": "ventas_mensuales", "value": 1}]
    t.active_loop = {"name": "asesor_regimen_form"}
    assert run(ActionAnswer(), t)[0]["text"] == expected
    # An amount that is not the business's own (e.g. an IGV calculation) is not a figure.
    t = tracker("regimen_nuevo_rus", text="rus y el igv de 100")
    t.latest_message["entities"] = [{"entity": "monto", "value": 100.0}]
    assert run(ActionAnswer(), t)[0]["text"] == expected
