"""RUC numbers: validation with a plain-Spanish reason, extraction from chat text, log masking.

A citizen who types a RUC wrong deserves to be told what is wrong (too few digits, a prefix that
no RUC has, a mistyped digit) rather than "no encontrado". The check digit is SUNAT's modulo-11
scheme (weights 5,4,3,2,7,6,5,4,3,2; see python-stdnum ``stdnum/pe/ruc.py``).

Shared by the gateway (Python >= 3.11) and the action server (Python 3.10): standard library only.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

RUC_LENGTH = 11
WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
#: 10 = persona natural with DNI, 20 = persona jurídica, 15 and 17 = other natural persons.
PREFIXES = ("10", "15", "17", "20")

_SEPARATORS = re.compile(r"[\s.\-]+")
# Eleven digits, each pair optionally separated by one space, dot or dash; not part of a longer
# run of (separated) digits, so a phone number next to a DNI is not glued into a "RUC".
_CANDIDATE = re.compile(r"(?<![\d])(?<!\d[ .\-])\d(?:[ .\-]?\d){10}(?![ .\-]?\d)")


class RucProblem(enum.Enum):
    """What is wrong with a typed RUC; the value is a stable code for logs and metrics."""

    EMPTY = "empty"
    NOT_DIGITS = "not_digits"
    WRONG_LENGTH = "wrong_length"
    UNKNOWN_PREFIX = "unknown_prefix"
    BAD_CHECK_DIGIT = "bad_check_digit"


@dataclass(frozen=True)
class RucCheck:
    """The outcome of :func:`validate_ruc`: the RUC without separators and, if invalid, why."""

    ruc: str
    problem: RucProblem | None = None
    message: str = ""

    @property
    def valid(self) -> bool:
        return self.problem is None

    @property
    def kind(self) -> str | None:
        """ "persona natural" or "persona jurídica" for a valid RUC (from its prefix)."""
        if not self.valid:
            return None
        return "persona jurídica" if self.ruc.startswith("20") else "persona natural"


def check_digit(first10: str) -> int:
    """The check digit (11th digit) for the first ten digits of a RUC."""
    if len(first10) != 10 or not first10.isascii() or not first10.isdigit():
        raise ValueError("check_digit needs exactly 10 ASCII digits")
    remainder = sum(w * int(d) for w, d in zip(WEIGHTS, first10, strict=True)) % 11
    return (11 - remainder) % 10


def is_valid_ruc(ruc: str) -> bool:
    """True for exactly 11 digits with a known prefix and the right check digit (no separators)."""
    return (
        len(ruc) == RUC_LENGTH
        and ruc.isascii()
        and ruc.isdigit()
        and ruc[:2] in PREFIXES
        and check_digit(ruc[:10]) == int(ruc[10])
    )


def validate_ruc(text: str) -> RucCheck:
    """Check a RUC as a citizen typed it (spaces, dots and dashes allowed between digits)."""
    ruc = _SEPARATORS.sub("", text or "")
    if not ruc:
        return RucCheck(
            ruc, RucProblem.EMPTY, "No encontré ningún número. El RUC tiene 11 dígitos."
        )
    if not (ruc.isascii() and ruc.isdigit()):
        return RucCheck(
            ruc,
            RucProblem.NOT_DIGITS,
            "El RUC solo tiene números (11 dígitos), sin letras ni otros signos.",
        )
    if len(ruc) != RUC_LENGTH:
        count = len(ruc)
        digits = "dígito" if count == 1 else "dígitos"
        hint = " Si escribiste tu DNI, el RUC es otro número." if count == 8 else ""
        shown = ruc if count <= 2 * RUC_LENGTH else f"{ruc[:RUC_LENGTH]}…"
        return RucCheck(
            ruc,
            RucProblem.WRONG_LENGTH,
            f"{shown} no es un RUC: un RUC tiene 11 dígitos y ese número tiene {count} {digits}."
            f"{hint}",
        )
    if ruc[:2] not in PREFIXES:
        return RucCheck(
            ruc,
            RucProblem.UNKNOWN_PREFIX,
            f"Un RUC empieza con 10, 15, 17 o 20, y este empieza con {ruc[:2]}. "
            "Revisa que lo hayas copiado bien.",
        )
    if check_digit(ruc[:10]) != int(ruc[10]):
        return RucCheck(
            ruc,
            RucProblem.BAD_CHECK_DIGIT,
            "Ese número no es un RUC válido: parece que algún dígito está cambiado. "
            "Revísalo en tu ficha RUC o en un comprobante.",
        )
    return RucCheck(ruc)


@dataclass(frozen=True)
class FoundRuc:
    value: str
    start: int
    end: int


def ruc_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` has an 11-digit number written as people write RUCs (valid or not)."""
    return [m.span() for m in _CANDIDATE.finditer(text or "")]


def find_valid_ruc(text: str) -> FoundRuc | None:
    """The first RUC in ``text`` that validates, separators removed, with where it was."""
    for match in _CANDIDATE.finditer(text or ""):
        candidate = _SEPARATORS.sub("", match.group())
        if is_valid_ruc(candidate):
            return FoundRuc(candidate, match.start(), match.end())
    return None


def find_ruc(text: str) -> str | None:
    """The RUC in a chat message ("mi ruc es 20-1234567890-1"), separators removed.

    Prefers the first candidate that validates; otherwise returns the first 11-digit candidate so
    the caller can explain what is wrong with it. ``None`` when there is no 11-digit number.
    """
    valid = find_valid_ruc(text)
    if valid is not None:
        return valid.value
    first = _CANDIDATE.search(text or "")
    return _SEPARATORS.sub("", first.group()) if first else None


def mask_ruc(ruc: str) -> str:
    """A RUC safe for logs: ``20123456789`` → ``20*****6789``."""
    if len(ruc) < 8:
        return "*" * len(ruc)
    return ruc[:2] + "*" * (len(ruc) - 6) + ruc[-4:]
