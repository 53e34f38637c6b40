"""IGV and UIT calculators: the arithmetic, with rates and values from the year's tax rules.

Shared with the action server (standard library only). Money is ``Decimal`` rounded half up
to the cent, the way amounts are shown on comprobantes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Optional

from bot.amounts import fold
from bot.tax_rules import TaxYear

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


#: How the citizen means the amount: "100 más IGV" (add), "118 con IGV incluido" (remove),
#: "el IGV de 580" (unclear: both readings are shown).
ADD, REMOVE, BOTH = "sumar", "quitar", "ambos"
_ADD = re.compile(
    r"\b(mas|sum\w*|agreg\w*|anad\w*|aument\w*|ponle|ponerle)\s+(el\s+|de\s+)?igv\b"
    r"|\bcuanto\s+(es|seria|sale|saldria|queda|quedaria)\b.*\bcon\s+(el\s+)?igv\b(?!\s+incluido)"
)
_REMOVE = re.compile(
    r"\b(igv\s+incluido|incluye\s+(el\s+)?igv|incluido\s+(el\s+)?igv|ya\s+tiene\s+(el\s+)?igv"
    r"|(quit|sac|descont|rest)\w*\s+(el\s+)?igv|desglos\w*|sin\s+(el\s+)?igv|valor\s+de\s+venta"
    r"|base\s+imponible)\b"
)


def igv_reading(text: str) -> str:
    """Whether ``text`` asks to add the IGV to an amount, take it out, or leaves it open."""
    folded = fold(text)
    if "+" in folded and "igv" in folded:
        return ADD
    add = bool(_ADD.search(folded))
    remove = bool(_REMOVE.search(folded))
    if add and not remove:
        return ADD
    if remove and not add:
        return REMOVE
    return BOTH


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
