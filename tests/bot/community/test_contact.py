"""What a citizen types in the sign-up, read: names, contacts, yes."""

from __future__ import annotations

import pytest

from bot.community.contact import agrees, name_of
from bot.knowledge.contact import contact_of


@pytest.mark.parametrize(
    ("typed", "name"),
    [("  María   Ñahui Huamán ", "María Ñahui Huamán"), ("Li Wu", "Li Wu"),
     ("Jo", None), ("12345", None), ("Ana 2", None), ("ana@correo.pe", None), ("--- ", None),
     ("x" * 121, None)],
)  # fmt: skip
def test_names(typed: str, name: str | None) -> None:
    assert name_of(typed) == name


@pytest.mark.parametrize(
    ("typed", "contact"),
    [("Ana@Correo.PE", "ana@correo.pe"), ("+51 987 654 321", "987654321"),
     ("(01) 315-0730", "013150730"), ("987-654-321", "987654321"), ("12345", None),
     ("ana@correo", None), ("mañana", None), ("887654321", None)],
)  # fmt: skip
def test_contacts(typed: str, contact: str | None) -> None:
    assert contact_of(typed) == contact


def test_yes() -> None:
    for typed in ("Sí", "si", "Confirmar", "Sí, lista de espera", "sí, por favor", "OK!"):
        assert agrees(typed), typed
    for typed in ("no", "No, gracias", "tal vez", "cancelar", ""):
        assert not agrees(typed), typed
