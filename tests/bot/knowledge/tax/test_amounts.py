"""Amounts as people write them (the property-based round trips: test_amounts_properties.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.knowledge.tax.amounts import find_amounts, parse_amount, soles


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("vendo 7 mil al mes", "7000"),
        ("S/ 7,500", "7500"),
        ("S/7.500", "7500"),
        ("7500 soles", "7500"),
        ("unos 7k", "7000"),
        ("siete mil", "7000"),
        ("SIETE MIL SOLES", "7000"),
        ("dos mil quinientos", "2500"),
        ("mil quinientos", "1500"),
        ("veintiún mil", "21000"),
        ("ciento veinte", "120"),
        ("medio millón", "500000"),
        ("un millón doscientos mil", "1200000"),
        ("1.5 millones", "1500000"),
        ("7,5 mil", "7500"),
        ("S/580.50", "580.50"),
        ("1,500.50", "1500.50"),
        ("1.500,50", "1500.50"),
        ("3 lucas", "3000"),
        ("el igv de 45.5", "45.5"),
    ],
)
def test_amounts_as_people_write_them(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text", ["tengo una consulta", "un favor", "hola", "quiero mi ruc", "cuanto es el igv"]
)
def test_no_amount_where_there_is_none(text: str) -> None:
    assert find_amounts(text) == []


def test_every_amount_in_order() -> None:
    values = [a.value for a in find_amounts("vendo 7 mil y compro unos 3k al mes")]
    assert values == [Decimal(7000), Decimal(3000)]


def test_soles_format() -> None:
    assert soles(Decimal("1234.5")) == "S/ 1,234.50"
    assert soles(Decimal("0.005")) == "S/ 0.01"
