"""RUC check digits, property-based: every computed digit validates, and exactly which
single-digit errors the scheme catches."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.knowledge.tax.ruc import PREFIXES, WEIGHTS, check_digit, is_valid_ruc, validate_ruc


def remainder(first10: str) -> int:
    return sum(w * int(d) for w, d in zip(WEIGHTS, first10, strict=True)) % 11


bodies = st.tuples(st.sampled_from(PREFIXES), st.text("0123456789", min_size=8, max_size=8))


@given(bodies)
def test_every_computed_check_digit_validates(body: tuple[str, str]) -> None:
    first10 = body[0] + body[1]
    ruc = first10 + str(check_digit(first10))
    assert is_valid_ruc(ruc)
    assert validate_ruc(ruc).valid


@given(bodies, st.integers(0, 10), st.integers(1, 9))
def test_single_digit_changes(body: tuple[str, str], position: int, shift: int) -> None:
    """Exactly which single-digit errors the scheme catches.

    Changing digit i (< 10) by a non-zero δ changes the weighted sum by w_i·δ, never a multiple
    of 11 (11 is prime, w_i and |δ| are in 1..9), so the remainder r always changes. But the
    check digit (11 − r) mod 10 is 1 for both r = 0 and r = 10: a change that moves r between
    0 and 10 goes unnoticed. A changed check digit is always caught. (A changed prefix may also
    just be an unknown prefix.)
    """
    first10 = body[0] + body[1]
    ruc = first10 + str(check_digit(first10))
    digits = list(ruc)
    digits[position] = str((int(digits[position]) + shift) % 10)
    changed = "".join(digits)
    assert changed != ruc
    if position == 10:
        assert not is_valid_ruc(changed)
        return
    assert remainder(changed[:10]) != remainder(first10)
    undetected = changed[:2] in PREFIXES and {remainder(first10), remainder(changed[:10])} == {
        0,
        10,
    }
    assert is_valid_ruc(changed) == undetected
