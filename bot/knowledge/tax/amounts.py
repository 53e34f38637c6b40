"""Amounts of money as people write them in a chat: "7 mil", "S/ 7,500", "7500 soles", "unos 7k",
"siete mil", "1.5 millones", "S/580.50".

Shared by the gateway and the action server (standard library only). Peru writes thousands with
a comma and decimals with a point, but chats mix both: a separator followed by exactly three
digits (and nothing more) is read as thousands, otherwise as the decimal point.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import List, Optional

from bot.knowledge.text import fold

_UNITS = {
    "cero": 0, "un": 1, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
    "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12,
    "trece": 13, "catorce": 14, "quince": 15, "dieciseis": 16, "diecisiete": 17,
    "dieciocho": 18, "diecinueve": 19, "veinte": 20, "veintiun": 21, "veintiuno": 21,
    "veintiuna": 21, "veintidos": 22, "veintitres": 23, "veinticuatro": 24, "veinticinco": 25,
    "veintiseis": 26, "veintisiete": 27, "veintiocho": 28, "veintinueve": 29, "treinta": 30,
    "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80,
    "noventa": 90, "cien": 100, "ciento": 100, "doscientos": 200, "doscientas": 200,
    "trescientos": 300, "trescientas": 300, "cuatrocientos": 400, "cuatrocientas": 400,
    "quinientos": 500, "quinientas": 500, "seiscientos": 600, "seiscientas": 600,
    "setecientos": 700, "setecientas": 700, "ochocientos": 800, "ochocientas": 800,
    "novecientos": 900, "novecientas": 900,
}  # fmt: skip
_MULTIPLIERS = {"mil": 1_000, "millon": 1_000_000, "millones": 1_000_000}
_SUFFIX = {"k": 1_000, "mil": 1_000, "millon": 1_000_000,
           "millones": 1_000_000, "mm": 1_000_000, "luca": 1_000, "lucas": 1_000}  # fmt: skip

# A number in digits, with optional thousands/decimal separators, then an optional multiplier.
_NUMBER = re.compile(
    r"(?<![\w.,])(?P<num>\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d+)?)"
    r"\s*(?P<suffix>k|mil|millones|millon|mm|lucas|luca)?(?![\w])"
)
_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class Amount:
    value: Decimal
    start: int
    end: int


def _digits(raw: str) -> Optional[Decimal]:
    """'7,500' → 7500, '7.500' → 7500, '580.50' → 580.50, '7,5' → 7.5, '1,500.50' → 1500.50."""
    separators = [ch for ch in raw if ch in ".,"]
    if not separators:
        number = raw
    else:
        last = max(raw.rfind("."), raw.rfind(","))
        decimals = raw[last + 1 :]
        kinds = set(separators)
        if len(kinds) == 2:  # both: the last one is the decimal point
            number = re.sub(r"[.,]", "", raw[:last]) + "." + decimals
        elif len(separators) > 1 or len(decimals) == 3:  # 1,500,000 / 7.500: thousands
            number = re.sub(r"[.,]", "", raw)
        else:
            number = raw[:last] + "." + decimals
    try:
        return Decimal(number)
    except InvalidOperation:
        return None


def _words_value(words: List[str]) -> Optional[int]:
    """Spanish number words ('dos mil quinientos', 'medio millon') → 2500, 500000."""
    total, current, seen = 0, 0, False
    for word in words:
        if word == "y":
            continue
        if word in _UNITS:
            current += _UNITS[word]
            seen = True
        elif word in _MULTIPLIERS:
            multiplier = _MULTIPLIERS[word]
            if multiplier == 1_000:
                current = (current or 1) * 1_000
            else:
                total = (total + (current or 1)) * multiplier
                current = 0
            seen = True
        else:
            return None
    return total + current if seen else None


def find_amounts(text: str) -> List[Amount]:
    """Every amount in ``text``, in order (positions refer to the folded text)."""
    folded = fold(text)
    found: List[Amount] = []
    taken = [False] * len(folded)
    for match in _NUMBER.finditer(folded):
        value = _digits(match.group("num"))
        if value is None:
            continue
        suffix = match.group("suffix")
        if suffix:
            value *= _SUFFIX[suffix]
        found.append(Amount(value, match.start(), match.end()))
        for i in range(match.start(), match.end()):
            taken[i] = True
    # Runs of number words ("siete mil", "medio millon", "dos mil quinientos").
    words = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(folded)]
    i = 0
    while i < len(words):
        if taken[words[i][1]]:
            i += 1
            continue
        if words[i][0] == "medio" and i + 1 < len(words) and words[i + 1][0] in ("millon", "mil"):
            half = Decimal(_MULTIPLIERS[words[i + 1][0]]) / 2
            found.append(Amount(half, words[i][1], words[i + 1][2]))
            i += 2
            continue
        j = i
        while j < len(words) and (
            words[j][0] in _UNITS or words[j][0] in _MULTIPLIERS or (words[j][0] == "y" and j > i)
        ):
            j += 1
        while j > i and words[j - 1][0] == "y":
            j -= 1
        run = [w for w, _, _ in words[i:j]]
        # "un"/"una" alone is an article, not an amount ("una consulta").
        if run and run not in (["un"], ["una"]):
            value_int = _words_value(run)
            if value_int is not None:
                found.append(Amount(Decimal(value_int), words[i][1], words[j - 1][2]))
        i = max(j, i + 1)
    return sorted(found, key=lambda a: a.start)


def parse_amount(text: str) -> Optional[Decimal]:
    """The first amount in ``text``, or None."""
    amounts = find_amounts(text)
    return amounts[0].value if amounts else None


def soles(value: Decimal) -> str:
    """S/ 1,234.50 — how SUNAT writes amounts."""
    return f"S/ {value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"
