"""Personal data in the review inbox: never in a group's key, replaced by fixed invented examples
before anything is written to the training files (masking and the examples themselves:
tests/bot/knowledge/test_personal_data.py)."""

from __future__ import annotations

from bot.knowledge.personal_data import EMAIL_PLACEHOLDER, RUC_PLACEHOLDERS
from bot.workbench.inbox import group_key
from bot.workbench.training_data import normalize_example

SAID = [
    "mi RUC 20100070970 no sale, mi DNI es 45871236, llámame al 987 111 222 o a ana@empresa.pe",
    "Mi ruc 20-1000-7097-1 no sale!! mi dni es 12345679, llámame al +51 912345678 o a luis.p@x.com",
]
PERSONAL = ["20100070970", "1000", "7097", "45871236", "111 222", "ana", "empresa", "12345679",
            "912345678", "luis"]  # fmt: skip


def test_near_duplicates_that_differ_only_in_personal_data_share_a_key_that_holds_none() -> None:
    keys = {group_key(text) for text in SAID}
    assert len(keys) == 1
    [key] = keys
    assert key == "mi ruc # no sale mi dni es # llamame al # o a correo ejemplo com"
    for value in PERSONAL:
        assert value not in key


def test_examples_for_the_training_files_never_hold_personal_data() -> None:
    """What annotations write goes through normalize_example: the real values never pass."""
    example = normalize_example("  consulta   RUC 10458712365 de ana@correo.pe ")
    assert example == f"consulta RUC {RUC_PLACEHOLDERS['10']} de {EMAIL_PLACEHOLDER}"
