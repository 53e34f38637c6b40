"""Which tax regime fits a new business, from its monthly figures and activity.

Pure rules over the year's tax file (``data/tax/<year>.yml``): the regime advisor form asks
for the figures (``questions_left``) and the recommendation action words the result
(:func:`recommend`). Shared with the action server (standard library only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, List, Optional, Tuple

from bot.knowledge.tax.amounts import find_amounts
from bot.knowledge.tax.calculators import money
from bot.knowledge.tax.ruc import find_valid_ruc, ruc_spans
from bot.knowledge.tax.rules import RusCategory, TaxYear
from bot.knowledge.text import fold

NUEVO_RUS, RER, RMT, GENERAL = "nuevo_rus", "rer", "rmt", "general"
#: The form's slots, in the order they are asked.
SALES, PURCHASES, ACTIVITY, FIXED_ASSETS, WORKERS = (
    "ventas_mensuales",
    "compras_mensuales",
    "actividad",
    "activos_fijos",
    "trabajadores",
)


@dataclass(frozen=True)
class Figures:
    """What the citizen told the advisor (amounts in soles a month, without IGV)."""

    sales: Optional[Decimal] = None
    purchases: Optional[Decimal] = None
    activity: Optional[str] = None
    fixed_assets: Optional[Decimal] = None
    workers: Optional[int] = None


@dataclass(frozen=True)
class Recommendation:
    regime: str
    #: Why not the simpler regimes (reason ids, worded by the advisor's article).
    ruled_out: Tuple[str, ...]
    category: Optional[RusCategory] = None
    #: Monthly payment estimate, by concept (``renta``, ``igv``, ``cuota``), in soles.
    monthly: Tuple[Tuple[str, Decimal], ...] = field(default_factory=tuple)


#: From the simplest regime to the one every business may use.
REGIMES = (NUEVO_RUS, RER, RMT, GENERAL)
#: The figures that can rule each regime out: once they are all known and none does, the
#: regime stays possible whatever the citizen says next.
_DECIDING = {
    NUEVO_RUS: (SALES, PURCHASES, ACTIVITY, FIXED_ASSETS),
    RER: (SALES, PURCHASES, ACTIVITY, FIXED_ASSETS, WORKERS),
    RMT: (SALES,),
    GENERAL: (),
}


def _known(f: Figures) -> set[str]:
    """The form's slots whose figure the citizen has given."""
    values = (
        (SALES, f.sales),
        (PURCHASES, f.purchases),
        (ACTIVITY, f.activity),
        (FIXED_ASSETS, f.fixed_assets),
        (WORKERS, f.workers),
    )
    return {slot for slot, value in values if value is not None}


def _rus_category(year: TaxYear, f: Figures) -> Optional[RusCategory]:
    assert year.regimes is not None and f.sales is not None and f.purchases is not None
    for category in year.regimes.nuevo_rus.categories:
        if f.sales <= category.max_monthly_income and f.purchases <= category.max_monthly_purchases:
            return category
    return None


def _rus_blockers(year: TaxYear, f: Figures) -> List[str]:
    """Why Nuevo RUS does not fit, as far as the figures known so far tell. One figure is
    enough: sales alone over the year's cap rule it out before the purchases are known."""
    assert year.regimes is not None
    rus = year.regimes.nuevo_rus
    blockers = []
    if f.activity is not None and f.activity in rus.excluded_activities:
        blockers.append("rus_actividad")
    if f.sales is not None and f.purchases is not None:
        if _rus_category(year, f) is None:
            blockers.append("rus_montos")
        elif f.sales * 12 > rus.max_annual_income or f.purchases * 12 > rus.max_annual_purchases:
            blockers.append("rus_anual")
    elif f.sales is not None:
        if f.sales * 12 > rus.max_annual_income:
            blockers.append("rus_ventas")
        elif f.sales > max(c.max_monthly_income for c in rus.categories):
            blockers.append("rus_montos")
    elif f.purchases is not None:
        if f.purchases * 12 > rus.max_annual_purchases:
            blockers.append("rus_compras")
        elif f.purchases > max(c.max_monthly_purchases for c in rus.categories):
            blockers.append("rus_montos")
    if f.fixed_assets is not None and f.fixed_assets > rus.max_fixed_assets:
        blockers.append("rus_activos")
    return blockers


def _rer_blockers(year: TaxYear, f: Figures) -> List[str]:
    assert year.regimes is not None
    rer = year.regimes.rer
    blockers = []
    if f.activity is not None and f.activity in rer.excluded_activities:
        blockers.append("rer_actividad")
    sales_over = f.sales is not None and f.sales * 12 > rer.max_annual_income
    purchases_over = f.purchases is not None and f.purchases * 12 > rer.max_annual_purchases
    if f.sales is not None and f.purchases is not None:
        if sales_over or purchases_over:
            blockers.append("rer_montos")
    elif sales_over:
        blockers.append("rer_ventas")
    elif purchases_over:
        blockers.append("rer_compras")
    if f.fixed_assets is not None and f.fixed_assets > rer.max_fixed_assets:
        blockers.append("rer_activos")
    if f.workers is not None and f.workers > rer.max_workers_per_shift:
        blockers.append("rer_trabajadores")
    return blockers


def _rmt_blockers(year: TaxYear, f: Figures) -> List[str]:
    assert year.regimes is not None
    limit = year.regimes.rmt.max_annual_net_income_uit * year.uit.value
    return ["rmt_montos"] if f.sales is not None and f.sales * 12 > limit else []


def blockers(year: TaxYear, f: Figures, regime: str) -> List[str]:
    """Why ``regime`` does not fit the figures known so far (reason ids, worded by the advisor's
    article); empty when it may still fit."""
    if regime == NUEVO_RUS:
        return _rus_blockers(year, f)
    if regime == RER:
        return _rer_blockers(year, f)
    if regime == RMT:
        return _rmt_blockers(year, f)
    return []


def possible_regimes(year: TaxYear, f: Figures) -> Tuple[str, ...]:
    """The regimes the figures known so far do not rule out, simplest first."""
    return tuple(regime for regime in REGIMES if not blockers(year, f, regime))


def candidates(year: TaxYear, f: Figures) -> Tuple[str, ...]:
    """The regimes that may still be the recommendation: the possible ones up to the first
    that no figure still unknown can rule out (the ones after it are never recommended)."""
    known = _known(f)
    found: List[str] = []
    for regime in possible_regimes(year, f):
        found.append(regime)
        if set(_DECIDING[regime]) <= known:
            break
    return tuple(found)


def decided_regime(year: TaxYear, f: Figures) -> Optional[str]:
    """The recommendation when the figures known so far already settle it (e.g. sales over the
    RER's cap: the RMT, whatever the purchases), else None."""
    found = candidates(year, f)
    return found[0] if len(found) == 1 else None


def ruled_out_since(year: TaxYear, before: Figures, now: Figures) -> Tuple[str, ...]:
    """The regimes the latest figures ruled out (possible with ``before``, not with ``now``)."""
    still = possible_regimes(year, now)
    return tuple(r for r in possible_regimes(year, before) if r not in still)


def questions_left(year: TaxYear, f: Figures) -> List[str]:
    """The slots still to ask, in order: none once the figures settle the recommendation.
    Fixed assets and workers are asked only when the answer can change the recommendation
    (Nuevo RUS or RER still possible)."""
    if decided_regime(year, f) is not None:
        return []
    left = [
        slot
        for slot, value in ((SALES, f.sales), (PURCHASES, f.purchases), (ACTIVITY, f.activity))
        if value is None
    ]
    if left:
        return left
    rus_possible = not _rus_blockers(year, f)
    rer_possible = not _rer_blockers(year, f)
    if f.fixed_assets is None and (rus_possible or rer_possible):
        return [FIXED_ASSETS]
    if f.workers is None and _rus_blockers(year, f) and not _rer_blockers(year, f):
        return [WORKERS]
    return []


def recommend(year: TaxYear, f: Figures) -> Recommendation:
    """The simplest regime the figures known so far do not rule out, why not the simpler ones,
    and an estimate of the monthly payment. Without the purchases it is only called when they
    cannot change the regime (:func:`decided_regime`): then the IGV is not estimated."""
    assert year.regimes is not None, "the advisor needs a year with the regimes section"
    assert f.sales is not None
    regimes = year.regimes
    igv: List[Tuple[str, Decimal]] = []
    if f.purchases is not None:
        igv.append(("igv", money(year.igv.total * max(Decimal(0), f.sales - f.purchases))))
    ruled_out: List[str] = []
    regime = possible_regimes(year, f)[0]
    for simpler in REGIMES[: REGIMES.index(regime)]:
        ruled_out += blockers(year, f, simpler)

    if regime == NUEVO_RUS:
        assert f.purchases is not None
        category = _rus_category(year, f)
        assert category is not None
        return Recommendation(NUEVO_RUS, (), category, (("cuota", category.monthly_quota),))
    if regime == RER:
        renta = money(f.sales * regimes.rer.monthly_income_tax_rate)
        return Recommendation(RER, tuple(ruled_out), None, (("renta", renta), *igv))
    if regime == RMT:
        monthly: List[Tuple[str, Decimal]] = []
        if f.sales * 12 / year.uit.value <= regimes.rmt.monthly_advance_limit_uit:
            monthly.append(("renta", money(f.sales * regimes.rmt.monthly_advance_rate)))
        return Recommendation(RMT, tuple(ruled_out), None, (*monthly, *igv))
    return Recommendation(GENERAL, tuple(ruled_out), None, tuple(igv))


# --- Understanding the citizen's answers ------------------------------------------------------

_CUES = {
    SALES: re.compile(r"\b(vend\w*|venta\w*|ingres\w*|factur\w*|gan\w*|cobr\w*)\b"),
    PURCHASES: re.compile(r"\b(compr\w*|gast\w*|insumo\w*|mercader\w*|costo\w*)\b"),
    WORKERS: re.compile(r"\b(trabajador\w*|empleado\w*|personal|ayudante\w*|colaborador\w*)\b"),
    FIXED_ASSETS: re.compile(r"\b(activo\w*|maquina\w*|equipo\w*|mueble\w*|herramienta\w*)\b"),
}
_NONE = re.compile(
    r"\b(nada|ninguno|ninguna|nadie|no\s+tengo(?!\s+(?:ni\s+)?idea)|solo\s+yo|yo\s+solo|"
    r"sola?\s+yo|cero)\b"
)
#: Words that tell the activity when the citizen types it instead of pressing a button.
ACTIVITY_WORDS = {
    "restaurante": (
        r"restaurant\w*|menu|polleria|cevicheria|chifa|cafeteria|hotel\w*|hosped\w*|hostal"
    ),
    "transporte": r"transport\w*|taxi|mototaxi|colectivo|combi|carga\s+pesada|camion\w*",
    "profesional": (
        r"soy\s+(?:un\s+|una\s+)?(?:abogad|contador|medic|ingenier|arquitect|odontolog|psicolog)"
        r"\w*|profesional(?:es)?\s+(?:independiente|con\s+titulo)|ejerzo\s+mi\s+profesion"
    ),
    "inmobiliaria": r"inmobiliari\w*|bienes\s+raices",
    "exportacion": r"export\w*",
    "construccion": r"construc\w*|obras?\s+civil\w*|contratista",
    "produccion": (
        r"fabric\w*|manufactur\w*|produzco|producimos|produccion|taller|panaderia|confeccion\w*"
    ),
    "servicios": r"servicio\w*|peluquer\w*|barberia|lavanderia|reparac\w*|delivery|spa|gimnasio",
    "comercio": (
        r"bodeg\w*|tienda|abarrotes|minimarket|comercio|vend\w*\s+(ropa|productos|zapatillas)"
    ),
}
_ACTIVITY_PATTERNS = [(a, re.compile(rf"\b({p})\b")) for a, p in ACTIVITY_WORDS.items()]
#: Words that say the citizen is describing their own business ("tengo una bodega").
OWN_BUSINESS = re.compile(
    r"\b(tengo|mi\s+negocio|me\s+dedico|soy|trabajo\s+(?:como|de|en)|vendo|pongo|"
    r"voy\s+a\s+(?:abrir|poner)|abrire|quiero\s+(?:abrir|poner))\b"
)
#: Characters around an amount in which a cue word counts for it.
_CUE_BEFORE, _CUE_AFTER = 40, 25


#: What the NLU pipeline tells the dialogue about the business (``bot/engine/business_facts.py``
#: emits these as entities; the slot mappings in domain.yml decide which slot each one fills).
#: An amount next to a cue word carries the slot as its role ("vendo 7 mil"); a bare amount has
#: no role and answers the question the form asked.
AMOUNT = "monto"
#: "nada", "solo yo": zero, for the question asked.
NOTHING = "ninguno"
#: An activity; without a role when the citizen describes their own business ("tengo una
#: bodega"), with the role ``mencion`` when it is only mentioned.
ACTIVITY_ENTITY = "actividad"
MENTIONED = "mencion"
RUC_ENTITY = "ruc"
#: The regime the citizen says they are in.
REGIME_ENTITY = "regimen"


@dataclass(frozen=True)
class Fact:
    """One thing the citizen said about their business, found in ``text[start:end]``."""

    entity: str
    value: Any
    start: int
    end: int
    role: Optional[str] = None


def _activity_in(folded: str) -> Optional[Tuple[str, int, int]]:
    """The activity named ("comercio") or told by the first word that tells one ("una
    bodega"), with where it was said."""
    stripped = folded.strip()
    if stripped in ACTIVITY_WORDS:
        start = folded.index(stripped)
        return stripped, start, start + len(stripped)
    for activity, pattern in _ACTIVITY_PATTERNS:
        match = pattern.search(folded)
        if match is not None:
            return activity, match.start(), match.end()
    return None


def _cue_for(folded: str, start: int, end: int) -> Optional[str]:
    """The slot whose cue word is nearest to the amount at ``start:end`` (before it counts
    more than after it), or None when no cue word is near."""
    slot = None
    best = None
    for candidate, cue in _CUES.items():
        for match in cue.finditer(folded):
            before = start - match.end()
            after = match.start() - end
            distance = (
                before if 0 <= before <= _CUE_BEFORE else
                after + _CUE_BEFORE if 0 <= after <= _CUE_AFTER else None
            )  # fmt: skip
            if distance is not None and (best is None or distance < best):
                slot, best = candidate, distance
    return slot


def business_facts(text: str) -> List[Fact]:
    """Amounts tied to the nearest cue word ("vendo 7 mil y compro 3 mil"), bare amounts,
    "nada"/"solo yo", the activity, a valid RUC and the regime the citizen is in. One fact per
    entity and role: the first one said."""
    folded = fold(text)
    facts: List[Fact] = []
    seen: set[Tuple[str, Optional[str]]] = set()

    def add(fact: Fact) -> None:
        if (fact.entity, fact.role) not in seen:
            seen.add((fact.entity, fact.role))
            facts.append(fact)

    rucs = ruc_spans(text)
    for amount in find_amounts(text):
        if any(start < amount.end and amount.start < end for start, end in rucs):
            continue  # a RUC (or a mistyped one), not an amount
        role = _cue_for(folded, amount.start, amount.end)
        value: Any = int(amount.value) if role == WORKERS else float(amount.value)
        add(Fact(AMOUNT, value, amount.start, amount.end, role))
    nothing = _NONE.search(folded)
    if nothing is not None:
        add(Fact(NOTHING, 0, nothing.start(), nothing.end()))
    activity = _activity_in(folded)
    if activity is not None:
        role = None if OWN_BUSINESS.search(folded) else MENTIONED
        add(Fact(ACTIVITY_ENTITY, *activity, role))
    ruc = find_valid_ruc(text)
    if ruc is not None:
        add(Fact(RUC_ENTITY, ruc.value, ruc.start, ruc.end))
    regime = _IN_REGIME.search(folded)
    if regime is not None:
        add(Fact(REGIME_ENTITY, _regime_named(regime.group(1)), *regime.span()))
    return facts


#: "estoy en el RER", "soy del nuevo rus", "me acogí al RMT", "mi régimen es el general".
_IN_REGIME = re.compile(
    r"\b(?:estoy\s+en|soy(?:\s+del?)?|pertenezco\s+al?|me\s+acogi\s+al?|acogido\s+al?|"
    r"mi\s+regimen\s+es|tributo\s+en|declaro\s+en|inscrito\s+en)\s+(?:el\s+|la\s+)?"
    r"(?:regimen\s+)?(nuevo\s+rus|rus|rer|especial(?:\s+de\s+renta)?|rmt|mype(?:\s+tributario)?|"
    r"general)\b"
)
_REGIME_NAMES = {"nuevo rus": NUEVO_RUS, "rus": NUEVO_RUS, "rer": RER, "especial": RER,
                 "rmt": RMT, "mype": RMT, "general": GENERAL}  # fmt: skip


def stated_regime(text: str) -> Optional[str]:
    """The regime the citizen says they are in (not one they ask about)."""
    match = _IN_REGIME.search(fold(text))
    return None if match is None else _regime_named(match.group(1))


def _regime_named(name: str) -> str:
    name = re.sub(r"\s+", " ", name)
    return next(regime for prefix, regime in _REGIME_NAMES.items() if name.startswith(prefix))
