"""What citizens may ask of the desk, in words: how long to wait before asking again."""

from __future__ import annotations

import pytest

from bot.handoff.requests import wait_in_words


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(1, "un minuto"), (60, "un minuto"), (61, "2 minutos"), (3599, "60 minutos"),
     (3600, "una hora"), (3601, "2 horas"), (86_400, "24 horas")],
)  # fmt: skip
def test_wait_in_words(seconds: int, words: str) -> None:
    assert wait_in_words(seconds) == words
