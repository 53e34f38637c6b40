"""IGV and UIT calculators in the chat: figures from data/tax/<year>.yml, wording from the
knowledge base (articles ``calcular_igv`` and ``convertir_uit``)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge_answers import knowledge, utter_article, utter_text
from bot.knowledge.tax.amounts import find_amounts, soles
from bot.knowledge.tax.calculators import (
    ADD,
    BOTH,
    REMOVE,
    IgvBreakdown,
    add_igv,
    amount_is_in_uit,
    has_igv_context,
    igv_amount,
    igv_rates,
    igv_reading,
    is_arithmetic,
    mentioned_year,
    percent,
    remove_igv,
    soles_to_uit,
    uit_to_soles,
)
from bot.knowledge.tax.rules import TaxRulesStore, TaxYear
from bot.knowledge.text import fold

_rules: Optional[TaxRulesStore] = None
#: Words that place the business in the reduced-IGV group (restaurants, hotels, lodging).
REDUCED_IGV_WORDS = ("restaurant", "hotel", "hospedaje", "alojamiento", "hostal", "polleria")


def tax_rules() -> TaxRulesStore:
    global _rules
    if _rules is None:
        _rules = TaxRulesStore()
    return _rules


def use_tax_rules(store: TaxRulesStore) -> None:
    global _rules
    _rules = store


def _today() -> dt.date:
    return dt.date.today()


def _user_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def _number(value: Decimal) -> str:
    """15 → '15', 2.5 → '2.5', 1700 → '1,700'."""
    normalized = value.normalize()
    if normalized == normalized.to_integral():
        return f"{int(normalized):,}"
    return f"{normalized:,f}"


def _breakdown(b: IgvBreakdown) -> Dict[str, str]:
    return {"base": soles(b.base), "igv": soles(b.igv), "total": soles(b.total)}


def _follows_a_calculation(tracker: Tracker, year: TaxYear) -> bool:
    """A follow-up ("¿y de 1200?") right after an IGV question keeps its context, unless it is
    an operation between numbers."""
    if is_arithmetic(_user_text(tracker)):
        return False
    users = [e for e in tracker.events if e.get("event") == "user"]
    if len(users) < 2:
        return False
    previous = users[-2]
    intent = ((previous.get("parse_data") or {}).get("intent") or {}).get("name")
    text = str(previous.get("text") or "")
    return intent == "calcular_igv" and has_igv_context(text, igv_rates(year))


class ActionCalculateIgv(Action):
    def name(self) -> Text:
        return "action_calcular_igv"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        article = knowledge().current.require("calcular_igv")
        text = _user_text(tracker)
        year = tax_rules().current.current(_today())
        found = igv_amount(text, igv_rates(year))
        if not has_igv_context(text, igv_rates(year)) and not _follows_a_calculation(tracker, year):
            if found is not None or is_arithmetic(text):
                # "cuánto es 3+3", "2 x 5": numbers, but no tax in them.
                utter_text(dispatcher, article.render("sin_contexto"), article)
            else:
                utter_article(dispatcher, article)
            return []
        if found is None:
            utter_article(dispatcher, article)
            return []
        reduced = year.reduced_igv
        use_reduced = (
            reduced is not None
            and _today() <= reduced.until
            and any(word in fold(text) for word in REDUCED_IGV_WORDS)
        )
        rate = reduced.total if use_reduced and reduced is not None else year.igv.total
        amount = found.value
        reading = igv_reading(text, found)
        values = {"tasa": percent(rate), "monto": soles(amount)}
        if reading == ADD:
            b = add_igv(amount, rate)
            body = article.render("sumar", **_breakdown(b), **values)
        elif reading == REMOVE:
            b = remove_igv(amount, rate)
            body = article.render("quitar", **_breakdown(b), **values)
        else:
            assert reading == BOTH
            a, r = add_igv(amount, rate), remove_igv(amount, rate)
            body = article.render(
                "ambos", igv_sumado=soles(a.igv), total_sumado=soles(a.total),
                base_quitado=soles(r.base), igv_quitado=soles(r.igv), **values,
            )  # fmt: skip
        if use_reduced and reduced is not None:
            note = article.render(
                "tasa_reducida", tasa=percent(rate), tasa_igv=percent(reduced.igv_rate),
                tasa_ipm=percent(reduced.ipm_rate), hasta=reduced.until.strftime("%d/%m/%Y"),
                aplica=reduced.applies_to, norma=reduced.norm, tasa_general=percent(year.igv.total),
            )  # fmt: skip
        else:
            note = article.render(
                "tasa_general", tasa=percent(rate), tasa_igv=percent(year.igv.igv_rate),
                tasa_ipm=percent(year.igv.ipm_rate),
            )  # fmt: skip
        utter_text(dispatcher, f"{body}\n{note}", article)
        return []


_TO_UIT = re.compile(r"\b(en|a|cuantas?)\s+uits?\b")
_UIT_WORD = re.compile(r"\buits?\b|\bu\.i\.t\b")
_SOLES = re.compile(r"\b(soles?|lucas?)\b|s/")


def wants_soles(text: str, amount_end: int) -> bool:
    """ "15 UIT", "cuánto es 300 UIT" → soles; "50 mil soles en UIT", "¿cuántas UIT son 20000?"
    → UIT."""
    if amount_is_in_uit(text, amount_end):
        return True
    folded = fold(text)
    return not (_TO_UIT.search(folded) or _SOLES.search(folded))


class ActionConvertUit(Action):
    def name(self) -> Text:
        return "action_convertir_uit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        article = knowledge().current.require("convertir_uit")
        text = _user_text(tracker)
        if is_arithmetic(text) and not _UIT_WORD.search(fold(text)):
            # "cuánto es 15 por 4" taken for a conversion: not 15 UIT in soles.
            calculators = knowledge().current.require("calcular_igv")
            utter_text(dispatcher, calculators.render("sin_contexto"), calculators)
            return []
        rules = tax_rules().current
        named_year = mentioned_year(text, set(range(1990, 2100)))
        amounts = [a for a in find_amounts(text) if a.value > 0 and a.value != named_year]
        if named_year is not None and named_year not in rules.uit_years():
            anios = ", ".join(str(y) for y in rules.uit_years())
            body = article.render("anio_no_disponible", anio=str(named_year), anios=anios)
            utter_text(dispatcher, body, article)
            return []
        if not amounts:
            utter_article(dispatcher, article)
            return []
        year: Optional[TaxYear] = rules.get(named_year) if named_year is not None else None
        year = year or rules.with_uit(_today())  # this year's UIT may not be published yet
        amount = amounts[0]
        common = {"anio": str(year.year), "uit": soles(year.uit.value), "norma": year.uit.norm}
        if wants_soles(text, amount.end):
            in_soles = soles(uit_to_soles(amount.value, year))
            body = article.render("a_soles", uits=_number(amount.value), soles=in_soles, **common)
        else:
            in_uit = _number(soles_to_uit(amount.value, year))
            body = article.render("a_uit", soles=soles(amount.value), uits=in_uit, **common)
        utter_text(dispatcher, body, article)
        return []
