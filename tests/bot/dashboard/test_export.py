"""A chart as CSV: labels as header, numbers as numbers, nothing a spreadsheet would run."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from bot.dashboard.charts import Chart, Column
from bot.dashboard.export import cell, chart_csv, file_name
from bot.dashboard.filters import Filters


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+51 999", "'+51 999"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("Charla: tu RUC", "Charla: tu RUC"),
        (-3, "-3"),  # a number is a number, sign included
        (12.5, "12.5"),
        (None, ""),
        (dt.date(2026, 1, 2), "2026-01-02"),
    ],
)
def test_cells(value: object, written: str) -> None:
    assert cell(value) == written


def test_a_chart_as_csv() -> None:
    chart = Chart(
        "registrations",
        "Inscripciones a eventos",
        "",
        {},
        [Column("event", "Evento", "text"), Column("total", "Inscripciones", "count")],
        [{"event": "=1+1 «Feria»", "total": 3}, {"event": "Taller, en Lima", "total": None}],
    )
    text = chart_csv(chart)
    assert text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text[1:]))) == [
        ["Evento", "Inscripciones"],
        ["'=1+1 «Feria»", "3"],
        ["Taller, en Lima", ""],
    ]
    f = Filters(dt.date(2026, 1, 1), dt.date(2026, 1, 31), "whatsapp")
    assert file_name(chart, f) == "tablero-registrations-2026-01-01-2026-01-31-whatsapp.csv"
