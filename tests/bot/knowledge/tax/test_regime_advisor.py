"""The regime advisor's rules against hand-computed cases (figures from data/tax/2026.yml)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.knowledge.tax.regime_advisor import (
    ACTIVITY,
    FIXED_ASSETS,
    GENERAL,
    NUEVO_RUS,
    PURCHASES,
    RER,
    RMT,
    SALES,
    WORKERS,
    Figures,
    blockers,
    business_facts,
    candidates,
    decided_regime,
    possible_regimes,
    questions_left,
    recommend,
    ruled_out_since,
    stated_regime,
)
from bot.knowledge.tax.rules import TaxRules

Y = TaxRules.load().years[2026]
D = Decimal


def fig(sales: int, purchases: int, activity: str = "comercio", assets: int | None = 0,
        workers: int | None = None) -> Figures:  # fmt: skip
    return Figures(D(sales), D(purchases), activity, None if assets is None else D(assets), workers)


@pytest.mark.parametrize(
    ("figures", "regime", "category", "monthly"),
    [(fig(3000, 1000), NUEVO_RUS, "1", {"cuota": "20"}),
     (fig(5000, 5000), NUEVO_RUS, "1", {"cuota": "20"}),
     (fig(5001, 1000), NUEVO_RUS, "2", {"cuota": "50"}),
     (fig(8000, 8000), NUEVO_RUS, "2", {"cuota": "50"}),
     # 12,000 a month: over Nuevo RUS; RER 1.5% = 180, IGV 18% x 6,000 = 1,080
     (fig(12000, 6000, workers=3), RER, None, {"renta": "180.00", "igv": "1080.00"}),
     # 50,000 a month = 600,000 a year: over RER's 525,000; RMT 1% = 500; IGV 18% x 20,000
     (fig(50000, 30000, workers=3), RMT, None, {"renta": "500.00", "igv": "3600.00"}),
     # 200,000 a month = 2.4 M a year = 436 UIT: RMT without the 1% advance
     (fig(200000, 100000), RMT, None, {"igv": "18000.00"}),
     # 800,000 a month = 9.6 M a year > 1,700 UIT (9.35 M): Régimen General
     (fig(800000, 100000), GENERAL, None, {"igv": "126000.00"}),
     # excluded activities
     (fig(3000, 1000, "profesional"), RMT, None, {"renta": "30.00", "igv": "360.00"}),
     (fig(3000, 1000, "construccion"), NUEVO_RUS, "1", {"cuota": "20"}),
     (fig(12000, 6000, "construccion", workers=2), RMT, None,
      {"renta": "120.00", "igv": "1080.00"}),
     # limits other than sales
     (fig(3000, 1000, assets=80000, workers=2), RER, None, {"renta": "45.00", "igv": "360.00"}),
     (fig(12000, 6000, workers=11), RMT, None, {"renta": "120.00", "igv": "1080.00"})],
)  # fmt: skip
def test_recommendation(
    figures: Figures, regime: str, category: str | None, monthly: dict[str, str]
) -> None:
    advice = recommend(Y, figures)
    assert advice.regime == regime
    assert (advice.category.name if advice.category else None) == category
    assert {k: str(v) for k, v in advice.monthly} == monthly


def test_why_not_the_simpler_regimes() -> None:
    assert recommend(Y, fig(3000, 1000, "profesional")).ruled_out == (
        "rus_actividad",
        "rer_actividad",
    )
    assert recommend(Y, fig(800000, 100000)).ruled_out == ("rus_montos", "rer_montos", "rmt_montos")


def test_questions_only_when_they_matter() -> None:
    assert questions_left(Y, Figures()) == [SALES, PURCHASES, ACTIVITY]
    assert questions_left(Y, Figures(D(3000))) == [PURCHASES, ACTIVITY]
    # Nuevo RUS possible: fixed assets can rule it out; workers never matter for it.
    assert questions_left(Y, fig(3000, 1000, assets=None)) == [FIXED_ASSETS]
    assert questions_left(Y, fig(3000, 1000)) == []
    # Over Nuevo RUS but within RER: workers matter.
    assert questions_left(Y, fig(12000, 6000)) == [WORKERS]
    # A professional can be in neither: nothing more to ask.
    assert questions_left(Y, fig(3000, 1000, "profesional", assets=None)) == []


assert Y.regimes is not None
RUS = Y.regimes.nuevo_rus
#: The most a month of sales can be in the Nuevo RUS, from the tax file (S/ 96,000 a year).
RUS_MONTHLY_CAP = RUS.max_annual_income / 12


def test_sales_alone_can_rule_out_the_nuevo_rus() -> None:
    # "vendo 25 mil al mes": S/ 300,000 a year, over the Nuevo RUS's S/ 96,000.
    over = Figures(D(25000))
    assert D(25000) * 12 > RUS.max_annual_income
    assert blockers(Y, over, NUEVO_RUS) == ["rus_ventas"]
    assert possible_regimes(Y, over) == (RER, RMT, GENERAL)
    # The RMT stays possible whatever comes next: the Régimen General is never reached.
    assert candidates(Y, over) == (RER, RMT)
    assert decided_regime(Y, over) is None
    assert questions_left(Y, over) == [PURCHASES, ACTIVITY]
    # At the cap the Nuevo RUS is still possible.
    assert possible_regimes(Y, Figures(RUS_MONTHLY_CAP))[0] == NUEVO_RUS
    # Purchases alone too.
    assert blockers(Y, Figures(purchases=D(20000)), NUEVO_RUS) == ["rus_compras"]


def test_the_latest_figure_says_what_it_ruled_out() -> None:
    assert ruled_out_since(Y, Figures(), Figures(D(25000))) == (NUEVO_RUS,)
    assert ruled_out_since(Y, Figures(), Figures(D(3000))) == ()
    # Purchases after sales that had already ruled the Nuevo RUS out: nothing new.
    assert ruled_out_since(Y, Figures(D(25000)), Figures(D(25000), D(10000))) == ()
    assert ruled_out_since(Y, Figures(D(3000)), Figures(D(3000), D(9000))) == (NUEVO_RUS,)
    before = fig(25000, 10000, assets=None)
    assert ruled_out_since(Y, before, fig(25000, 10000, "construccion", assets=None)) == (RER,)


@pytest.mark.parametrize(
    ("figures", "regime"),
    [# 50,000 a month = 600,000 a year: over the Nuevo RUS and the RER; the RMT has no other
     # limit, so neither purchases nor activity can change the answer
     (Figures(D(50000)), RMT),
     # 800,000 a month = 9.6 M a year > 1,700 UIT: only the Régimen General
     (Figures(D(800000)), GENERAL),
     # a professional can be in neither the Nuevo RUS nor the RER
     (Figures(D(3000), activity="profesional"), RMT),
     (Figures(D(25000)), None), (Figures(D(3000)), None), (Figures(), None)],
)  # fmt: skip
def test_one_figure_can_settle_the_answer(figures: Figures, regime: str | None) -> None:
    assert decided_regime(Y, figures) == regime
    if regime is not None:
        assert questions_left(Y, figures) == []
        assert recommend(Y, figures).regime == regime


def test_a_recommendation_without_the_purchases_estimates_no_igv() -> None:
    advice = recommend(Y, Figures(D(50000)))
    assert advice.ruled_out == ("rus_ventas", "rer_ventas")
    assert {k: str(v) for k, v in advice.monthly} == {"renta": "500.00"}
    advice = recommend(Y, Figures(D(800000)))
    assert (advice.regime, advice.ruled_out) == (
        GENERAL,
        ("rus_ventas", "rer_ventas", "rmt_montos"),
    )
    assert advice.monthly == ()


@pytest.mark.parametrize(
    ("text", "facts"),
    [("vendo 3000 al mes", [("monto", 3000.0, SALES)]),
     ("vendo 7 mil y compro unos 3k", [("monto", 7000.0, SALES), ("monto", 3000.0, PURCHASES)]),
     ("compras de 2,500 y ventas de 6 mil",
      [("monto", 2500.0, PURCHASES), ("monto", 6000.0, SALES)]),
     ("7 mil", [("monto", 7000.0, None)]),
     ("7 mil, no, 8 mil", [("monto", 7000.0, None)]),
     ("nada", [("ninguno", 0, None)]),
     ("no tengo idea", []),
     ("tengo una bodega", [("actividad", "comercio", None)]),
     ("que comprobante da una bodega", [("actividad", "comercio", "mencion")]),
     ("profesional", [("actividad", "profesional", "mencion")]),
     ("soy abogado", [("actividad", "profesional", None)]),
     ("3 trabajadores", [("monto", 3, WORKERS)]),
     ("unos 20 mil en maquinas", [("monto", 20000.0, FIXED_ASSETS)]),
     ("que es el igv", []),
     ("mi ruc es 20100070970 y vendo 5 mil",
      [("monto", 5000.0, SALES), ("ruc", "20100070970", None)]),
     ("mi ruc es 20100070971", []),
     ("estoy en el RER", [("regimen", RER, None)])],
)  # fmt: skip
def test_what_people_write_about_their_business(
    text: str, facts: list[tuple[str, object, str | None]]
) -> None:
    found = business_facts(text)
    assert [(f.entity, f.value, f.role) for f in found] == facts
    for fact in found:
        assert 0 <= fact.start < fact.end <= len(text)


def test_a_fact_says_where_it_was_said() -> None:
    [ruc, regime] = business_facts("RUC 20-10007097-0, régimen: estoy en el Nuevo RUS")
    assert (ruc.start, ruc.end) == (4, 17)
    assert regime.value == NUEVO_RUS and regime.end == len(
        "RUC 20-10007097-0, régimen: estoy en el Nuevo RUS"
    )


@pytest.mark.parametrize(
    ("text", "regime"),
    [("estoy en el RER, que libros llevo", RER), ("soy del nuevo rus", NUEVO_RUS),
     ("soy rus", NUEVO_RUS), ("me acogí al régimen MYPE tributario", RMT),
     ("mi regimen es el general", GENERAL), ("estoy en el regimen especial de renta", RER),
     ("que es el rer", None), ("me conviene el rmt?", None)],
)  # fmt: skip
def test_the_regime_the_citizen_says_they_are_in(text: str, regime: str | None) -> None:
    assert stated_regime(text) == regime
