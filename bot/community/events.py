"""Community events as the room sees them: an event and what admins may set on it (with the
checks a new or edited event must pass, in Spanish), a citizen's place at one, and moments in
Lima time as citizens read them.

Moments are stored in UTC (``bot/storage/time.py``); citizens and the console read them in
Lima time (America/Lima, UTC−5 all year: Peru has no daylight saving time).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: What kind of event it is (``CommunityEvent.kind``), and how citizens read it.
KINDS = {"charla": "Charla", "taller": "Taller", "feria": "Feria", "otro": "Evento"}
#: The largest capacity an event may have.
MAX_CAPACITY = 100_000
#: An online event's link, as the API's document says it (an ECMA and Python regex alike): http
#: or https, a host name, maybe a port, then a path, query or fragment of printable ASCII with no
#: space. Nothing else: no other scheme (``javascript:``), no blanks around it, no line break at
#: the end. The empty text is no link at all.
WEB_ADDRESS_PATTERN = r"^(https?://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?([/?#][!-~]*)?)?$"


class Place(StrEnum):
    """A citizen's place at an event (``EventRegistration.status``)."""

    #: Has a place.
    REGISTERED = "inscrito"
    #: The event was full: waits for a place to free up.
    WAITING = "en_espera"
    #: Gave up the place (or the wait).
    CANCELLED = "cancelado"


def _lima() -> dt.tzinfo:
    try:
        return ZoneInfo("America/Lima")
    except ZoneInfoNotFoundError:  # a system without the time zone database
        return dt.timezone(dt.timedelta(hours=-5), "PET")


LIMA = _lima()

_WEEKDAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_MONTHS = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
    "octubre", "noviembre", "diciembre",
)  # fmt: skip


def in_lima(moment: dt.datetime) -> dt.datetime:
    """The moment on Lima's clock (a naive moment is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(LIMA)


def from_lima(moment: dt.datetime) -> dt.datetime:
    """A moment as written in the console: naive means Lima's clock; in UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LIMA)
    return moment.astimezone(dt.UTC)


def when_text(moment: dt.datetime, now: dt.datetime | None = None) -> str:
    """ "jueves 10 de diciembre, 6:30 p. m." in Lima time (the year when it is not ``now``'s)."""
    local = in_lima(moment)
    hour = local.hour % 12 or 12
    suffix = "a. m." if local.hour < 12 else "p. m."
    year = "" if now is not None and in_lima(now).year == local.year else f" de {local.year}"
    return (
        f"{_WEEKDAYS[local.weekday()]} {local.day} de {_MONTHS[local.month - 1]}{year}, "
        f"{hour}:{local.minute:02d} {suffix}"
    )


@dataclass(frozen=True)
class EventDraft:
    """What an admin sets on an event (new or edited), moments in UTC."""

    title: str
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    place: str | None
    online_url: str | None
    capacity: int
    registration_deadline: dt.datetime
    description: str

    def problems(self, now: dt.datetime) -> list[tuple[str, str, str]]:
        """What is wrong with it, as ``(field, code, Spanish message)``; [] when nothing."""
        found: list[tuple[str, str, str]] = []
        if not self.title.strip():
            found.append(("title", "title_missing", "Escribe el título del evento."))
        if self.kind not in KINDS:
            found.append(("kind", "kind_unknown", "Elige el tipo: charla, taller, feria u otro."))
        if self.starts_at <= now:
            found.append(
                ("starts_at", "event_in_past",
                 "La fecha y hora del evento ya pasaron: elige una fecha y hora futuras.")
            )  # fmt: skip
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            found.append(
                ("ends_at", "ends_before_start",
                 "La hora de fin debe ser posterior a la de inicio.")
            )  # fmt: skip
        if self.registration_deadline > self.starts_at:
            found.append(
                ("registration_deadline", "deadline_after_start",
                 "El cierre de inscripciones debe ser antes del inicio del evento (o a la vez).")
            )  # fmt: skip
        elif self.registration_deadline <= now:
            found.append(
                ("registration_deadline", "deadline_in_past",
                 "El cierre de inscripciones ya pasó: elige una fecha y hora futuras.")
            )  # fmt: skip
        if not (self.place or "").strip() and not (self.online_url or "").strip():
            found.append(
                ("place", "place_missing",
                 "Indica el lugar del evento o el enlace para participar en línea.")
            )  # fmt: skip
        if self.online_url and not _is_web_address(self.online_url):
            found.append(
                ("online_url", "url_invalid",
                 "El enlace para participar en línea debe empezar con https:// (o http://).")
            )  # fmt: skip
        if not 1 <= self.capacity <= MAX_CAPACITY:
            found.append(
                ("capacity", "capacity_out_of_range",
                 f"La capacidad va de 1 a {MAX_CAPACITY:,} personas.".replace(",", " "))
            )  # fmt: skip
        if not self.description.strip():
            found.append(("description", "description_missing", "Escribe una descripción."))
        return found


def _is_web_address(url: str) -> bool:
    return re.fullmatch(WEB_ADDRESS_PATTERN, url) is not None


@dataclass(frozen=True)
class Event:
    """An event with its places taken: ``registered`` of ``capacity``, ``waiting`` besides."""

    id: int
    title: str
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    place: str | None
    online_url: str | None
    capacity: int
    registration_deadline: dt.datetime
    description: str
    created_at: dt.datetime
    cancelled_at: dt.datetime | None
    registered: int = 0
    waiting: int = 0

    def draft(self) -> EventDraft:
        """What an admin set on it."""
        return EventDraft(
            self.title, self.kind, self.starts_at, self.ends_at, self.place, self.online_url,
            self.capacity, self.registration_deadline, self.description,
        )  # fmt: skip

    def open_at(self, now: dt.datetime) -> bool:
        """Citizens may still sign up (not cancelled, before the deadline and the start)."""
        return (
            self.cancelled_at is None and now <= self.registration_deadline and now < self.starts_at
        )

    @property
    def free(self) -> int:
        """Places left."""
        return max(0, self.capacity - self.registered)

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, KINDS["otro"])

    def where_text(self) -> str:
        """Where it happens, as a citizen reads it."""
        parts = []
        if self.place:
            parts.append(f"Lugar: {self.place}")
        if self.online_url:
            parts.append(f"En línea: {self.online_url}")
        return " · ".join(parts)


@dataclass(frozen=True)
class Registration:
    """A citizen's place at an event, with the conversation it was taken in."""

    id: int
    event_id: int
    conversation_id: int
    channel: str
    sender_id: str
    status: Place
    name: str
    contact: str
    document: str | None
    created_at: dt.datetime
    cancelled_at: dt.datetime | None
    reminded_at: dt.datetime | None
