"""RUC lookups in the chat, against the sample padrón (data/padron, invented taxpayers)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from trackers import tracker

from actions import padron as padron_actions
from actions.padron import ActionLookupRuc
from bot.knowledge.padron import open_padron

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "padron" / "sample_padron_reducido_ruc.txt"


@pytest.fixture(autouse=True)
def sample_padron(tmp_path: Path, knowledge_dir: Path):
    store = open_padron(f"sqlite:///{tmp_path / 'padron.db'}")
    store.import_file(SAMPLE)
    padron_actions.use_padron(store)
    yield store
    store.close()


def lookup(text: str, slots=None):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(
        ActionLookupRuc().run(dispatcher, tracker("consulta_ruc", text=text, slots=slots), {})
    )
    return dispatcher.messages[0]["text"], events


def test_an_active_habido_taxpayer() -> None:
    text, events = lookup("esta activo el ruc 10000000014?")
    assert text.startswith("RUC 10000000014: QUISPE MAMANI ROSA ELENA")
    assert "Estado: ACTIVO. Puede operar" in text
    assert "Condición del domicilio: HABIDO. SUNAT ubica su domicilio fiscal" in text
    assert events == [SlotSet("ruc", "10000000014")]


def test_no_habido_is_explained_with_what_to_do() -> None:
    text, _ = lookup("20000000010")
    assert "INVERSIONES ÑAÑA PEÑA S.A.C." in text
    assert "NO HABIDO. SUNAT no lo ubicó" in text and "actualizar su domicilio fiscal" in text


@pytest.mark.parametrize(
    ("ruc", "estado"),
    [("10000000022", "El RUC fue dado de baja"), ("20000000028", "suspensión temporal"),
     ("20000000036", "SUNAT dio de baja el RUC por su cuenta")],
)  # fmt: skip
def test_every_estado_has_its_explanation(ruc: str, estado: str) -> None:
    assert estado in lookup(f"consulta ruc {ruc}")[0]


def test_a_valid_ruc_not_in_the_padron() -> None:
    text, events = lookup("consulta 17000000019")
    assert text.startswith("El RUC 17000000019 es válido, pero no figura en el padrón")
    assert events == [SlotSet("ruc", "17000000019")]


@pytest.mark.parametrize(
    ("text", "problem"),
    [("consulta ruc 20000000011", "algún dígito está cambiado"),
     ("ruc 2000000001", "2000000001 no es un RUC: un RUC tiene 11 dígitos y ese número tiene 10"),
     ("mi ruc 12345678", "Si escribiste tu DNI"),
     ("ruc 30000000010", "empieza con 30")],
)  # fmt: skip
def test_an_invalid_ruc_says_what_is_wrong_and_is_not_remembered(text: str, problem: str) -> None:
    reply, events = lookup(text)
    assert problem in reply and events == []


def test_the_remembered_ruc_is_used_when_none_is_written() -> None:
    text, events = lookup("y esta habido?", {"ruc": "20000000010"})
    assert "NO HABIDO" in text and events == []


def test_without_a_ruc_the_bot_asks_for_it() -> None:
    assert lookup("quiero consultar un ruc")[0].startswith("Te digo el estado y la condición")


def test_no_padron_loaded_says_so_plainly_and_where_to_check(tmp_path: Path) -> None:
    padron_actions.use_padron(open_padron(f"sqlite:///{tmp_path / 'vacio.db'}"))
    reply = lookup("consulta ruc 10000000014")[0]
    assert reply.startswith("Todavía no tengo cargado el padrón de RUC")
    assert "e-consultaruc.sunat.gob.pe" in reply


def test_an_unreachable_padron_is_a_temporary_problem(tmp_path: Path) -> None:
    padron_actions.use_padron(open_padron("postgresql://nadie@127.0.0.1:9/ninguna"))
    assert lookup("consulta ruc 10000000014")[0].startswith("Ahora no puedo consultar el padrón")


@pytest.mark.parametrize(
    ("text", "shown"),
    [("mi ruc es 98765", "98765 no es un RUC: un RUC tiene 11 dígitos"),
     ("consulta el RUC 123", "123 no es un RUC"),
     ("RUC: 1234567890123456", "1234567890123456 no es un RUC")],
)  # fmt: skip
def test_a_ruc_of_the_wrong_length_is_told_so(text: str, shown: str) -> None:
    reply, events = lookup(text)
    assert reply.startswith(shown) and events == []
