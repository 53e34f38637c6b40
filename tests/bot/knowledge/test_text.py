"""Text folding: what the matchers (amounts, calculators, search, handoff phrases) compare."""

from __future__ import annotations

import pytest

from bot.knowledge.text import fold


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Razón Social", "razon social"),
        ("¿CUÁNTO ES EL IGV?", "¿cuanto es el igv?"),
        ("Año, señor: ÑANDÚ", "ano, senor: nandu"),
        ("pingüino", "pinguino"),
        ("n\u0303o", "no"),  # already decomposed
        ("  dos  espacios\t", "  dos  espacios\t"),  # whitespace is kept
        ("S/ 7,500.50", "s/ 7,500.50"),
        ("", ""),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_fold_keeps_the_length_of_spanish_text_and_is_idempotent() -> None:
    text = "Vendí S/ 1,500 en marzo y compré mercadería por dieciséis mil"
    assert len(fold(text)) == len(text)
    assert fold(fold(text)) == fold(text)
