"""The dashboard's filters: days in Lima, defaults, and what is refused."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.dashboard.filters import FilterError, Filters, choose, lima_day_of, lima_today

TODAY = dt.date(2026, 3, 15)


def pick(
    first: dt.date | None = None, last: dt.date | None = None, channel: str | None = None
) -> Filters:
    return choose(first, last, channel, max_days=366, default_days=30, today=TODAY)


def test_a_period_runs_from_midnight_to_midnight_in_lima_in_utc() -> None:
    f = Filters(dt.date(2026, 1, 10), dt.date(2026, 1, 11))
    assert f.start == dt.datetime(2026, 1, 10, 5, tzinfo=dt.UTC)
    assert f.end == dt.datetime(2026, 1, 12, 5, tzinfo=dt.UTC)
    assert f.days() == [dt.date(2026, 1, 10), dt.date(2026, 1, 11)]


def test_the_day_in_lima_changes_at_five_in_the_morning_utc() -> None:
    assert lima_day_of(dt.datetime(2026, 1, 11, 4, 59, 59)) == dt.date(2026, 1, 10)
    assert lima_day_of(dt.datetime(2026, 1, 11, 5, tzinfo=dt.UTC)) == dt.date(2026, 1, 11)
    assert lima_today(dt.datetime(2026, 1, 1, 3, tzinfo=dt.UTC)) == dt.date(2025, 12, 31)


def test_defaults_are_the_last_days_up_to_today_on_every_channel() -> None:
    assert pick() == Filters(dt.date(2026, 2, 14), TODAY, None)
    assert pick(last=dt.date(2026, 1, 31)) == Filters(dt.date(2026, 1, 2), dt.date(2026, 1, 31))
    assert pick(first=dt.date(2026, 3, 1)) == Filters(dt.date(2026, 3, 1), TODAY)
    assert pick(channel="whatsapp").channel == "whatsapp"
    # A default longer than the longest period allowed is cut to it.
    short = choose(None, None, None, max_days=7, default_days=30, today=TODAY)
    assert short == Filters(dt.date(2026, 3, 9), TODAY)


@pytest.mark.parametrize(
    ("first", "last", "channel", "code"),
    [
        (dt.date(2026, 3, 2), dt.date(2026, 3, 1), None, "invalid_period"),
        (dt.date(2024, 12, 31), dt.date(2026, 1, 1), None, "period_too_long"),  # 367 days
        (dt.date(1999, 12, 31), dt.date(2000, 1, 1), None, "invalid_period"),
        (None, dt.date(9999, 12, 31), None, "invalid_period"),
        (None, None, "telegram", "invalid_channel"),
    ],
)
def test_bad_filters_are_refused_in_spanish(
    first: dt.date | None, last: dt.date | None, channel: str | None, code: str
) -> None:
    with pytest.raises(FilterError) as refused:
        pick(first, last, channel)
    assert refused.value.code == code
    assert refused.value.message.endswith(".")


def test_the_longest_period_is_accepted() -> None:
    f = pick(dt.date(2025, 1, 1), dt.date(2026, 1, 1) - dt.timedelta(days=1))
    assert len(f.days()) == 365
    assert len(pick(dt.date(2024, 1, 1), dt.date(2024, 12, 31)).days()) == 366
