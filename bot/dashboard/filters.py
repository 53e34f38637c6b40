"""What the dashboard is asked for: a period of days in Lima and, optionally, one channel.

A day is a day in Lima (UTC-5 all year: Peru keeps no daylight saving time, so a fixed offset
is exact). The period's first and last days are both included; in UTC it runs from 05:00 of the
first day to 05:00 after the last one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: Lima's offset from UTC, all year.
LIMA = dt.timezone(dt.timedelta(hours=-5), "America/Lima")
#: The conversation channels (the filter's choices).
CHANNELS = ("webchat", "messenger", "whatsapp", "twilio")
#: Days a period may not start before or end after (the gateway's data is well within).
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)


class FilterError(ValueError):
    """Filters the dashboard cannot use, with a Spanish message for the console."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Filters:
    """Days ``first`` to ``last`` (Lima, both included) and ``channel`` (None: all)."""

    first: dt.date
    last: dt.date
    channel: str | None = None

    @property
    def start(self) -> dt.datetime:
        """The period's first moment, in UTC."""
        return _midnight(self.first)

    @property
    def end(self) -> dt.datetime:
        """The moment after the period (UTC): midnight in Lima after its last day."""
        return _midnight(self.last + dt.timedelta(days=1))

    def days(self) -> list[dt.date]:
        count = (self.last - self.first).days + 1
        return [self.first + dt.timedelta(days=n) for n in range(count)]

    def public(self) -> dict[str, str | None]:
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "channel": self.channel,
        }


def lima_today(now: dt.datetime | None = None) -> dt.date:
    """Today in Lima."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(LIMA).date()


def lima_day_of(moment: dt.datetime) -> dt.date:
    """The day in Lima of a moment (naive moments are UTC, as SQLite gives them back)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(LIMA).date()


def choose(
    first: dt.date | None,
    last: dt.date | None,
    channel: str | None,
    *,
    max_days: int,
    default_days: int,
    today: dt.date,
) -> Filters:
    """The filters asked for, the defaults filled in (the last ``default_days`` days up to
    today, or up to ``last``), or :class:`FilterError` saying what is wrong."""
    if channel is not None and channel not in CHANNELS:
        raise FilterError("invalid_channel", "Ese canal no existe.")
    for day in (first, last):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise FilterError(
                "invalid_period",
                f"Las fechas deben estar entre {EARLIEST:%d/%m/%Y} y {LATEST:%d/%m/%Y}.",
            )
    if last is None:
        last = max(today, first) if first is not None else today
    if first is None:
        span = min(default_days, max_days)
        first = max(EARLIEST, last - dt.timedelta(days=span - 1))
    if first > last:
        raise FilterError(
            "invalid_period", "La fecha de inicio no puede ser posterior a la fecha de fin."
        )
    if (last - first).days + 1 > max_days:
        raise FilterError(
            "period_too_long", f"El periodo puede abarcar como máximo {max_days} días."
        )
    return Filters(first, last, channel)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), LIMA).astimezone(dt.UTC)
