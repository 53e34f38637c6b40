"""What a transparency question asks of the figures, and the answer worded by the
``transparencia`` article's templates (the wording is data; this module fills in the figures).

"¿cuánto ha gastado SUNAT este año?" asks the spending (devengado, and its avance over the PIM)
of the current year; "¿cuál es el presupuesto 2025?" the budget (PIA and PIM) of 2025; "¿en qué
gasta?" adds the genéricas de gasto. A question about something else the article covers
(salaries, contracts, how to ask for public information) asks no figure: the article answers
it. Every figure goes out with the date of the data and its source, and the invented sample is
labelled as such. Standard library only (Python 3.10).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from bot.knowledge.articles import Article
from bot.knowledge.tax.cronograma import months_es
from bot.knowledge.text import fold
from bot.knowledge.transparency.records import Amounts, TransparencyStore, YearFigures

SPENDING, BUDGET = "gasto", "presupuesto"
#: Genéricas listed in one answer (largest PIM first); the rest are counted.
MAX_CATEGORIES = 6

_SPENDING = re.compile(
    r"\b(gast\w*|ejecut\w*|ejecucion|devengad\w*|avance|girad\w*|invirti\w*|invierte\w*)\b"
)
_BUDGET = re.compile(r"\b(presupuest\w*|pia|pim|asignad\w*)\b")
_CATEGORIES = re.compile(
    r"\b(en (que|q|qe|k) (se )?(gast|usa|invier|destin)\w*|por (rubro|partida|categoria|"
    r"generica|tipo)\w*|desglos\w*|detallad\w*|rubros?|partidas?|genericas?|categorias?)\b"
)
#: What the article answers even when a spending word is there: salaries, contracts, revenue,
#: how to ask for information.
_ELSEWHERE = re.compile(
    r"\b(pid\w*|pedi\w*|solicit\w*|acceso|sueldos?|remuneracion\w*|gana|ganan|planillas?|"
    r"contrat\w*|licitac\w*|compras?|proveedor\w*|vehiculos?|organigrama|recaud\w*)\b"
)
_YEAR = re.compile(r"\b(199\d|20\d\d)\b")
_LAST_YEAR = re.compile(r"\b(ano|anio|año) (pasado|anterior)\b")


@dataclass(frozen=True)
class BudgetQuestion:
    """What is asked: :data:`SPENDING` or :data:`BUDGET`, of ``anio`` (``None``: the current
    year, or the latest loaded), by genérica de gasto or not. ``named`` is whether the citizen
    named the year (then no other year is given instead)."""

    asks: str
    anio: int | None
    por_categoria: bool = False
    named: bool = False


def budget_question(text: str, today: dt.date) -> BudgetQuestion | None:
    """The figures ``text`` asks for; ``None`` when it asks none (the article answers)."""
    folded = fold(text)
    spending = _SPENDING.search(folded) is not None
    budget = _BUDGET.search(folded) is not None
    if not (spending or budget) or _ELSEWHERE.search(folded):
        return None
    year = _YEAR.search(folded)
    anio = int(year.group(1)) if year else None
    if anio is None and _LAST_YEAR.search(folded):
        anio = today.year - 1
    return BudgetQuestion(
        asks=SPENDING if spending else BUDGET,
        anio=anio,
        por_categoria=_CATEGORIES.search(folded) is not None,
        named=anio is not None,
    )


def soles_text(centimos: int) -> str:
    """``S/ 2,456.3 millones`` from a million soles up, ``S/ 845,210`` below."""
    soles = Decimal(centimos) / 100
    if abs(soles) >= 1_000_000:
        millions = (soles / 1_000_000).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        return f"S/ {millions:,.1f} millones"
    return f"S/ {soles.quantize(Decimal(1), rounding=ROUND_HALF_UP):,.0f}"


def avance_text(amounts: Amounts) -> str:
    """``87.3 %``; ``0 %`` of nothing when there is no PIM."""
    avance = amounts.avance
    return "0 %" if avance is None else f"{avance:.1f} %"


def date_text(day: dt.date) -> str:
    """``30 de noviembre de 2026``."""
    return f"{day.day} de {months_es()[day.month - 1]} de {day.year}"


def _figures(article: Article, template: str, anio: int, amounts: Amounts) -> str:
    return article.render(
        template,
        anio=str(anio),
        pia=soles_text(amounts.pia),
        pim=soles_text(amounts.pim),
        devengado=soles_text(amounts.devengado),
        avance=avance_text(amounts),
    )


def _categories(article: Article, figures: YearFigures) -> str:
    if not figures.categorias:
        return article.render("sin_categorias")
    shown = figures.categorias[:MAX_CATEGORIES]
    lines = [
        f"• {c.nombre}: {soles_text(c.amounts.devengado)} de {soles_text(c.amounts.pim)} "
        f"({avance_text(c.amounts)})"
        for c in shown
    ]
    left = len(figures.categorias) - len(shown)
    if left:
        lines.append(article.render("mas_categorias", cuantas=str(left)))
    return article.render("categorias", lineas="\n".join(lines))


def answer(
    question: BudgetQuestion, store: TransparencyStore, article: Article, today: dt.date
) -> str | None:
    """The answer with the figures, the date of the data and the source; ``None`` when no year
    is loaded (the article answers then). Raises what the store raises
    (:class:`~bot.knowledge.transparency.records.TransparencyNotLoaded` before any import)."""
    years = store.years()
    if not years:
        return None
    anio = question.anio if question.anio is not None else today.year
    parts = []
    if anio not in years:
        loaded = ", ".join(str(y) for y in years)
        if question.named:
            return article.render("otro_anio", anio=str(anio), anios=loaded)
        earlier = [y for y in years if y <= anio]
        latest = max(earlier) if earlier else max(years)
        parts.append(article.render("mas_reciente", anio=str(anio), ultimo=str(latest)))
        anio = latest
    figures = store.year(anio)
    if figures is None:  # replaced between the two reads by an import without that year
        return None
    template = "gasto" if question.asks == SPENDING else "presupuesto"
    parts.append(_figures(article, template, anio, figures.total))
    if question.por_categoria:
        parts.append(_categories(article, figures))
    fecha = date_text(figures.fecha_corte)
    if figures.ejemplo:
        parts.insert(0, article.render("ejemplo"))
        parts.append(article.render("fuente_ejemplo", fecha_corte=fecha))
    else:
        parts.append(
            article.render(
                "fuente", fecha_corte=fecha, fuente=figures.fuente, fuente_url=figures.fuente_url
            )
        )
    return "\n".join(parts)
