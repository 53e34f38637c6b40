"""A ticket's code, ``SR-2026-000123``: ``SR``, the year it was registered (Lima time) and its
number in that year, six digits. Numbers come from a per-year counter in the database
(``bot/tickets/store.py``), so codes are unique and never reused.

In a citizen's message, anything that starts like a code (``SR-`` and a digit) is read as a
status question: a well-formed code is looked up, a malformed one gets a hint on the format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "SR"
#: The highest number of a year (six digits).
MAX_NUMBER = 999_999
_WELL_FORMED = re.compile(r"(?<![A-Za-z0-9])SR-(\d{4})-(\d{6})(?![\d-])", re.IGNORECASE)
_LOOKS_LIKE = re.compile(r"(?<![A-Za-z0-9])SR-\d[\d-]*", re.IGNORECASE)
#: A code as stored (upper case, exact).
CODE = re.compile(r"^SR-\d{4}-\d{6}$")


def code_of(year: int, number: int) -> str:
    if not 1 <= number <= MAX_NUMBER:
        raise ValueError(f"ticket number out of range: {number}")
    return f"{PREFIX}-{year:04d}-{number:06d}"


@dataclass(frozen=True)
class Mention:
    """A code written in a message: ``code`` when well formed (upper case), else None with
    what was written in ``written``."""

    written: str
    code: str | None


def mentioned_code(text: str) -> Mention | None:
    """The first ticket code in ``text`` (well formed or not); None when nothing looks like
    one."""
    well_formed = _WELL_FORMED.search(text)
    if well_formed is not None:
        return Mention(well_formed.group(0), f"{PREFIX}-{well_formed[1]}-{well_formed[2]}")
    looks_like = _LOOKS_LIKE.search(text)
    if looks_like is not None:
        return Mention(looks_like.group(0)[:30].rstrip("-"), None)
    return None
