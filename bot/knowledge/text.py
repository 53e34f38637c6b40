"""Text as the matchers see it: case and accents folded away.

Shared by the gateway and the action server (standard library only, Python 3.10).
"""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower case without accents: what the parsers (and people who skip accents) see.

    Decomposes (NFD) and drops the nonspacing marks, so ``"Razón Ñandú"`` → ``"razon nandu"``.
    Spaces and punctuation are kept as they are.
    """
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
