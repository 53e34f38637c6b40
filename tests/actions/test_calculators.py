"""The calculators in the chat: figures from data/tax, wording from the knowledge base."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from rasa_sdk.executor import CollectingDispatcher
from trackers import tracker

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
    assert "16% de IGV más 2% de IPM" in text


def test_amount_plus_igv() -> None:
    text = reply(ActionCalculateIgv(), "100 soles mas igv", "calcular_igv")
    assert "IGV (18%): S/ 18.00" in text and "Precio con IGV: S/ 118.00" in text
    assert "ya incluye" not in text


def test_price_without_igv() -> None:
    text = reply(ActionCalculateIgv(), "precio sin igv de 1,416", "calcular_igv")
    assert "Valor de venta (sin IGV): S/ 1,200.00" in text and "IGV (18%): S/ 216.00" in text


def test_restaurants_get_the_reduced_rate_until_it_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    text = reply(ActionCalculateIgv(), "tengo un restaurante, 500 mas igv", "calcular_igv")
    assert "Precio con IGV: S/ 550.00" in text and "31/12/2026" in text and "Ley 31556" in text
    monkeypatch.setattr(calculators, "_today", lambda: dt.date(2027, 1, 2))
    text = reply(ActionCalculateIgv(), "tengo un restaurante, 500 mas igv", "calcular_igv")
    assert "Precio con IGV: S/ 590.00" in text


def test_no_amount_explains_how_to_ask() -> None:
    assert "Escríbeme el monto" in reply(ActionCalculateIgv(), "calcula el igv", "calcular_igv")


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
