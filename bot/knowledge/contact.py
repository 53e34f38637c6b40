"""How to reach a citizen, as they typed it (a callback request, an event sign-up): a Peruvian
phone number (mobile or landline, with or without +51) or an e-mail address, cleaned."""

from __future__ import annotations

import re

_PHONE = re.compile(r"^(?:\+?51)?(9\d{8}|0[1-8]\d{6,7}|[1-8]\d{6})$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[a-z]{2,24}$", re.IGNORECASE)


def contact_of(text: str) -> str | None:
    """A phone number or e-mail address as the citizen typed it, cleaned; None if neither."""
    cleaned = text.strip()
    if _EMAIL.match(cleaned):
        return cleaned.lower()
    digits = re.sub(r"[\s().-]", "", cleaned)
    match = _PHONE.match(digits)
    return match.group(1) if match else None
