"""The calculators in the chat: figures from data/tax, wording from the knowledge base."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from rasa_sdk.executor import CollectingDispatcher
from trackers import tracker, user_event

from actions import calculators
from actions.calculators import ActionCalculateIgv, ActionConvertUit


def reply(action, text: str, intent: str) -> str:
    dispatcher = CollectingDispatcher()
    assert asyncio.run(action.run(dispatcher, tracker(intent, text=text), {})) == []
    [message] = dispatcher.messages
    return message["text"]


@pytest.fixture(autouse=True)
def in_2026(monkeypatch: pytest.MonkeyPatch, knowledge_dir: Path) -> None:
    monkeypatch.setattr(calculators, "_today", lambda: dt.date(2026, 11, 28))


def test_igv_of_an_amount_shows_both_readings() -> None:
    text = reply(ActionCalculateIgv(), "cuanto es el igv de 580", "calcular_igv")
    assert "S/ 580.00" in text
    assert "IGV (18%) S/ 104.40; precio con IGV S/ 684.40" in text
    assert "valor de venta S/ 491.53; IGV S/ 88.47" in text
    assert "La tasa de 18% es 15.5% de IGV más 2.5% de IPM." in text  # 2026's split


def test_amount_plus_igv() -> None:
    text = reply(ActionCalculateIgv(), "100 soles mas igv", "calcular_igv")
    assert "IGV (18%): S/ 18.00" in text and "Precio con IGV: S/ 118.00" in text
    assert "ya incluye" not in text


def test_price_without_igv() -> None:
    text = reply(ActionCalculateIgv(), "precio sin igv de 1,416", "calcular_igv")
    assert "Valor de venta (sin IGV): S/ 1,200.00" in text and "IGV (18%): S/ 216.00" in text


def test_restaurants_get_the_reduced_rate_until_it_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    text = reply(ActionCalculateIgv(), "tengo un restaurante, 500 mas igv", "calcular_igv")
    assert "Precio con IGV: S/ 552.50" in text and "31/12/2026" in text and "Ley 31556" in text
    assert "10.5% (8% de IGV más 2.5% de IPM)" in text
    # 2027: IGV 12% + IPM 3% = 15%, fixed by law (data/tax/2027.yml).
    monkeypatch.setattr(calculators, "_today", lambda: dt.date(2027, 1, 2))
    text = reply(ActionCalculateIgv(), "tengo un restaurante, 500 mas igv", "calcular_igv")
    assert "Precio con IGV: S/ 575.00" in text and "31/12/2027" in text
    assert "15% (12% de IGV más 3% de IPM)" in text
    text = reply(ActionCalculateIgv(), "100 soles mas igv", "calcular_igv")
    assert "La tasa de 18% es 15% de IGV más 3% de IPM." in text  # 2027's split
    # From 2028 the reduced rate is over: the general 18%.
    monkeypatch.setattr(calculators, "_today", lambda: dt.date(2028, 1, 3))
    text = reply(ActionCalculateIgv(), "tengo un restaurante, 500 mas igv", "calcular_igv")
    assert "Precio con IGV: S/ 590.00" in text


def test_no_amount_explains_how_to_ask() -> None:
    assert "Escríbeme el monto" in reply(ActionCalculateIgv(), "calcula el igv", "calcular_igv")


@pytest.mark.parametrize(
    "text", ["cuánto es 3+3", "2 x 5", "2x5", "cuanto es 15 por 4", "cuanto es tres mas tres"]
)
def test_numbers_without_a_tax_context_get_no_igv_calculation(text: str) -> None:
    # The NLU may take any "cuánto es <número>" for calcular_igv: the action checks the context.
    answer = reply(ActionCalculateIgv(), text, "calcular_igv")
    assert answer.startswith("Solo hago cuentas de impuestos")
    assert "S/ 3.00" not in answer and "IGV (18%)" not in answer


def test_an_operation_taken_for_a_uit_conversion_is_not_converted() -> None:
    answer = reply(ActionConvertUit(), "cuanto es 15 por 4", "convertir_uit")
    assert answer.startswith("Solo hago cuentas de impuestos") and "UIT de 2026" not in answer
    assert reply(ActionConvertUit(), "15 uit por 4", "convertir_uit").startswith("15 UIT de 2026")


def test_a_long_message_with_the_igv_included_is_worked_back() -> None:
    text = reply(
        ActionCalculateIgv(),
        "buenas, mi proveedor me vende un producto a 236 soles con IGV incluido y necesito "
        "saber cuál es el precio sin IGV para mi cotización",
        "calcular_igv",
    )
    assert text.startswith("Si S/ 236.00 ya incluye el IGV:")
    assert "Valor de venta (sin IGV): S/ 200.00" in text and "IGV (18%): S/ 36.00" in text
    assert "Precio con IGV" not in text


def test_the_money_amount_is_used_not_a_rate_or_a_count() -> None:
    text = reply(ActionCalculateIgv(), "cuanto es el 18% de 2000", "calcular_igv")
    assert "Para S/ 2,000.00:" in text and "IGV (18%) S/ 360.00" in text
    text = reply(
        ActionCalculateIgv(),
        "me piden cotizar 15 laptops, el mayorista me las deja a S/ 2,950 cada una ya con el "
        "igv, cual seria el valor de venta",
        "calcular_igv",
    )
    assert "Valor de venta (sin IGV): S/ 2,500.00" in text and "IGV (18%): S/ 450.00" in text


def test_a_follow_up_keeps_the_igv_context() -> None:
    t = tracker("calcular_igv", text="y de 1200?")
    t.events.insert(-1, user_event("cuanto es el igv de 580", "calcular_igv"))
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionCalculateIgv().run(dispatcher, t, {}))
    assert "Para S/ 1,200.00:" in dispatcher.messages[0]["text"]
    # …but not an operation between numbers.
    t = tracker("calcular_igv", text="y 3+3?")
    t.events.insert(-1, user_event("cuanto es el igv de 580", "calcular_igv"))
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionCalculateIgv().run(dispatcher, t, {}))
    assert dispatcher.messages[0]["text"].startswith("Solo hago cuentas de impuestos")


def test_edited_wording_is_used(knowledge_dir: Path) -> None:
    import os
    import time

    import yaml

    path = knowledge_dir / "calcular_igv.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["templates"]["sumar"] = "Total: {total}"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    later = time.time() + 5
    os.utime(path, (later, later))
    assert reply(ActionCalculateIgv(), "100 mas igv", "calcular_igv").startswith("Total: S/ 118.00")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("cuantos soles son 15 UIT", "15 UIT de 2026 = S/ 82,500.00"),
     ("cuanto es 1,700 uit", "1,700 UIT de 2026 = S/ 9,350,000.00"),
     ("4 uit del 2025", "4 UIT de 2025 = S/ 21,400.00"),
     ("50 mil soles en uit", "S/ 50,000.00 = 9.09 UIT de 2026"),
     ("cuantas uit son 96000", "S/ 96,000.00 = 17.45 UIT de 2026")],
)  # fmt: skip
def test_uit_conversions(text: str, expected: str) -> None:
    assert reply(ActionConvertUit(), text, "convertir_uit").startswith(expected)


def test_uit_of_a_year_without_a_file_says_which_years_there_are() -> None:
    text = reply(ActionConvertUit(), "15 uit del 2019", "convertir_uit")
    assert "2019" in text and "2024, 2025, 2026" in text


def test_a_year_whose_uit_is_not_published_is_never_given_a_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # data/tax/2027.yml has the IGV but `uit: null`.
    text = reply(ActionConvertUit(), "15 uit del 2027", "convertir_uit")
    assert text.startswith("No tengo el valor de la UIT de 2027") and "2024, 2025, 2026" in text
    monkeypatch.setattr(calculators, "_today", lambda: dt.date(2027, 3, 1))
    text = reply(ActionConvertUit(), "cuantos soles son 15 UIT", "convertir_uit")
    assert text.startswith("15 UIT de 2026 = S/ 82,500.00")  # the newest published, named
