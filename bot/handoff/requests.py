"""How often one conversation may ask for a person and leave a callback request
(:class:`CitizenLimits`), and what the citizen is told over a limit.

The engine's handoff request itself is :class:`bot.contract.HandoffRequest`; a callback's
contact is read by :mod:`bot.knowledge.contact`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.web.rate_limits import RateLimits


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
