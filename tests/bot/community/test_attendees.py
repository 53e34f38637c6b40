"""The attendee list's cells are data, never formulas."""

from __future__ import annotations

import pytest

from bot.community.attendees import cell


@pytest.mark.parametrize(
    ("value", "written"),
    [("=1+1", "'=1+1"), ("+51987654321", "'+51987654321"), ("-2", "'-2"),
     ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("Ana", "Ana"),
     ("a=b", "a=b"), (None, ""), (3, "3")],
)  # fmt: skip
def test_formulas_are_neutralised(value: object, written: str) -> None:
    assert cell(value) == written
