"""RUC validation: known numbers, the citizen-facing reasons, and what the check digit catches
(property-based: test_ruc_properties.py)."""

from __future__ import annotations

import pytest

from bot.knowledge.tax.ruc import (
    RucProblem,
    check_digit,
    find_ruc,
    is_valid_ruc,
    mask_ruc,
    validate_ruc,
)

# Real RUCs, the ones sunat-facts.md says the scheme was verified on.
REAL = ["20100070970", "20416715301", "20100017491"]


@pytest.mark.parametrize("ruc", REAL)
def test_real_rucs_validate(ruc: str) -> None:
    check = validate_ruc(ruc)
    assert check.valid and check.problem is None and check.ruc == ruc
    assert check.kind == "persona jurídica"


def test_check_digit_by_hand() -> None:
    # 2010007097: 2·5 + 1·3 + 7·5 + 9·3 + 7·2 = 89; 89 mod 11 = 1; (11 − 1) mod 10 = 0.
    assert check_digit("2010007097") == 0
    # 2000000000: 2·5 = 10; r = 10; 11 − 10 = 1.
    assert check_digit("2000000000") == 1
    # 2000000006: 10 + 6·2 = 22; r = 0; 11 − 0 = 11 → 1.
    assert check_digit("2000000006") == 1
    # 1000000009: 5 + 18 = 23; r = 1; 11 − 1 = 10 → 0.
    assert check_digit("1000000009") == 0
    # 1000000001: 5 + 2 = 7; r = 7; 11 − 7 = 4.
    assert check_digit("1000000001") == 4


@pytest.mark.parametrize("bad", ["123456789", "12345678901", "2010007097a", ""])
def test_check_digit_needs_ten_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        check_digit(bad)


def test_wrong_length_says_how_many_digits() -> None:
    check = validate_ruc("2010007097")
    assert check.problem is RucProblem.WRONG_LENGTH
    assert "10 dígitos" in check.message and "11" in check.message
    assert validate_ruc("201000709701").message == (
        "201000709701 no es un RUC: un RUC tiene 11 dígitos y ese número tiene 12 dígitos."
    )
    assert validate_ruc("7").message.endswith("ese número tiene 1 dígito.")
    # A very long number is shown cut, not whole.
    assert validate_ruc("1" * 40).message.startswith("11111111111… no es un RUC")


def test_a_dni_is_not_a_ruc() -> None:
    check = validate_ruc("45678912")
    assert check.problem is RucProblem.WRONG_LENGTH
    assert "8 dígitos" in check.message and "DNI" in check.message


def test_unknown_prefix_names_valid_prefixes() -> None:
    check = validate_ruc("30100070970")
    assert check.problem is RucProblem.UNKNOWN_PREFIX
    assert "10, 15, 17 o 20" in check.message and "30" in check.message


def test_bad_check_digit() -> None:
    check = validate_ruc("20100070971")
    assert check.problem is RucProblem.BAD_CHECK_DIGIT
    assert not check.valid and check.kind is None
    assert "dígito" in check.message


@pytest.mark.parametrize(
    ("text", "problem"),
    [("", RucProblem.EMPTY), ("  ", RucProblem.EMPTY), ("20100O70970", RucProblem.NOT_DIGITS)],
)
def test_empty_and_letters(text: str, problem: RucProblem) -> None:
    check = validate_ruc(text)
    assert check.problem is problem and check.message


def test_separators_are_allowed() -> None:
    assert validate_ruc("20-10007097-0").ruc == "20100070970"
    assert validate_ruc(" 20.100.070.970 ").valid


def test_kind_from_prefix() -> None:
    assert validate_ruc("10000000014").kind == "persona natural"
    assert validate_ruc("15000000016").kind == "persona natural"
    assert validate_ruc("20000000010").kind == "persona jurídica"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("mi ruc es 20100070970", "20100070970"),
        ("mi ruc es 20-10007097-0, gracias", "20100070970"),
        ("RUC: 20 100 070 970.", "20100070970"),
        ("ruc 20.100.070.970", "20100070970"),
        ("hola", None),
        ("mi dni es 45678912", None),
        ("llama al 987 654 321 123 45", None),  # 14 digits in groups: not a RUC
        ("el 20100070971 no, perdón: 20100070970", "20100070970"),  # the valid one wins
        ("es 20100070971", "20100070971"),  # invalid, returned so it can be explained
        ("123201000709701", None),  # 11 digits inside a longer number
    ],
)
def test_find_ruc(text: str, found: str | None) -> None:
    assert find_ruc(text) == found


def test_mask_ruc() -> None:
    assert mask_ruc("20123456789") == "20*****6789"
    assert "123456" not in mask_ruc("20123456789")
    assert mask_ruc("1234") == "****"


def test_the_undetected_single_digit_change_exists() -> None:
    # r = 10 for 2000000000 and r = 0 for 2000000006: both check digits are 1.
    assert is_valid_ruc("20000000001") and is_valid_ruc("20000000061")
