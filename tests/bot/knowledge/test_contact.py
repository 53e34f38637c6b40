"""The contact a citizen leaves for a callback: a phone number or an e-mail address, normalised."""

from __future__ import annotations

import pytest

from bot.knowledge.contact import contact_of


@pytest.mark.parametrize(
    ("text", "contact"),
    [("987654321", "987654321"), ("+51 987 654 321", "987654321"), ("(01) 315-0730", "013150730"),
     ("Rosa@Correo.pe", "rosa@correo.pe"), ("mañana", None), ("12345", None), ("987654321x", None)],
)  # fmt: skip
def test_contact_of(text: str, contact: str | None) -> None:
    assert contact_of(text) == contact
