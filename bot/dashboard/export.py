"""A chart's data as CSV, as a spreadsheet opens it: UTF-8 with a byte-order mark (so accents
survive Excel), a header of the columns' labels, one line per row.

A text cell that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return: an event's title, a topic) is written with a leading ``'``,
so it shows as text and never runs. Numbers are written as numbers, with a decimal point.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from bot.dashboard.charts import Chart
from bot.dashboard.filters import Filters

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """How a value is written in a cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "sí" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def chart_csv(chart: Chart) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(c.label) for c in chart.columns])
    for row in chart.rows:
        writer.writerow([cell(row.get(c.key)) for c in chart.columns])
    return "\ufeff" + out.getvalue()


def file_name(chart: Chart, f: Filters) -> str:
    """``tablero-<chart>-<from>-<to>[-<channel>].csv`` (ASCII only)."""
    parts = ["tablero", chart.name.replace("_", "-"), f.first.isoformat(), f.last.isoformat()]
    if f.channel:
        parts.append(f.channel)
    return "-".join(parts) + ".csv"
