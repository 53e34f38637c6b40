"""The regime advisor's actions: what the form asks, how corrections are acknowledged, and the
recommendation's wording (from the asesor_regimen article)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from rasa_sdk.executor import CollectingDispatcher
from trackers import tracker

from actions import regime_advisor
from actions.regime_advisor import (
    ActionBooks,
    ActionRecommendRegime,
    AskActivity,
    AskPurchases,
    AskSales,
    ValidateAdvisorForm,
)


@pytest.fixture(autouse=True)
def in_2026(monkeypatch: pytest.MonkeyPatch, knowledge_dir: Path) -> None:
    monkeypatch.setattr(regime_advisor, "_today", lambda: dt.date(2026, 11, 28))


def run(action, t):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, {}))
    return dispatcher.messages, events


def test_the_first_question_introduces_the_advisor_and_activity_has_buttons() -> None:
    messages, _ = run(AskSales(), tracker("asesor_regimen"))
    assert messages[0]["text"].startswith("Te ayudo a elegir tu régimen")
    messages, _ = run(AskActivity(), tracker("asesor_regimen", slots={"ventas_mensuales": 1.0}))
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert '/asesor_regimen{"actividad":"comercio"}' in payloads and len(payloads) == 9


def test_a_changed_answer_is_acknowledged() -> None:
    t = tracker(
        "asesor_regimen", text="no, vendo 9000", slots={"requested_slot": "compras_mensuales"}
    )
    t.events.insert(1, {"event": "slot", "name": "ventas_mensuales", "value": 7000.0})
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateAdvisorForm().validate_ventas_mensuales(9000.0, dispatcher, t, {}))
    assert result == {"ventas_mensuales": 9000.0}
    assert dispatcher.messages[0]["text"] == "Anotado: vendes S/ 9,000.00 al mes."


def test_the_same_answer_again_is_not_acknowledged() -> None:
    # Rasa sets an extracted slot even when the value is the one it had.
    t = tracker(
        "asesor_regimen",
        text="vendo 9000 y compro 2000",
        slots={"requested_slot": "compras_mensuales"},
    )
    t.events.insert(1, {"event": "slot", "name": "ventas_mensuales", "value": 9000.0})
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateAdvisorForm().validate_ventas_mensuales(9000.0, dispatcher, t, {}))
    assert result == {"ventas_mensuales": 9000.0}
    assert dispatcher.messages == []


def test_an_impossible_amount_is_asked_again() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker("asesor_regimen", slots={"requested_slot": "ventas_mensuales"})
    result = asyncio.run(ValidateAdvisorForm().validate_ventas_mensuales(-5, dispatcher, t, {}))
    assert result == {"ventas_mensuales": None}
    assert dispatcher.messages[0]["text"] == "No entendí tu respuesta."


def test_required_slots_grow_only_when_the_answer_can_change() -> None:
    form = ValidateAdvisorForm()
    slots = {"ventas_mensuales": 12000.0, "compras_mensuales": 6000.0, "actividad": "comercio"}
    required = asyncio.run(
        form.required_slots([], CollectingDispatcher(), tracker("x", slots=slots), {})
    )
    assert required == ["ventas_mensuales", "compras_mensuales", "actividad", "activos_fijos"]
    slots["activos_fijos"] = 0.0
    required = asyncio.run(
        form.required_slots([], CollectingDispatcher(), tracker("x", slots=slots), {})
    )
    assert required[-1] == "trabajadores"


def test_recommendation_wording() -> None:
    slots = {"ventas_mensuales": 3000.0, "compras_mensuales": 1000.0, "actividad": "profesional"}
    messages, _ = run(ActionRecommendRegime(), tracker("x", slots=slots))
    text = messages[0]["text"]
    assert text.startswith(
        "Te conviene el Régimen MYPE Tributario (RMT), porque tu actividad no puede acogerse "
        "al Nuevo RUS ni al RER."
    )
    assert "unos S/ 30.00" in text and "unos S/ 360.00" in text and "S/ 390.00 al mes" in text
    assert "UIT 2026 (S/ 5,500.00)" in text
    assert messages[0]["buttons"][0]["payload"] == "/regimenes_resumen"


def test_a_recommendation_with_nothing_ruled_out_gives_no_reasons() -> None:
    slots = {"ventas_mensuales": 3000.0, "compras_mensuales": 1000.0, "actividad": "comercio",
             "activos_fijos": 0.0}  # fmt: skip
    messages, _ = run(ActionRecommendRegime(), tracker("x", slots=slots))
    text = messages[0]["text"]
    assert "Nuevo RUS, categoría 1" in text and "cuota fija de S/ 20.00" in text
    assert "porque" not in text.split("\n")[0]


FORM_DOMAIN = {
    "forms": {
        "asesor_regimen_form": {
            "required_slots": [
                "ventas_mensuales", "compras_mensuales", "actividad", "activos_fijos",
                "trabajadores",
            ]
        }
    }
}  # fmt: skip


def next_question(slots) -> str | None:
    t = tracker("asesor_regimen", slots=slots)
    event = asyncio.run(
        ValidateAdvisorForm().next_requested_slot(CollectingDispatcher(), t, FORM_DOMAIN)
    )
    assert event is not None and event["name"] == "requested_slot"
    return event["value"]


def test_a_figure_that_rules_out_a_regime_is_answered_at_once() -> None:
    # "vendo 25 mil al mes, ¿me conviene el RUS?": S/ 300,000 a year, over the Nuevo RUS's cap.
    text = "vendo 25 mil al mes, ¿me conviene el RUS?"
    slots = {"ventas_mensuales": 25000.0}
    assert next_question(slots) == "compras_mensuales"
    messages, _ = run(AskPurchases(), tracker("asesor_regimen", text=text, slots=slots))
    [so_far, question] = messages[0]["text"].split("\n")
    assert so_far == (
        "Con S/ 25,000.00 al mes vendes S/ 300,000.00 al año, más que el tope anual del Nuevo "
        "RUS (S/ 96,000.00), así que descarto el Nuevo RUS. Por ahora te quedan el RER y el RMT; "
        "con unos datos más te digo cuál te conviene."
    )
    assert question.startswith("¿Y cuánto compras al mes")


def test_what_was_ruled_out_is_said_once() -> None:
    # The purchases rule nothing more out: only the question.
    slots = {"ventas_mensuales": 25000.0, "compras_mensuales": 10000.0}
    t = tracker("asesor_regimen", text="unos 10 mil", slots=slots)
    t.events.insert(1, {"event": "slot", "name": "ventas_mensuales", "value": 25000.0})
    messages, _ = run(AskActivity(), t)
    assert messages[0]["text"].startswith("¿A qué se dedica tu negocio?")
    # A side question asked in between: the same question again, nothing more.
    t = tracker("igv", text="que es el igv?", slots={"ventas_mensuales": 25000.0})
    t.events.insert(1, {"event": "slot", "name": "ventas_mensuales", "value": 25000.0})
    messages, _ = run(AskPurchases(), t)
    assert messages[0]["text"].startswith("¿Y cuánto compras al mes")


def test_small_sales_rule_nothing_out() -> None:
    t = tracker("asesor_regimen", text="vendo 3 mil", slots={"ventas_mensuales": 3000.0})
    messages, _ = run(AskPurchases(), t)
    assert messages[0]["text"].startswith("¿Y cuánto compras al mes")


@pytest.mark.parametrize(
    ("slots", "start", "contains"),
    [({"ventas_mensuales": 50000.0},
      "Te conviene el Régimen MYPE Tributario (RMT), porque con S/ 50,000.00 al mes vendes "
      "S/ 600,000.00 al año, más que el tope anual del Nuevo RUS (S/ 96,000.00) y del RER "
      "(S/ 525,000.00).", "unos S/ 500.00"),
     ({"ventas_mensuales": 800000.0},
      "Te corresponde el Régimen General, porque con S/ 800,000.00 al mes vendes "
      "S/ 9,600,000.00 al año: más que el tope anual del Nuevo RUS (S/ 96,000.00), del RER "
      "(S/ 525,000.00) y del RMT (1,700 UIT, S/ 9,350,000.00).", "29.5% anual")],
)  # fmt: skip
def test_when_one_figure_leaves_one_regime_the_advisor_answers_without_asking_more(
    slots, start: str, contains: str
) -> None:
    assert next_question(slots) is None  # the form ends: the recommendation follows
    messages, _ = run(ActionRecommendRegime(), tracker("asesor_regimen", slots=slots))
    text = messages[0]["text"]
    assert text.startswith(start) and contains in text
    # The IGV depends on the purchases, not asked: explained, not estimated.
    assert "Si me dices cuánto compras al mes, te lo estimo." in text
    assert "Total estimado" not in text


def test_a_professional_needs_only_the_sales() -> None:
    slots = {"actividad": "profesional"}
    assert next_question(slots) == "ventas_mensuales"
    slots["ventas_mensuales"] = 3000.0
    assert next_question(slots) is None


@pytest.mark.parametrize(
    ("text", "slots", "start"),
    [("que libros llevo?", {"regimen": "rer"}, "Como estás en el RER, llevas el Registro"),
     ("estoy en el nuevo rus, que libros llevo", None, "Como estás en el Nuevo RUS, no llevas"),
     ("que libros llevo?", None, "Depende de tu régimen")],
)  # fmt: skip
def test_books_for_the_citizens_own_regime(text: str, slots, start: str) -> None:
    messages, _ = run(ActionBooks(), tracker("libros_contables", text=text, slots=slots))
    assert messages[0]["text"].startswith(start)


def test_the_introduction_is_not_said_twice_in_one_turn() -> None:
    # "que regimen me conviene" again before any figure: action_answer introduced the advisor
    # (data/rules/asesor_regimen_digresiones.yml), the form then asks without repeating it.
    t = tracker("asesor_regimen")
    t.events.append({"event": "action", "name": "action_answer"})
    t.events.append({"event": "bot", "text": "Te ayudo a elegir tu régimen tributario…"})
    messages, _ = run(AskSales(), t)
    assert messages[0]["text"].startswith("¿Cuánto vendes")
