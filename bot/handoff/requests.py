"""What citizens and the engine ask of the desk: the engine's handoff request (taken out of its
replies), a callback's contact as the citizen typed it, and how often one conversation may ask
(:class:`CitizenLimits`) with what the citizen is told over a limit.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from bot.conversation.channel import BotMessage
from bot.conversation.rasa_client import take_report
from bot.knowledge.handoff_rules import REASONS
from bot.web.rate_limits import RateLimits

_PHONE = re.compile(r"^(?:\+?51)?(9\d{8}|0[1-8]\d{6,7}|[1-8]\d{6})$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[a-z]{2,24}$", re.IGNORECASE)


@dataclass(frozen=True)
class HandoffRequest:
    reason: str
    team: str | None
    intent: str | None
    confidence: float | None


def take_handoff_request(
    replies: list[BotMessage],
) -> tuple[list[BotMessage], HandoffRequest | None]:
    """Take the engine's handoff request out of the replies (channels never see it)."""
    replies, raw = take_report(replies, "handoff")
    if not isinstance(raw, dict) or raw.get("reason") not in REASONS:
        return replies, None
    confidence = raw.get("confidence")
    return replies, HandoffRequest(
        str(raw["reason"]),
        str(raw["team"]) if isinstance(raw.get("team"), str) else None,
        str(raw["intent"]) if isinstance(raw.get("intent"), str) else None,
        float(confidence) if isinstance(confidence, int | float) else None,
    )


def contact_of(text: str) -> str | None:
    """A phone number or e-mail address as the citizen typed it, cleaned; None if neither."""
    cleaned = text.strip()
    if _EMAIL.match(cleaned):
        return cleaned.lower()
    digits = re.sub(r"[\s().-]", "", cleaned)
    match = _PHONE.match(digits)
    return match.group(1) if match else None


@dataclass(frozen=True)
class CitizenLimits:
    """How often one conversation may ask for a person, and leave a callback request
    (``"3/hour"``: the ``limits`` notation); counted in ``counter`` before anything is stored."""

    counter: RateLimits
    handoffs: str = "3/hour"
    callbacks: str = "3/day"


#: What the citizen is told over a limit (``{espera}``: "20 minutos", "una hora"). An article
#: template of the same name in ``derivacion`` replaces it.
LIMIT_NOTICES = {
    "limite_derivaciones": "Ya pediste hablar con un asesor varias veces en poco tiempo. Podrás "
    "pedirlo de nuevo en {espera}; mientras tanto, sigo ayudándote aquí.",
    "limite_callbacks": "Ya dejaste varios pedidos de contacto en esta conversación. Podrás dejar "
    "otro en {espera}; mientras tanto, sigo ayudándote aquí.",
}


def wait_in_words(seconds: int) -> str:
    """A wait as the citizen reads it: "un minuto", "20 minutos", "una hora", "5 horas"."""
    if seconds <= 60:
        return "un minuto"
    if seconds < 3600:
        return f"{math.ceil(seconds / 60)} minutos"
    hours = math.ceil(seconds / 3600)
    return "una hora" if hours == 1 else f"{hours} horas"
