"""IGV and UIT calculators: the arithmetic, with rates and values from the year's tax rules.

Shared with the action server (standard library only). Money is ``Decimal`` rounded half up
to the cent, the way amounts are shown on comprobantes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Collection, List, Optional

from bot.knowledge.tax.amounts import Amount, find_amounts
from bot.knowledge.tax.rules import TaxYear
from bot.knowledge.text import fold

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def percent(rate: Decimal) -> str:
    """0.18 → '18%', 0.015 → '1.5%'."""
    return f"{(rate * 100).normalize():f}%"


@dataclass(frozen=True)
class IgvBreakdown:
    base: Decimal  # valor de venta (without IGV)
    igv: Decimal  # IGV + IPM
    total: Decimal  # precio de venta (with IGV)
    rate: Decimal


def add_igv(base: Decimal, rate: Decimal) -> IgvBreakdown:
    """The price of something worth ``base`` before tax."""
    igv = money(base * rate)
    return IgvBreakdown(money(base), igv, money(base) + igv, rate)


def remove_igv(total: Decimal, rate: Decimal) -> IgvBreakdown:
    """What a price that already includes the tax is made of."""
    base = money(total / (1 + rate))
    return IgvBreakdown(base, money(total) - base, money(total), rate)


# --- Which amount, and whether the message is about tax at all -----------------------------

#: An amount followed by "%" or "por ciento" is a rate, not an amount of money.
_PERCENT_AFTER = re.compile(r"\s*(%|por\s*ciento\b)")
#: Money marks around an amount: "S/ 580", "S/.580" before it; "soles", "lucas" after it.
_CURRENCY_BEFORE = re.compile(r"s/\.?\s*$")
_CURRENCY_AFTER = re.compile(r"\s*(soles?|nuevos\s+soles|lucas?|pen)\b")
#: Words that name the tax itself: with one of them the message is about the IGV.
_TAX_NAMED = re.compile(
    r"\b(igv|i\.\s*g\.\s*v|ipm|impuesto\s+general|valor\s+(de\s+)?venta|base\s+imponible)\b"
)
#: Words that put an amount in a tax or price context.
_PRICE_WORDS = re.compile(
    r"\b(impuestos?|tributos?|precios?|factur\w*|boletas?|comprobantes?|cotiza\w*|proforma)\b"
)
#: An operator between two amounts: "3+3", "2 x 5", "15 por 4", "100 entre 4".
_OPERATOR = re.compile(
    r"\s*(soles?)?\s*([-+*/x\u00d7\u00f7=^]|por|entre|mas|menos|multiplicado\s+por"
    r"|dividido\s+(entre|por)|elevado\s+a)\s*(s/\.?)?\s*$"
)
#: "2x5", "3*4": digits glued to an operator are not read as amounts.
_GLUED_OPERATION = re.compile(r"\d\s*[x\u00d7*]\s*\d")


def is_rate(folded: str, amount: Amount, rates: Collection[Decimal] = ()) -> bool:
    """Whether the amount is a percentage ("18%", "18 por ciento"), or one of ``rates`` said
    without the sign ("el 18 de 500")."""
    if _PERCENT_AFTER.match(folded, amount.end):
        return True
    return amount.value / 100 in rates and folded[: amount.start].endswith("el ")


def _has_currency(folded: str, amount: Amount) -> bool:
    if _CURRENCY_BEFORE.search(folded[max(0, amount.start - 4) : amount.start]):
        return True
    if "luca" in folded[amount.start : amount.end]:
        return True
    return bool(_CURRENCY_AFTER.match(folded, amount.end))


def igv_amount(text: str, rates: Collection[Decimal] = ()) -> Optional[Amount]:
    """The amount to compute the IGV of: rates ("18%", "el 18" when 18% is one of ``rates``) are
    skipped; an amount written as money ("S/ 236", "236 soles") comes before one next to the
    word IGV, one in digits before one in words ("dos productos a 236"), and then the first one
    said."""
    folded = fold(text)
    candidates = [a for a in find_amounts(text) if a.value > 0 and not is_rate(folded, a, rates)]
    if not candidates:
        return None

    def rank(indexed: tuple[int, Amount]) -> tuple[bool, bool, bool, int]:
        index, amount = indexed
        near = folded[max(0, amount.start - 25) : amount.end + 25]
        digits = any(ch.isdigit() for ch in folded[amount.start : amount.end])
        return (_has_currency(folded, amount), "igv" in near, digits, -index)

    return max(enumerate(candidates), key=rank)[1]


def _is_arithmetic(folded: str, amounts: List[Amount]) -> bool:
    """Two amounts joined by an operator ("3+3", "15 por 4"), or digits glued by one ("2x5")."""
    if _GLUED_OPERATION.search(folded):
        return True
    return any(
        _OPERATOR.fullmatch(folded[a.end : b.start]) is not None for a, b in pairwise(amounts)
    )


def _names_a_rate(folded: str, amounts: List[Amount], rates: Collection[Decimal]) -> bool:
    """Whether the text says one of the year's IGV rates as a percentage ("el 18% de 2000")."""
    return any(is_rate(folded, a, rates) and a.value / 100 in rates for a in amounts)


def has_igv_context(text: str, rates: Collection[Decimal]) -> bool:
    """Whether ``text`` asks about the tax on an amount, not for plain arithmetic.

    The tax named ("IGV", "valor de venta", "base imponible") or one of ``rates`` said as a
    percentage is enough; otherwise the message must not be an operation between numbers ("3+3",
    "2 x 5", "15 por 4") and must speak of prices ("precio", "factura", "boleta", "impuesto"…) or
    write an amount as money ("S/ 580", "236 soles")."""
    folded = fold(text)
    amounts = find_amounts(text)
    if _TAX_NAMED.search(folded) or _names_a_rate(folded, amounts, rates):
        return True
    if _is_arithmetic(folded, amounts):
        return False
    if _PRICE_WORDS.search(folded):
        return True
    return any(_has_currency(folded, a) for a in amounts if not is_rate(folded, a))


def is_arithmetic(text: str) -> bool:
    """Whether ``text`` holds an operation between numbers ("3+3", "2 x 5", "15 por 4")."""
    folded = fold(text)
    return _is_arithmetic(folded, find_amounts(text))


# --- How the amount is meant -------------------------------------------------------------------

#: How the citizen means the amount: "100 más IGV" (add), "118 con IGV incluido" (remove),
#: "el IGV de 580" (unclear: both readings are shown).
ADD, REMOVE, BOTH = "sumar", "quitar", "ambos"
_IGV = r"(el\s+)?(igv|i\.\s*g\.\s*v\.?)"
#: The amount has no IGV in it and the citizen says to add it: "100 más IGV", "sin incluir IGV".
_ADD = re.compile(
    rf"\b(mas|sum\w*|agreg\w*|anad\w*|aument\w*|ponle|ponerle)\s+(de\s+)?{_IGV}\b"
    rf"|\+\s*{_IGV}\b|\bsin\s+incluir\s+{_IGV}\b|\bno\s+(incluye|tiene|lleva)\s+{_IGV}\b"
    rf"|\b{_IGV}\s+(es\s+|va\s+)?aparte\b|\bmas\s+(el\s+)?\d+([.,]\d+)?\s*(%|por\s*ciento)"
)
#: The amount already has the IGV in it, said anywhere in the message: "236 soles con IGV
#: incluido", "el IGV ya está incluido", "ya tiene IGV", "incluye IGV", "inc. IGV".
_INCLUDED = re.compile(
    rf"\b{_IGV}\s+(ya\s+)?((esta|va|viene|estaria)\s+)?incluid[oa]\b"
    rf"|\bincluid[oa]s?\s+{_IGV}\b|(?<!no )\bincluye\w*\s+{_IGV}\b"
    rf"|\bya\s+(tiene|lleva|trae|incluye|con|esta\s+con|viene\s+con)\s+{_IGV}\b"
    rf"|\binc(l)?\.?\s*{_IGV}\b"
    rf"|\bcuanto\s+de\s+(eso|esto|ello|es[ea]\s+\w+)\s+(es|seria|corresponde\s+al?)\s+{_IGV}\b"
)
#: The citizen asks for the part without the tax: "sin IGV", "valor de venta", "quítale el IGV".
_WITHOUT = re.compile(
    rf"\bsin\s+{_IGV}\b|\bs/\s*igv\b|\bvalor\s+(de\s+)?venta\b|(?<!en )\bbase(\s+imponible)?\b"
    rf"|\b(quit|sac|descont|rest)\w*\s+{_IGV}\b|\bdesglos\w*"
)
#: "con IGV" (or "c/IGV") said somewhere.
_WITH = re.compile(rf"\bcon\s+{_IGV}\b(?!\s+incluid)|\bc/\s*igv\b")
#: "con IGV" / "sin IGV" right after the amount: "236 soles con IGV", "200 sin IGV".
_ATTACHED = re.compile(
    r"\s*(soles?|nuevos\s+soles|lucas?)?\s*,?\s*(?:(?P<con>con|c/)|(?P<sin>sin|s/))\s*"
    r"(el\s+)?(igv|i\.\s*g\.\s*v)"
)
#: "con IGV" / "sin IGV" said of the amount before it: "mi precio sin IGV es 3200".
_ATTACHED_BEFORE = re.compile(
    r"\b(?:(?P<con>con|c/)|(?P<sin>sin|s/))\s*(el\s+)?(igv|i\.\s*g\.\s*v)\s+"
    r"(es|son|era|seria|sera)\s+(de\s+)?(s/\.?\s*)?$"
)
#: A question right before the amount: "cuánto sería 500 con IGV" asks to add it.
_ASKED_BEFORE = re.compile(
    r"\bcuanto\s+(es|seria|sale|saldria|queda|quedaria|cuesta|costaria|vale|valdria|son|serian)"
    r"\s+((el|los|un|una)\s+)?(precio\s+(de\s+)?)?(s/\.?\s*)?$"
)
#: "¿cuánto es … con IGV?": the question asks for the price with the tax.
_ASKS_WITH = re.compile(
    r"\bcuanto\s+(es|seria|sale|saldria|queda|quedaria|le\s+cobro|cobro)\b.*\bcon\s+(el\s+)?igv\b"
    r"(?!\s+incluid)"
)


def igv_reading(text: str, amount: Optional[Amount] = None) -> str:
    """Whether ``text`` asks to add the IGV to ``amount`` (by default :func:`igv_amount`), take
    it out, or leaves it open. Words about the IGV count wherever they are in the message; "con
    IGV" or "sin IGV" said of the amount tells what it is ("me lo venden a 236 soles con IGV,
    ¿cuál es el precio sin IGV?", "mi precio sin IGV es 3200, ¿cuánto cobro con IGV?")."""
    folded = fold(text)
    add = bool(_ADD.search(folded))
    included = bool(_INCLUDED.search(folded))
    if add or included:
        return BOTH if add and included else ADD if add else REMOVE
    amount = amount if amount is not None else igv_amount(text)
    attached = None
    if amount is not None:
        attached = _ATTACHED.match(folded, amount.end) or _ATTACHED_BEFORE.search(
            folded, 0, amount.start
        )
    rest = folded
    if attached is not None:  # what the amount is, apart from what is asked
        rest = folded[: attached.start()] + " " + folded[attached.end() :]
    without, with_ = bool(_WITHOUT.search(rest)), bool(_WITH.search(rest))
    if attached is not None and attached.group("con"):
        asked = amount is not None and _ASKED_BEFORE.search(folded[: amount.start])
        return ADD if asked and not without else REMOVE
    if attached is not None:  # "200 sin IGV": the amount is the value without the tax
        return ADD if with_ else REMOVE
    if without and not with_:
        return REMOVE
    if with_ and not without and _ASKS_WITH.search(folded):
        return ADD
    return BOTH


def igv_rates(year: TaxYear) -> frozenset[Decimal]:
    """The year's rates as a citizen may say them: in total (18%), and the IGV alone, general and
    reduced."""
    rates = {year.igv.total, year.igv.igv_rate}
    if year.reduced_igv is not None:
        rates |= {year.reduced_igv.total, year.reduced_igv.igv_rate}
    return frozenset(rates)


def applicable_igv(year: TaxYear, reduced: bool) -> Decimal:
    if reduced and year.reduced_igv is not None:
        return year.reduced_igv.total
    return year.igv.total


def uit_to_soles(uits: Decimal, year: TaxYear) -> Decimal:
    return money(uits * year.uit.value)


def soles_to_uit(amount: Decimal, year: TaxYear) -> Decimal:
    return (amount / year.uit.value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


#: A year said as such: "del 2025", "en 2024", "año 2026", "UIT 2025", or at the very end.
_YEAR = re.compile(
    r"\b(?:del?|en(?:\s+el)?|para(?:\s+el)?|ano|uits?)\s+(20\d\d)\b|\b(20\d\d)\s*[?.!]*\s*$"
)
#: "15 UIT", "15 uits", "1,700 u.i.t."
_UIT_AMOUNT = re.compile(r"\buits?\b|\bu\.i\.t\b")


def mentioned_year(text: str, known: "set[int]") -> Optional[int]:
    """A year the text names (``2025``) among those with a rules file."""
    for match in _YEAR.finditer(fold(text)):
        year = int(match.group(1) or match.group(2))
        if year in known:
            return year
    return None


def amount_is_in_uit(text: str, amount_end: int) -> bool:
    """Whether the amount ending at ``amount_end`` (in the folded text) is followed by 'UIT'."""
    rest = fold(text)[amount_end : amount_end + 12]
    return bool(_UIT_AMOUNT.match(rest.strip()))
