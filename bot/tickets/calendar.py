"""Deadlines as citizens read them: business days (Monday to Friday without Peru's national
holidays, ``data/tickets/feriados.yml``), in Lima time, written in Spanish ("martes 15 de
diciembre de 2026").

A deadline of N days is counted from the day after the ticket was registered (its Lima date)
and ends at the end of the N-th day, Lima time. The decreed "días no laborables" of the public
sector are not counted out (they are not known in advance): the answers say "de lunes a
viernes, sin feriados nacionales", which is what is counted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

LIMA = ZoneInfo("America/Lima")
WEEKDAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
MONTHS = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
    "octubre", "noviembre", "diciembre",
)  # fmt: skip


def easter(year: int) -> dt.date:
    """Easter Sunday of ``year`` (Gregorian calendar; the anonymous algorithm of Meeus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    week = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * week) // 451
    month, day = divmod(h + week - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@dataclass(frozen=True)
class Holidays:
    """The law's national holidays: fixed ``(month, day, name)`` and days relative to Easter."""

    fixed: tuple[tuple[int, int, str], ...]
    easter_offsets: tuple[tuple[int, str], ...]

    def of(self, year: int) -> dict[dt.date, str]:
        days = {dt.date(year, month, day): name for month, day, name in self.fixed}
        sunday = easter(year)
        days.update({sunday + dt.timedelta(days=o): name for o, name in self.easter_offsets})
        return days

    @classmethod
    def load(cls, path: Path) -> Holidays:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: a mapping is required")
        fixed = []
        for entry in raw.get("fixed") or []:
            month, day = (int(part) for part in str(entry["date"]).split("-"))
            dt.date(2000, month, day)  # a real day of the year (2000 is a leap year)
            fixed.append((month, day, str(entry["name"])))
        offsets = [(int(e["offset"]), str(e["name"])) for e in raw.get("easter") or []]
        if not fixed:
            raise ValueError(f"{path}: fixed holidays are required")
        return cls(tuple(fixed), tuple(offsets))


class BusinessCalendar:
    def __init__(self, holidays: Holidays) -> None:
        self._holidays = holidays
        self._years: dict[int, dict[dt.date, str]] = {}

    def holiday(self, day: dt.date) -> str | None:
        """The holiday's name, or None."""
        year = self._years.get(day.year)
        if year is None:
            year = self._years[day.year] = self._holidays.of(day.year)
        return year.get(day)

    def is_business_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and self.holiday(day) is None

    def add_days(self, start: dt.date, days: int, business: bool) -> dt.date:
        """The ``days``-th day after ``start`` (business days only when ``business``)."""
        if not business:
            return start + dt.timedelta(days=days)
        day, counted = start, 0
        while counted < days:
            day += dt.timedelta(days=1)
            if self.is_business_day(day):
                counted += 1
        return day

    def due(self, registered: dt.datetime, days: int, business: bool) -> dt.datetime:
        """When a deadline of ``days`` ends for a ticket ``registered`` then: the end of its
        last day in Lima (as a UTC moment)."""
        last = self.add_days(lima_date(registered), days, business)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), LIMA)
        return (end - dt.timedelta(microseconds=1)).astimezone(dt.UTC)


def lima_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(LIMA).date()


def long_date(moment: dt.datetime | dt.date) -> str:
    """ "martes 15 de diciembre de 2026" (a moment is read in Lima time)."""
    day = lima_date(moment) if isinstance(moment, dt.datetime) else moment
    return f"{WEEKDAYS[day.weekday()]} {day.day} de {MONTHS[day.month - 1]} de {day.year}"


def short_date(moment: dt.datetime) -> str:
    """ "3 de diciembre" (Lima time)."""
    day = lima_date(moment)
    return f"{day.day} de {MONTHS[day.month - 1]}"
