"""An event's checks (every problem named, in Spanish) and moments in Lima time."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.community.events import LIMA, WEB_ADDRESS_PATTERN, from_lima, in_lima, when_text
from tests.bot.community.conftest import draft

NOW = dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC)


def codes(**changes: object) -> list[str]:
    return [code for _, code, _ in draft(**changes).problems(NOW)]


def test_a_sound_event_has_no_problems() -> None:
    starts = NOW + dt.timedelta(days=1)
    assert codes(starts_at=starts, ends_at=None, registration_deadline=starts) == []


def test_each_problem_is_named() -> None:
    past = NOW - dt.timedelta(minutes=1)
    assert codes(starts_at=past, ends_at=None, registration_deadline=past) == [
        "event_in_past", "deadline_in_past",
    ]  # fmt: skip
    starts = NOW + dt.timedelta(days=1)
    assert codes(starts_at=starts, registration_deadline=starts + dt.timedelta(seconds=1),
                 ends_at=None) == ["deadline_after_start"]  # fmt: skip
    assert codes(starts_at=starts, registration_deadline=past, ends_at=None) == ["deadline_in_past"]
    assert codes(starts_at=starts, registration_deadline=starts, ends_at=starts) == [
        "ends_before_start"
    ]
    assert codes(place=" ", online_url=None, starts_at=starts, registration_deadline=starts) == [
        "place_missing"
    ]
    assert codes(place=None, online_url="ftp://x.pe", starts_at=starts,
                 registration_deadline=starts) == ["url_invalid"]  # fmt: skip
    assert codes(capacity=0, starts_at=starts, registration_deadline=starts) == [
        "capacity_out_of_range"
    ]
    assert codes(kind="fiesta", title=" ", description="", starts_at=starts,
                 registration_deadline=starts) == [
        "title_missing", "kind_unknown", "description_missing",
    ]  # fmt: skip
    problems = draft(starts_at=past, ends_at=None, registration_deadline=past).problems(NOW)
    message = problems[0][2]
    assert message.startswith("La fecha y hora del evento ya pasaron")


@pytest.mark.parametrize(
    "link",
    [
        "https://us02web.zoom.us/j/81234567890?pwd=aBc123",
        "https://meet.google.com/abc-defg-hij",
        "http://www.sunat.gob.pe:8080/orientacion#taller",
        "https://Teams.Microsoft.com/l/meetup-join/19%3ameeting",
        "",  # no link
    ],
)
def test_a_web_address_is_a_link(link: str) -> None:
    starts = NOW + dt.timedelta(days=1)
    assert codes(place="Lima", online_url=link, starts_at=starts,
                 registration_deadline=starts) == []  # fmt: skip
    assert re.search(WEB_ADDRESS_PATTERN, link)  # what the API's document says


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "ftp://x.pe",
        "https://",
        "https://:443/sala",
        "www.sunat.gob.pe",
        "HTTPS://ZOOM.US/J/1",
        " https://zoom.us/j/1",
        "https://zoom.us/j/1\n",
        "https://zoom.us/j/1 sala 2",
        "https://zoom.us/j/1\u00a0",
        "https://[::1",  # once a ValueError from urlsplit
    ],
)
def test_anything_else_is_refused_as_a_link(link: str) -> None:
    starts = NOW + dt.timedelta(days=1)
    assert codes(place="Lima", online_url=link, starts_at=starts,
                 registration_deadline=starts) == ["url_invalid"]  # fmt: skip


def test_lima_is_five_hours_behind_utc_all_year() -> None:
    for month in (1, 7):  # no daylight saving time in Peru
        written = dt.datetime(2026, month, 10, 18, 30)  # as the console's field sends it
        stored = from_lima(written)
        assert stored == dt.datetime(2026, month, 10, 23, 30, tzinfo=dt.UTC)
        assert in_lima(stored).replace(tzinfo=None) == written
    assert from_lima(dt.datetime(2026, 1, 10, 18, 30, tzinfo=dt.UTC)).hour == 18  # kept


def test_citizens_read_dates_in_spanish_on_limas_clock() -> None:
    moment = dt.datetime(2026, 12, 11, 0, 30, tzinfo=dt.UTC)  # Thursday 10th, 7:30 p.m. in Lima
    assert when_text(moment, NOW) == "jueves 10 de diciembre, 7:30 p. m."
    assert (
        when_text(moment.replace(year=2027), NOW) == "viernes 10 de diciembre de 2027, 7:30 p. m."
    )
    assert when_text(dt.datetime(2026, 12, 12, 5, 5, tzinfo=dt.UTC), NOW) == (
        "sábado 12 de diciembre, 12:05 a. m."
    )
    assert in_lima(moment).tzinfo == LIMA
