"""Amounts as people write them, including property-based round trips."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


@given(st.integers(min_value=1, max_value=999_999_999))
def test_plain_and_grouped_digits_round_trip(n: int) -> None:
    assert parse_amount(f"vendo {n} al mes") == n
    assert parse_amount(f"S/ {n:,}") == n
    assert parse_amount(f"S/{n:,}".replace(",", ".")) == n


@given(st.integers(min_value=0, max_value=99_999_999), st.integers(min_value=0, max_value=99))
def test_amounts_with_cents_round_trip(units: int, cents: int) -> None:
    expected = Decimal(f"{units}.{cents:02d}")
    assert parse_amount(f"S/ {units:,}.{cents:02d}") == expected


@given(st.integers(min_value=1, max_value=999))
def test_thousands_shorthand(n: int) -> None:
    assert parse_amount(f"unos {n}k") == n * 1000
    assert parse_amount(f"{n} mil soles") == n * 1000


# An independent writer of Spanish numbers, to check the parser against.
_ONES = [
    "cero",
    "uno",
    "dos",
    "tres",
    "cuatro",
    "cinco",
    "seis",
    "siete",
    "ocho",
    "nueve",
    "diez",
    "once",
    "doce",
    "trece",
    "catorce",
    "quince",
    "dieciseis",
    "diecisiete",
    "dieciocho",
    "diecinueve",
    "veinte",
    "veintiuno",
    "veintidos",
    "veintitres",
    "veinticuatro",
    "veinticinco",
    "veintiseis",
    "veintisiete",
    "veintiocho",
    "veintinueve",
]
_TENS = {3: "treinta", 4: "cuarenta", 5: "cincuenta", 6: "sesenta", 7: "setenta", 8: "ochenta",
         9: "noventa"}  # fmt: skip
_HUNDREDS = {1: "ciento", 2: "doscientos", 3: "trescientos", 4: "cuatrocientos", 5: "quinientos",
             6: "seiscientos", 7: "setecientos", 8: "ochocientos", 9: "novecientos"}  # fmt: skip


def _below_thousand(n: int) -> str:
    if n == 100:
        return "cien"
    parts = []
    if n >= 100:
        parts.append(_HUNDREDS[n // 100])
        n %= 100
    if n >= 30:
        parts.append(_TENS[n // 10] + (f" y {_ONES[n % 10]}" if n % 10 else ""))
    elif n:
        parts.append(_ONES[n])
    return " ".join(parts)


def spanish(n: int) -> str:
    thousands, rest = divmod(n, 1000)
    words = []
    if thousands:
        words.append("mil" if thousands == 1 else f"{_below_thousand(thousands)} mil")
    if rest:
        words.append(_below_thousand(rest))
    return " ".join(words)


@given(st.integers(min_value=1, max_value=999_999))
def test_spanish_number_words_round_trip(n: int) -> None:
    assert parse_amount(f"vendo {spanish(n)} soles al mes") == n
