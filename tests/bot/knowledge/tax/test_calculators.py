"""Calculators against hand-computed cases, with figures from data/tax."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bot.knowledge.tax.calculators import (
    ADD,
    BOTH,
    REMOVE,
    add_igv,
    has_igv_context,
    igv_amount,
    igv_rates,
    igv_reading,
    percent,
    remove_igv,
    soles_to_uit,
    uit_to_soles,
)
from bot.knowledge.tax.rules import TaxRules

RULES = TaxRules.load()
Y2026 = RULES.years[2026]
D = Decimal


def test_igv_rate_is_eighteen_split_as_the_law_says() -> None:
    assert Y2026.igv.total == D("0.18")
    assert percent(Y2026.igv.total) == "18%"
    assert (percent(Y2026.igv.igv_rate), percent(Y2026.igv.ipm_rate)) == ("15.5%", "2.5%")
    assert Y2026.reduced_igv is not None and Y2026.reduced_igv.total == D("0.105")


@pytest.mark.parametrize(
    ("base", "igv", "total"),
    [("580", "104.40", "684.40"), ("100", "18.00", "118.00"), ("45.50", "8.19", "53.69"),
     ("0.03", "0.01", "0.04"), ("7000", "1260.00", "8260.00")],
)  # fmt: skip
def test_adding_igv(base: str, igv: str, total: str) -> None:
    b = add_igv(D(base), D("0.18"))
    assert (b.base, b.igv, b.total) == (D(base), D(igv), D(total))


@pytest.mark.parametrize(
    ("total", "base", "igv"),
    [("118", "100.00", "18.00"), ("580", "491.53", "88.47"), ("1416", "1200.00", "216.00"),
     ("999.90", "847.37", "152.53")],
)  # fmt: skip
def test_taking_igv_out_of_a_price(total: str, base: str, igv: str) -> None:
    b = remove_igv(D(total), D("0.18"))
    assert (b.base, b.igv) == (D(base), D(igv))
    assert b.base + b.igv == D(total)


def test_reduced_rate_for_restaurants() -> None:
    assert add_igv(D("500"), D("0.105")).total == D("552.50")
    assert add_igv(D("500"), D("0.15")).total == D("575.00")


@pytest.mark.parametrize(
    ("text", "reading"),
    [("cuanto es el igv de 580", BOTH), ("100 soles mas igv", ADD), ("100 + igv", ADD),
     ("agregale igv a 300", ADD), ("cuanto seria 500 con igv", ADD),
     ("precio sin igv de 118", REMOVE), ("quitale el igv a 236", REMOVE),
     ("1180 ya tiene igv", REMOVE), ("cuanto sale 200 con igv incluido", REMOVE),
     ("desglosa 590", REMOVE), ("IGV de 1000", BOTH)],
)  # fmt: skip
def test_how_the_amount_is_meant(text: str, reading: str) -> None:
    assert igv_reading(text) == reading


LONG_WITH_IGV = (
    "buenas, mi proveedor me vende un producto a 236 soles con IGV incluido y necesito saber "
    "cuál es el precio sin IGV para mi cotización"
)


@pytest.mark.parametrize(
    ("text", "reading"),
    [(LONG_WITH_IGV, REMOVE),
     # "con IGV" right after the amount says what the amount is; the question asks the rest
     ("hola, cuánto es el precio sin igv si me cobraron 236 soles con igv", REMOVE),
     ("tengo una factura de 236 con igv, cuanto es el igv", REMOVE),
     ("mi producto cuesta 200 sin igv, cuanto es con igv", ADD),
     ("el igv ya está incluido en los 236 soles, cuánto es la base", REMOVE),
     ("un cliente me pide cotización de 15 laptops y el mayorista me las deja a 2,950 soles "
      "cada una ya con el igv, necesito saber el valor de venta de cada una", REMOVE),
     ("S/ 1,416 inc. IGV", REMOVE), ("500 c/igv, cuanto es s/igv", REMOVE),
     ("vendo a 500 soles sin incluir igv", ADD), ("el precio no incluye igv, es 300", ADD),
     ("cuanto es 1180 sin igv", REMOVE), ("cuanto es 2500 mas el 18%", ADD),
     ("si mi precio sin igv es 3200, cuanto tengo que cobrar con igv", ADD),
     ("hice una venta de 2,400 y no se cuanto de eso es igv", REMOVE),
     ("compre una laptop en 2,999 soles, cuanto de ese monto corresponde al igv", REMOVE)],
)  # fmt: skip
def test_with_or_without_igv_is_understood_anywhere_in_a_long_message(
    text: str, reading: str
) -> None:
    assert igv_reading(text) == reading


@pytest.mark.parametrize(
    ("text", "amount"),
    [(LONG_WITH_IGV, "236"),
     ("cuanto es el 18% de 2000", "2000"),  # a rate is not the amount
     ("tengo dos productos, uno a 236 soles con igv", "236"),  # money, not the count
     ("cotización de 15 laptops a S/ 2,950 cada una con igv", "2950"),
     ("igv de mil quinientos", "1500"), ("el igv sigue siendo 18%?", None)],
)  # fmt: skip
def test_the_amount_to_compute(text: str, amount: str | None) -> None:
    found = igv_amount(text)
    assert (None if found is None else found.value) == (None if amount is None else D(amount))


RATES = igv_rates(Y2026)


@pytest.mark.parametrize(
    "text",
    ["cuánto es 3+3", "2 x 5", "2x5", "cuanto es 15 por 4", "cuanto es tres mas tres",
     "cuanto es 100 entre 4", "cuanto es 3 soles + 3 soles", "cuanto es el 20% de 2000",
     "cuanto es 580"],
)  # fmt: skip
def test_numbers_without_a_tax_context_are_not_an_igv_question(text: str) -> None:
    assert not has_igv_context(text, RATES)


@pytest.mark.parametrize(
    "text",
    ["igv de 1000", "cuanto es el 18% de 2000", "valor de venta de 1770", "IGV 750",
     "cuanto es 100 soles", "S/ 580 cuanto es", "hice una boleta de 80",
     "me piden factura por 3,500", "precio de 200", LONG_WITH_IGV, "100 + igv"],
)  # fmt: skip
def test_a_tax_or_price_context(text: str) -> None:
    assert has_igv_context(text, RATES)


def test_the_rates_a_citizen_may_name_come_from_the_tax_file() -> None:
    assert Y2026.igv.total in RATES and Y2026.igv.igv_rate in RATES
    assert Y2026.reduced_igv is not None and Y2026.reduced_igv.total in RATES
    assert has_igv_context(f"cuanto es el {percent(Y2026.igv.total)} de 2000", RATES)
    # "el 18 de 500": the rate without the sign, then the amount.
    general = (Y2026.igv.total * 100).normalize()
    assert has_igv_context(f"cuanto es el {general} de 500", RATES)
    found = igv_amount(f"cuanto es el {general} de 500", RATES)
    assert found is not None and found.value == 500
    assert not has_igv_context("cuanto es el 7 de 500", RATES)


@pytest.mark.parametrize(
    ("year", "uits", "soles"),
    [(2026, "15", "82500.00"), (2026, "1700", "9350000.00"), (2025, "4", "21400.00"),
     (2024, "0.5", "2575.00")],
)  # fmt: skip
def test_uit_to_soles(year: int, uits: str, soles: str) -> None:
    assert uit_to_soles(D(uits), RULES.years[year]) == D(soles)


def test_soles_to_uit() -> None:
    assert soles_to_uit(D("50000"), Y2026) == D("9.09")
    assert soles_to_uit(D("96000"), RULES.years[2025]) == D("17.94")


def test_current_year_falls_back_to_the_newest_file() -> None:
    assert RULES.current(dt.date(2026, 6, 1)).year == 2026
    assert RULES.current(dt.date(2031, 1, 1)).year == max(RULES.years)
    assert RULES.with_regimes(dt.date(2026, 6, 1)).regimes is not None
