"""Ticket codes: their format, and how they are found in a citizen's message."""

from __future__ import annotations

import pytest

from bot.tickets.codes import Mention, code_of, mentioned_code


def test_a_code_has_the_year_and_six_digits() -> None:
    assert code_of(2026, 123) == "SR-2026-000123"
    with pytest.raises(ValueError):
        code_of(2026, 1_000_000)
    with pytest.raises(ValueError):
        code_of(2026, 0)


@pytest.mark.parametrize(
    ("text", "mention"),
    [
        ("estado SR-2026-000123", Mention("SR-2026-000123", "SR-2026-000123")),
        ("¿cómo va sr-2026-000045?", Mention("sr-2026-000045", "SR-2026-000045")),
        ("SR-2026-000123.", Mention("SR-2026-000123", "SR-2026-000123")),
        ("estado SR-2026-12", Mention("SR-2026-12", None)),
        ("SR-2026-0001234", Mention("SR-2026-0001234", None)),
        ("SR-2026-000123-9", Mention("SR-2026-000123-9", None)),
        ("mi código es SR-26", Mention("SR-26", None)),
    ],
)
def test_codes_in_messages(text: str, mention: Mention) -> None:
    assert mentioned_code(text) == mention


@pytest.mark.parametrize("text", ["hola", "Sr. Pérez", "USR-2026-000123", "SR-", "sr abc"])
def test_messages_without_a_code(text: str) -> None:
    assert mentioned_code(text) is None
