"""Business days and deadlines: Easter, the law's holidays (checked against the 2026 calendar
published before the year began), counting from the day after registration, Lima time."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.tickets.calendar import BusinessCalendar, easter, lima_date, long_date

#: The 16 national holidays of 2026 as published (RPP, 27 December 2025; data/tickets/
#: feriados.yml names the source).
PUBLISHED_2026 = {
    (1, 1), (4, 2), (4, 3), (5, 1), (6, 7), (6, 29), (7, 23), (7, 28), (7, 29), (8, 6),
    (8, 30), (10, 8), (11, 1), (12, 8), (12, 9), (12, 25),
}  # fmt: skip


@pytest.mark.parametrize(
    ("year", "sunday"),
    [
        (2024, dt.date(2024, 3, 31)),
        (2025, dt.date(2025, 4, 20)),
        (2026, dt.date(2026, 4, 5)),
        (2027, dt.date(2027, 3, 28)),
        (2038, dt.date(2038, 4, 25)),
    ],
)
def test_easter(year: int, sunday: dt.date) -> None:
    assert easter(year) == sunday


def test_the_holidays_of_2026_are_the_published_ones(calendar: BusinessCalendar) -> None:
    found = {
        (d.month, d.day)
        for d in (dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(365))
        if calendar.holiday(d)
    }
    assert found == PUBLISHED_2026
    assert calendar.holiday(dt.date(2027, 3, 26)) == "Viernes Santo"  # Easter 2027: 28 March


def test_business_days_skip_weekends_and_holidays(calendar: BusinessCalendar) -> None:
    # Wednesday 2 December 2026: 8 and 9 December are holidays, 5-6 and 12-13 a weekend.
    assert calendar.add_days(dt.date(2026, 12, 2), 10, business=True) == dt.date(2026, 12, 18)
    # Over New Year: 25 December and 1 January are holidays (Fridays).
    assert calendar.add_days(dt.date(2026, 12, 23), 3, business=True) == dt.date(2026, 12, 29)
    assert calendar.add_days(dt.date(2026, 12, 30), 2, business=True) == dt.date(2027, 1, 4)
    assert calendar.add_days(dt.date(2026, 12, 2), 10, business=False) == dt.date(2026, 12, 12)


def test_a_deadline_ends_at_the_end_of_its_day_in_lima(calendar: BusinessCalendar) -> None:
    # Registered at 23:30 in Lima on Friday 4 December (already the 5th in UTC): counted
    # from the Lima date, the next business day is Monday 7 December.
    registered = dt.datetime(2026, 12, 5, 4, 30, tzinfo=dt.UTC)
    assert lima_date(registered) == dt.date(2026, 12, 4)
    due = calendar.due(registered, 1, business=True)
    assert due == dt.datetime(2026, 12, 8, 4, 59, 59, 999999, tzinfo=dt.UTC)
    assert long_date(due) == "lunes 7 de diciembre de 2026"
