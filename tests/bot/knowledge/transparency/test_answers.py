"""What a transparency question asks, and the answer with the figure, the date of the data and
its source, worded by the real ``transparencia`` article."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.knowledge.articles import Article, load_knowledge
from bot.knowledge.transparency import open_transparency
from bot.knowledge.transparency.answers import (
    BUDGET,
    SPENDING,
    BudgetQuestion,
    answer,
    avance_text,
    budget_question,
    date_text,
    soles_text,
)
from bot.knowledge.transparency.records import Amounts, TransparencyStore

ROOT = Path(__file__).resolve().parents[4]
SAMPLE = ROOT / "data" / "transparency" / "ejemplo_inventado_ejecucion_gasto.csv"
TODAY = dt.date(2026, 12, 2)
CONSULTA_AMIGABLE = "https://apps5.mineco.gob.pe/transparencia/Navegador/default.aspx"


@pytest.fixture(scope="module")
def article() -> Article:
    return load_knowledge(ROOT / "data" / "knowledge").require("transparencia")


@pytest.fixture()
def sample(tmp_path: Path) -> Iterator[TransparencyStore]:
    store = open_transparency(f"sqlite:///{tmp_path / 'transparencia.db'}")
    store.import_file(SAMPLE)
    yield store
    store.close()


@pytest.mark.parametrize(
    ("text", "asks", "anio", "by_category"),
    [("¿cuánto ha gastado SUNAT este año?", SPENDING, None, False),
     ("¿cuál es el presupuesto 2025?", BUDGET, 2025, False),
     ("CUANTO GASTO LA SUNAT EL AÑO PASADO", SPENDING, 2025, False),
     ("en q gasta la sunat su presupuesto", SPENDING, None, True),
     ("avance de la ejecucion 2024 por generica", SPENDING, 2024, True),
     ("cual es el PIM de sunat", BUDGET, None, False)],
)  # fmt: skip
def test_what_a_question_asks(text: str, asks: str, anio: int | None, by_category: bool) -> None:
    question = budget_question(text, TODAY)
    assert question is not None
    assert (question.asks, question.anio, question.por_categoria) == (asks, anio, by_category)
    assert question.named == (anio is not None)


@pytest.mark.parametrize(
    "text",
    ["portal de transparencia de sunat", "cuanto gana el superintendente",
     "cuanto gasta sunat en sueldos", "como pido informacion sobre sus gastos",
     "donde publica sunat sus contratos y compras", "cuanto recauda y gasta sunat por region"],
)  # fmt: skip
def test_other_transparency_questions_ask_no_figure(text: str) -> None:
    assert budget_question(text, TODAY) is None


def test_amounts_dates_and_avance_as_citizens_read_them() -> None:
    assert soles_text(245_645_000_000) == "S/ 2,456.5 millones"
    assert soles_text(84_521_050) == "S/ 845,211"
    assert date_text(dt.date(2026, 9, 30)) == "30 de setiembre de 2026"
    assert avance_text(Amounts(pia=0, pim=2000, devengado=1747)) == "87.4 %"
    assert avance_text(Amounts(pia=0, pim=0, devengado=5)) == "0 %"


def test_spending_this_year_with_its_date_source_and_the_example_label(
    sample: TransparencyStore, article: Article
) -> None:
    text = answer(
        budget_question("cuanto ha gastado sunat este año", TODAY), sample, article, TODAY
    )
    assert text is not None
    lines = text.splitlines()
    assert lines[0].startswith("⚠️ EJEMPLO: estas cifras son inventadas")
    assert "no son el presupuesto ni el gasto real de SUNAT" in lines[0]
    year = sample.year(2026)
    assert year is not None
    assert (
        f"En 2026, el gasto de SUNAT (devengado) suma {soles_text(year.total.devengado)}: el "
        f"{avance_text(year.total)} de su presupuesto institucional modificado (PIM), que es de "
        f"{soles_text(year.total.pim)}." in text
    )
    assert "Fecha de corte del ejemplo: 30 de noviembre de 2026" in text
    assert CONSULTA_AMIGABLE in text and "www.transparencia.gob.pe" in text


def test_the_budget_of_a_named_year(sample: TransparencyStore, article: Article) -> None:
    question = budget_question("¿cuál es el presupuesto 2025?", TODAY)
    assert question is not None
    text = answer(question, sample, article, TODAY)
    year = sample.year(2025)
    assert text is not None and year is not None
    assert f"para 2025 es de {soles_text(year.total.pia)} al inicio del año" in text
    assert f"y de {soles_text(year.total.pim)} con las modificaciones del año" in text
    assert "devengado" not in text


def test_by_generica_lists_each_with_its_avance(
    sample: TransparencyStore, article: Article
) -> None:
    question = budget_question("en que gasta la sunat su presupuesto", TODAY)
    assert question is not None
    text = answer(question, sample, article, TODAY)
    year = sample.year(2026)
    assert text is not None and year is not None
    first = year.categorias[0]
    assert (
        f"• {first.nombre}: {soles_text(first.amounts.devengado)} de "
        f"{soles_text(first.amounts.pim)} ({avance_text(first.amounts)})" in text
    )
    assert text.count("\n• ") == len(year.categorias) == 5


def test_real_figures_name_their_source_and_date(tmp_path: Path, article: Article) -> None:
    path = tmp_path / "real.csv"
    path.write_text("ANO_EJE,MONTO_PIA,MONTO_PIM,MONTO_DEVENGADO\n2026,100,200,150\n")
    store = open_transparency(f"sqlite:///{tmp_path / 't.db'}")
    store.import_file(path, dt.date(2026, 10, 31), "MEF – Consulta Amigable", "https://mef.gob.pe/")
    text = answer(BudgetQuestion(SPENDING, None), store, article, TODAY)
    store.close()
    assert text is not None and "EJEMPLO" not in text
    assert "suma S/ 150: el 75.0 % de su presupuesto" in text
    assert text.splitlines()[-1].startswith(
        "Datos al 31 de octubre de 2026. Fuente: MEF – Consulta Amigable (https://mef.gob.pe/)."
    )


def test_a_year_not_loaded(sample: TransparencyStore, article: Article) -> None:
    named = answer(BudgetQuestion(BUDGET, 2019, named=True), sample, article, TODAY)
    assert named == (
        "No tengo cargadas las cifras de SUNAT de 2019 (tengo las de 2025, 2026). "
        f"Consúltalas en la Consulta Amigable del MEF: {CONSULTA_AMIGABLE}"
    )
    # "este año" when the current year is not loaded yet: the latest year, and it says so
    later = dt.date(2027, 1, 5)
    text = answer(BudgetQuestion(SPENDING, None), sample, article, later)
    assert text is not None
    assert "Todavía no tengo cifras de 2027; las más recientes son de 2026." in text
    assert "En 2026, el gasto de SUNAT" in text
