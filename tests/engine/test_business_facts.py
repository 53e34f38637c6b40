"""Runs in the engine environment (make unit-engine): the business facts the NLU pipeline finds
fill the advisor's slots through domain.yml's mappings, run by Rasa's own slot extraction."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from rasa.core.actions.action import ActionExtractSlots
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.engine.business_facts import BusinessFactsExtractor

ROOT = Path(__file__).resolve().parents[2]
FORM = "asesor_regimen_form"


@pytest.fixture(scope="module")
def domain() -> Domain:
    with warnings.catch_warnings():
        # Rasa 3 warns on every domain load that 2.x's slot auto-fill is gone.
        warnings.filterwarnings("ignore", message="Slot auto-fill has been removed")
        return Domain.load(ROOT / "domain.yml")


def entities(text: str) -> List[Dict[str, Any]]:
    message = Message({TEXT: text})
    BusinessFactsExtractor().process([message])
    return list(message.get(ENTITIES, []))


def slots_filled(
    domain: Domain,
    text: str,
    intent: str = "asesor_regimen",
    requested: Optional[str] = None,
    slots: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """What Rasa's ``action_extract_slots`` sets after the citizen says ``text``."""
    events: List[Event] = [SlotSet(name, value) for name, value in (slots or {}).items()]
    if requested is not None:
        events += [ActiveLoop(FORM), SlotSet("requested_slot", requested)]
    events.append(UserUttered(text, {"name": intent, "confidence": 1.0}, entities=entities(text)))
    tracker = DialogueStateTracker.from_events("test", events, slots=domain.slots)
    found = asyncio.run(ActionExtractSlots(None).run(None, None, tracker, domain))  # type: ignore[arg-type]
    return {e.key: e.value for e in found if isinstance(e, SlotSet)}


def test_entities_carry_the_extractor_and_where_they_were_said() -> None:
    [amount] = entities("vendo 7 mil")
    assert amount == {
        "entity": "monto",
        "value": 7000.0,
        "start": 6,
        "end": 11,
        "role": "ventas_mensuales",
        "extractor": "BusinessFactsExtractor",
    }


@pytest.mark.parametrize(
    ("text", "intent", "requested", "expected"),
    [("vendo 3000 al mes, que regimen me conviene?", "asesor_regimen", None,
      {"ventas_mensuales": 3000.0}),
     ("vendo 3000 al mes, soy abogado", "asesor_regimen", None,
      {"ventas_mensuales": 3000.0, "actividad": "profesional"}),
     ("vendo 7 mil y compro unos 3k", "asesor_regimen", None,
      {"ventas_mensuales": 7000.0, "compras_mensuales": 3000.0}),
     ("compras de 2,500 y ventas de 6 mil", "asesor_regimen", None,
      {"compras_mensuales": 2500.0, "ventas_mensuales": 6000.0}),
     ("7 mil", "asesor_regimen", "ventas_mensuales", {"ventas_mensuales": 7000.0}),
     ("7 mil", "asesor_regimen", None, {}),
     ("nada", "asesor_regimen", "compras_mensuales", {"compras_mensuales": 0}),
     ("no, en realidad vendo 9000", "asesor_regimen", "compras_mensuales",
      {"ventas_mensuales": 9000.0}),
     ("tengo una bodega", "asesor_regimen", "actividad", {"actividad": "comercio"}),
     ("una bodega", "asesor_regimen", "actividad", {"actividad": "comercio"}),
     # mentioned, not described, outside the advisor: not the citizen's business
     ("que comprobante emite una bodega", "comprobantes", None, {}),
     ("tengo una bodega", "comprobantes", None, {"actividad": "comercio"}),
     ("solo yo", "asesor_regimen", "trabajadores", {"trabajadores": 0}),
     ("3 trabajadores", "asesor_regimen", "activos_fijos", {"trabajadores": 3}),
     ("unos 20 mil en maquinas", "asesor_regimen", "activos_fijos", {"activos_fijos": 20000.0}),
     ("que es el igv", "asesor_regimen", "compras_mensuales", {}),
     # a complaint or a request for a person is no answer ("nada" there is not zero)
     ("no sirves para nada", "frustracion", "compras_mensuales", {}),
     ("no me ayudas en nada, pasame con un asesor", "pedir_humano", "trabajadores", {}),
     ("mi ruc es 20100070970 y vendo 5 mil", "asesor_regimen", "ventas_mensuales",
      {"ventas_mensuales": 5000.0, "ruc": "20100070970"}),
     # the calculators' amounts are not the business's figures; the rest is remembered
     ("cuanto es el igv si vendo 580", "calcular_igv", None, {}),
     ("tengo un restaurante y estoy en el RER, igv de 500", "calcular_igv", None,
      {"actividad": "restaurante", "regimen": "rer"}),
     ("mi ruc es 20100070971", "consulta_ruc", None, {})],
)  # fmt: skip
def test_slots_filled(
    domain: Domain, text: str, intent: str, requested: Optional[str], expected: Dict[str, Any]
) -> None:
    assert slots_filled(domain, text, intent, requested) == expected


def test_a_bare_amount_answers_only_the_question_asked(domain: Domain) -> None:
    # A cue word wins over the question asked; "nada" fills the asked slot only.
    assert slots_filled(domain, "compro 800", requested="ventas_mensuales") == {
        "compras_mensuales": 800.0
    }
    assert slots_filled(domain, "nada", requested="ventas_mensuales") == {}
