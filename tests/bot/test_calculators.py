"""Calculators against hand-computed cases, with figures from data/tax."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bot.calculators import (
    ADD,
    BOTH,
    REMOVE,
    add_igv,
    igv_reading,
    percent,
    remove_igv,
    soles_to_uit,
    uit_to_soles,
)
from bot.tax_rules import TaxRules

RULES = TaxRules.load()
Y2026 = RULES.years[2026]
D = Decimal


def test_igv_rate_is_sixteen_plus_two() -> None:
    assert Y2026.igv.total == D("0.18")
    assert percent(Y2026.igv.total) == "18%"
    assert Y2026.reduced_igv is not None and Y2026.reduced_igv.total == D("0.10")


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
    assert add_igv(D("500"), D("0.10")).total == D("550.00")


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
