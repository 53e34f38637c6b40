"""The regime advisor: a Rasa form that asks for the business's figures, and its answer.

- What the citizen says about their business is found in the NLU pipeline
  (``bot/engine/business_facts.py``) and fills the slots through domain.yml's mappings, so a
  figure given early ("vendo 3000 al mes, ¿qué régimen me conviene?") is never asked again and a
  correction ("no, vendo 9000") replaces it.
- ``validate_asesor_regimen_form`` decides what is still to ask (fixed assets and workers only
  when they can change the answer; nothing more once the figures settle the answer, e.g. sales
  over the RER's cap) and checks the values.
- ``action_ask_<slot>`` ask, first saying which regimes the latest figures ruled out and which
  remain ("con S/ 25,000.00 al mes vendes S/ 300,000.00 al año, más que el tope anual del Nuevo
  RUS…"); ``action_recomendar_regimen`` answers; all worded by the ``asesor_regimen`` article;
  every figure comes from data/tax/<year>.yml.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.calculators import tax_rules
from actions.knowledge_answers import knowledge, utter_article, utter_text
from bot.knowledge.articles import Article
from bot.knowledge.tax.amounts import soles
from bot.knowledge.tax.calculators import percent
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
    candidates,
    decided_regime,
    questions_left,
    recommend,
    ruled_out_since,
    stated_regime,
)
from bot.knowledge.tax.rules import TaxYear

FORM = "asesor_regimen_form"
#: The regime the citizen says they are in ("estoy en el RER").
REGIME_SLOT = "regimen"
ARTICLE = "asesor_regimen"
ADVICE_INTENT = "asesor_regimen"
MAX_AMOUNT = Decimal("1e9")
MAX_WORKERS = 100_000


def _today() -> dt.date:
    return dt.date.today()


def _year() -> TaxYear:
    return tax_rules().current.with_regimes(_today())


def _article() -> Article:
    return knowledge().current.require(ARTICLE)


def _decimal(value: Any) -> Optional[Decimal]:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


#: The form's slots, in the order they are asked.
FORM_SLOTS = (SALES, PURCHASES, ACTIVITY, FIXED_ASSETS, WORKERS)


def _figures(slots: Dict[str, Any]) -> Figures:
    workers = _decimal(slots.get(WORKERS))
    return Figures(
        sales=_decimal(slots.get(SALES)),
        purchases=_decimal(slots.get(PURCHASES)),
        activity=slots.get(ACTIVITY) or None,
        fixed_assets=_decimal(slots.get(FIXED_ASSETS)),
        workers=int(workers) if workers is not None else None,
    )


def figures_of(tracker: Tracker) -> Figures:
    return _figures({slot: tracker.get_slot(slot) for slot in FORM_SLOTS})


def figures_before_latest_message(tracker: Tracker) -> Figures:
    """What the citizen had told the advisor before their latest message."""
    slots: Dict[str, Any] = {}
    users = [i for i, e in enumerate(tracker.events) if e.get("event") == "user"]
    for event in tracker.events[: users[-1] if users else len(tracker.events)]:
        kind = event.get("event")
        if kind in ("session_started", "restart", "reset_slots"):
            slots.clear()
        elif kind == "slot" and event.get("name") in FORM_SLOTS:
            slots[event["name"]] = event.get("value")
    return _figures(slots)


class ValidateAdvisorForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_asesor_regimen_form"

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        # The slots given so far (so that a correction is validated), then those still to ask:
        # none when the figures settle the answer, which ends the form.
        given = [slot for slot in FORM_SLOTS if tracker.get_slot(slot) is not None]
        return [*given, *questions_left(_year(), figures_of(tracker))]

    async def _amount(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Dict[Text, Any]:
        amount = _decimal(value)
        if amount is None or amount < 0 or amount > MAX_AMOUNT:
            utter_text(dispatcher, _article().render("no_entendi"), _article(), buttons=False)
            return {slot: None}
        self._acknowledge_correction(slot, float(amount), soles(amount), dispatcher, tracker)
        return {slot: float(amount)}

    def _acknowledge_correction(
        self,
        slot: str,
        value: Any,
        shown: str,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
    ) -> None:
        """Say so when the citizen changed an answer they had given before."""
        asked = tracker.get_slot("requested_slot")
        previous = self._previous(tracker, slot)
        if asked != slot and previous is not None and previous != value:
            article = _article()
            dato = article.render(f"dato_{slot}", valor=shown)
            utter_text(dispatcher, article.render("anotado", dato=dato), article, buttons=False)

    @staticmethod
    def _previous(tracker: Tracker, slot: str) -> Any:
        """The slot's value before this message's extraction."""
        seen_user = False
        for event in reversed(tracker.events):
            if event.get("event") == "user":
                seen_user = True
            elif seen_user and event.get("event") == "slot" and event.get("name") == slot:
                return event.get("value")
        return None

    async def validate_ventas_mensuales(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return await self._amount(SALES, value, dispatcher, tracker)

    async def validate_compras_mensuales(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return await self._amount(PURCHASES, value, dispatcher, tracker)

    async def validate_activos_fijos(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return await self._amount(FIXED_ASSETS, value, dispatcher, tracker)

    async def validate_trabajadores(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        workers = _decimal(value)
        if workers is None or workers < 0 or workers > MAX_WORKERS or workers != int(workers):
            utter_text(dispatcher, _article().render("no_entendi"), _article(), buttons=False)
            return {WORKERS: None}
        self._acknowledge_correction(
            WORKERS, float(workers), str(int(workers)), dispatcher, tracker
        )
        return {WORKERS: float(workers)}

    async def validate_actividad(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        activities = _year().activities
        if value not in activities:
            utter_text(dispatcher, _article().render("no_entendi"), _article(), buttons=False)
            return {ACTIVITY: None}
        label = activities[value].lower()
        self._acknowledge_correction(ACTIVITY, value, label, dispatcher, tracker)
        return {ACTIVITY: value}


def _replied(tracker: Tracker) -> bool:
    """Whether the assistant already said something since the citizen's latest message (a side
    question answered, or the advisor's own introduction when they asked for it again)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot":
            return True
    return False


class _AskAction(Action):
    """``action_ask_<slot>``: the article's question for that slot."""

    slot: str = ""

    def name(self) -> Text:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        article = _article()
        question = article.render(f"pregunta_{self.slot}")
        figures = figures_of(tracker)
        if not any(figures.__dict__.values()) and self.slot == SALES and not _replied(tracker):
            question = f"{article.answer}\n{question}"
        so_far = provisional_text(_year(), figures_before_latest_message(tracker), figures, article)
        if so_far is not None:
            question = f"{so_far}\n{question}"
        buttons: List[Dict[str, str]] = []
        if self.slot == ACTIVITY:
            buttons = [
                {"title": label, "payload": f'/{ADVICE_INTENT}{{"actividad":"{activity}"}}'}
                for activity, label in _year().activities.items()
            ]
        dispatcher.utter_message(text=question, buttons=buttons)
        return []


class AskSales(_AskAction):
    slot = SALES


class AskPurchases(_AskAction):
    slot = PURCHASES


class AskActivity(_AskAction):
    slot = ACTIVITY


class AskFixedAssets(_AskAction):
    slot = FIXED_ASSETS


class AskWorkers(_AskAction):
    slot = WORKERS


class ActionRecommendRegime(Action):
    def name(self) -> Text:
        return "action_recomendar_regimen"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        utter_text(dispatcher, advice_text(_year(), figures_of(tracker), _article()), _article())
        return []


def _limits(year: TaxYear, figures: Figures) -> Dict[str, str]:
    """The year's limits and the citizen's figures, as the article's reasons name them."""
    assert year.regimes is not None
    r = year.regimes
    uit = year.uit.value
    limits = {
        "tope_rus": soles(max(c.max_monthly_income for c in r.nuevo_rus.categories)),
        "anual_rus": soles(r.nuevo_rus.max_annual_income),
        "compras_anual_rus": soles(r.nuevo_rus.max_annual_purchases),
        "activos_rus": soles(r.nuevo_rus.max_fixed_assets),
        "anual_rer": soles(r.rer.max_annual_income),
        "compras_anual_rer": soles(r.rer.max_annual_purchases),
        "activos_rer": soles(r.rer.max_fixed_assets),
        "trabajadores_rer": str(r.rer.max_workers_per_shift),
        "tope_rmt": soles(r.rmt.max_annual_net_income_uit * uit),
        "uit_rmt": f"{r.rmt.max_annual_net_income_uit.normalize():,f}",
        "tope_rmt_300": soles(r.rmt.monthly_advance_limit_uit * uit),
    }
    if figures.sales is not None:
        limits.update(ventas=soles(figures.sales), ventas_anuales=soles(figures.sales * 12))
    if figures.purchases is not None:
        limits.update(
            compras=soles(figures.purchases), compras_anuales=soles(figures.purchases * 12)
        )
    return limits


#: Reasons said once for several regimes, the longest first: (reasons) → all of them.
_MERGED_REASONS = {
    ("rus_ventas", "rer_ventas", "rmt_montos"): "rus_rer_rmt_ventas",
    ("rus_actividad", "rer_actividad"): "rus_rer_actividad",
    ("rus_ventas", "rer_ventas"): "rus_rer_ventas",
    ("rus_compras", "rer_compras"): "rus_rer_compras",
    ("rus_activos", "rer_activos"): "rus_rer_activos",
}


def _reasons(ruled_out: List[str], figures: Figures, year: TaxYear, article: Article) -> str:
    """The reasons, worded and joined ("a, b y c"); what rules out several regimes is said
    once ("…más que el tope anual del Nuevo RUS (…) y del RER (…)")."""
    ids = list(dict.fromkeys(ruled_out))
    for merged, one in _MERGED_REASONS.items():
        if all(reason in ids for reason in merged):
            ids[ids.index(merged[0])] = one
            ids = [reason for reason in ids if reason not in merged[1:]]
    limits = _limits(year, figures)
    return _join([article.render(reason, **limits) for reason in ids])


def provisional_text(
    year: TaxYear, before: Figures, now: Figures, article: Article
) -> Optional[str]:
    """When the latest figures ruled regimes out but the answer is not settled yet: why, and
    which regimes remain ("…así que descarto el Nuevo RUS. Por ahora te quedan el RER y el
    RMT…")."""
    ruled_out = ruled_out_since(year, before, now)
    remaining = candidates(year, now)
    if not ruled_out or decided_regime(year, now) is not None:
        return None
    reasons = [reason for regime in ruled_out for reason in blockers(year, now, regime)]
    motivos = _reasons(reasons, now, year, article)
    return article.render(
        "provisional",
        motivos=motivos[:1].upper() + motivos[1:],
        descartados=_join([article.render(f"nombre_{r}") for r in ruled_out]),
        posibles=_join([article.render(f"nombre_{r}") for r in remaining]),
    )


def advice_text(year: TaxYear, figures: Figures, article: Article) -> str:
    """The recommendation in the article's words, with the year's figures. Without the
    purchases (when the sales alone settle it) the IGV is explained, not estimated."""
    assert year.regimes is not None and figures.sales is not None
    r = year.regimes
    uit = year.uit.value
    limits = _limits(year, figures)
    advice = recommend(year, figures)
    motivos = ""
    if advice.ruled_out:
        reasons = _reasons(list(advice.ruled_out), figures, year, article)
        motivos = article.render("motivos", lista=reasons)
    monthly = dict(advice.monthly)
    total = soles(sum(monthly.values(), Decimal(0)))
    common = {
        "motivos": motivos,
        "tasa_igv": percent(year.igv.total),
        "igv": soles(monthly.get("igv", Decimal(0))),
        "renta": soles(monthly.get("renta", Decimal(0))),
        "total": total,
        "ventas": soles(figures.sales),
        "compras": soles(figures.purchases) if figures.purchases is not None else "",
    }
    without_purchases = "_sin_compras" if figures.purchases is None else ""
    if advice.regime == NUEVO_RUS:
        assert advice.category is not None
        category = advice.category
        body = article.render(
            "nuevo_rus",
            categoria=category.name,
            tope=soles(category.max_monthly_income),
            cuota=soles(category.monthly_quota),
            **common,
        )
    elif advice.regime == RER:
        body = article.render("rer", tasa_renta=percent(r.rer.monthly_income_tax_rate), **common)
    elif advice.regime == RMT and "renta" in monthly:
        body = article.render(
            f"rmt{without_purchases}", tasa_renta=percent(r.rmt.monthly_advance_rate), **common
        )
    elif advice.regime == RMT:
        body = article.render(f"rmt_sobre_300_uit{without_purchases}", **common)
    else:
        assert advice.regime == GENERAL
        body = article.render(
            f"general{without_purchases}", tasa_anual=percent(r.general_annual_rate), **common
        )
    parts = [body]
    growth = f"crecimiento_{advice.regime}"
    if growth in article.templates:
        parts.append(article.render(growth, **limits))
    parts.append(article.render("nota", anio=str(year.year), uit=soles(uit)))
    return "\n".join(parts)


def _join(items: List[str]) -> str:
    """«a», «a y b», «a, b y c»; nothing for no items."""
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " y " + items[-1]


class ActionBooks(Action):
    """Which books to keep: for the citizen's own regime when they told us, else all."""

    def name(self) -> Text:
        return "action_libros_contables"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        article = knowledge().current.require("libros_contables")
        text = str(tracker.latest_message.get("text") or "")
        regime = stated_regime(text) or tracker.get_slot(REGIME_SLOT)
        if regime in article.templates:
            utter_text(dispatcher, article.render(regime), article)
        else:
            utter_article(dispatcher, article)
        return []
