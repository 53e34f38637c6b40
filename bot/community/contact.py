"""What a citizen signing up types at each question, read and cleaned: their name, yes and
no (how to reach them is ``bot.knowledge.contact``, shared with the handoff's callbacks)."""

from __future__ import annotations

import re

from bot.knowledge.text import fold

_LETTER = re.compile(r"[^\W\d_]")
_SPACES = re.compile(r"\s+")

NAME_MIN, NAME_MAX = 3, 120

#: Answers that mean yes, "this chat", "skip", "stop" (folded: no accents, lower case).
YES = {"si", "confirmar", "confirmo", "ok", "dale", "claro", "de acuerdo", "lista de espera"}
THIS_CHAT = {"este chat", "por este chat", "por aqui", "aqui", "este mismo", "este numero"}
SKIP = {"omitir", "no tengo", "sin ruc", "no tengo ruc", "ninguno", "no", "-"}
STOP = {"cancelar", "salir", "terminar", "ya no", "anular", "detener"}


def said(text: str) -> str:
    """What the citizen typed, folded and without surrounding punctuation, for the sets above."""
    return _SPACES.sub(" ", fold(text)).strip(" .!¡¿?").strip()


def agrees(text: str) -> bool:
    """The citizen said yes ("sí", "Confirmar", "Sí, lista de espera", "si por favor")."""
    words = said(text)
    first = words.replace(",", " ").split(" ", 1)[0]
    return words in YES or first in YES or "lista de espera" in words


def name_of(text: str) -> str | None:
    """A person's name as typed (spaces tidied), or None when it is not one: too short or
    long, without letters, with digits or an ``@``."""
    name = _SPACES.sub(" ", text).strip()
    if not NAME_MIN <= len(name) <= NAME_MAX or "@" in name:
        return None
    if any(ch.isdigit() for ch in name) or len(_LETTER.findall(name)) < 2:
        return None
    return name
