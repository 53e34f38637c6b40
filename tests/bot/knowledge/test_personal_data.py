"""Personal data in what citizens write: masked for people (the review inbox, the fanpage's
comments), replaced by fixed invented examples (valid in shape) for the training files."""

from __future__ import annotations

import pytest

from bot.knowledge.personal_data import (
    DNI_PLACEHOLDER,
    EMAIL_PLACEHOLDER,
    PHONE_PLACEHOLDER,
    RUC_PLACEHOLDERS,
    mask,
    with_placeholders,
)
from bot.knowledge.tax.ruc import validate_ruc

SAID = [
    "mi RUC 20100070970 no sale, mi DNI es 45871236, llámame al 987 111 222 o a ana@empresa.pe",
    "Mi ruc 20-1000-7097-1 no sale!! mi dni es 12345679, llámame al +51 912345678 o a luis.p@x.com",
]
PERSONAL = ["20100070970", "1000", "7097", "45871236", "111 222", "ana", "empresa", "12345679",
            "912345678", "luis"]  # fmt: skip


def test_masked_text_keeps_only_the_shape() -> None:
    assert mask(SAID[0]) == (
        "mi RUC 20*****0970 no sale, mi DNI es *****236, llámame al 9** *** 222 o a a***@***"
    )


@pytest.mark.parametrize("text", SAID)
def test_placeholders_replace_every_kind_and_keep_training_meaningful(text: str) -> None:
    replaced = with_placeholders(text)
    for value in PERSONAL:
        assert value not in replaced, value
    assert RUC_PLACEHOLDERS["20"] in replaced and DNI_PLACEHOLDER in replaced
    assert PHONE_PLACEHOLDER in replaced and EMAIL_PLACEHOLDER in replaced
    assert with_placeholders(replaced) == replaced  # a placeholder is not replaced again


@pytest.mark.parametrize("prefix", ["10", "15", "17", "20"])
def test_a_ruc_placeholder_is_a_valid_ruc_of_the_same_kind(prefix: str) -> None:
    placeholder = RUC_PLACEHOLDERS[prefix]
    assert validate_ruc(placeholder).valid and placeholder.startswith(prefix)
    real = prefix + "458712365"
    assert with_placeholders(f"el ruc {real}") == f"el ruc {placeholder}"
