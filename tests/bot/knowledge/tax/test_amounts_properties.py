"""Amounts as people write them, property-based: digits, cents, shorthands and Spanish number
words round-trip."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from bot.knowledge.tax.amounts import parse_amount


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
