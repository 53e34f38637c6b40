"""The community events' administration, under ``/api/events`` (admins only): events created,
changed and cancelled, with their places taken and waiting; who signed up (JSON, or the
attendee list as CSV); the topics citizens proposed, counted.

Moments are ISO 8601; one written without an offset is Lima time (what the console's date
fields send), and every moment comes back with Lima's offset (``-05:00``). A new or changed
event is checked (``EventDraft.problems``): one in the past, a deadline after the start, no
place nor link… is a 422 with the reason in Spanish, and nothing is stored. Citizens with a
place hear of a change of date or place, of a cancellation, and of a place freed for them by a
larger capacity (``bot/community/notices.py``). Every change is in the audit log.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, Field, model_validator

from bot.accounts.agents import Role
from bot.community.attendees import attendees_csv
from bot.community.events import (
    KINDS,
    MAX_CAPACITY,
    WEB_ADDRESS_PATTERN,
    Event,
    EventDraft,
    Place,
    Registration,
    from_lima,
    in_lima,
)
from bot.community.notices import EventNotices
from bot.community.proposals import ProposalStore
from bot.community.store import Change, EventStore
from bot.conversation.channel import NOT_BLANK_PATTERN
from bot.storage.time import utcnow
from bot.web.deps import Audit, ConsoleError, Current, Knowledge, RowId, from_state, require

#: The events and their places (``bot/community/store.py``).
Events = Annotated[EventStore, Depends(from_state("event_store"))]
#: What citizens are told outside a request of theirs.
Notices = Annotated[EventNotices, Depends(from_state("event_notices"))]
#: The topics citizens proposed.
Proposals = Annotated[ProposalStore, Depends(from_state("event_proposals"))]

router = APIRouter(tags=["community events"])

#: Moments accepted: a typo such as year 20266 or 1026 is refused before it is stored.
_YEARS = (2000, 2100)


#: A moment as the document says it: a date-time of a year in ``_YEARS``.
Moment = Annotated[
    dt.datetime,
    Field(json_schema_extra={"pattern": "^(20[0-9]{2}|2100)-"}),
]


#: What the draft's checks say of a place (``EventDraft.problems``), in the document: a place
#: or a link to join online, not only blanks.
PLACE_OR_LINK: dict[str, Any] = {
    "anyOf": [
        {"required": [field], "properties": {field: {"type": "string",
                                                     "pattern": NOT_BLANK_PATTERN}}}
        for field in ("place", "online_url")
    ]
}  # fmt: skip
NOT_BLANK: dict[str, Any] = {"pattern": NOT_BLANK_PATTERN}


class EventBody(BaseModel):
    """A new event, or an event's new version (every field)."""

    model_config = {"json_schema_extra": PLACE_OR_LINK}

    title: str = Field(min_length=1, max_length=160, json_schema_extra=NOT_BLANK)
    kind: Literal["charla", "taller", "feria", "otro"] = "charla"
    starts_at: Moment
    ends_at: Moment | None = None
    place: str | None = Field(default=None, max_length=300)
    online_url: str | None = Field(
        default=None, max_length=500, json_schema_extra={"pattern": WEB_ADDRESS_PATTERN}
    )
    capacity: int = Field(ge=1, le=MAX_CAPACITY)
    #: Until when citizens may sign up; without it, until the start.
    registration_deadline: Moment | None = None
    description: str = Field(min_length=1, max_length=4000, json_schema_extra=NOT_BLANK)

    @model_validator(mode="after")
    def _plausible_years(self) -> EventBody:
        for moment in (self.starts_at, self.ends_at, self.registration_deadline):
            if moment is not None and not _YEARS[0] <= moment.year <= _YEARS[1]:
                raise ValueError(f"las fechas van de {_YEARS[0]} a {_YEARS[1]}")
        return self

    def draft(self) -> EventDraft:
        starts_at = from_lima(self.starts_at)
        deadline = self.registration_deadline
        return EventDraft(
            self.title.strip(),
            self.kind,
            starts_at,
            from_lima(self.ends_at) if self.ends_at is not None else None,
            self.place,
            self.online_url,
            self.capacity,
            from_lima(deadline) if deadline is not None else starts_at,
            self.description,
        )


def _lima(moment: dt.datetime | None) -> str | None:
    return in_lima(moment).isoformat() if moment is not None else None


def _state(event: Event, now: dt.datetime) -> str:
    if event.cancelled_at is not None:
        return "cancelado"
    if event.starts_at <= now:
        return "pasado"
    return "abierto" if event.open_at(now) else "inscripcion_cerrada"


def _public(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "title": event.title,
        "kind": event.kind,
        "kind_label": KINDS.get(event.kind, event.kind),
        "starts_at": _lima(event.starts_at),
        "ends_at": _lima(event.ends_at),
        "place": event.place,
        "online_url": event.online_url,
        "capacity": event.capacity,
        "registration_deadline": _lima(event.registration_deadline),
        "description": event.description,
        "created_at": _lima(event.created_at),
        "cancelled_at": _lima(event.cancelled_at),
        "registered": event.registered,
        "waiting": event.waiting,
        "free": event.free,
        "state": _state(event, utcnow()),
    }


def _place(place: Registration) -> dict[str, Any]:
    return {
        "id": place.id,
        "status": place.status.value,
        "name": place.name,
        "contact": place.contact,
        "ruc": place.document,
        "channel": place.channel,
        "created_at": _lima(place.created_at),
        "cancelled_at": _lima(place.cancelled_at),
        "reminded_at": _lima(place.reminded_at),
    }


def _refuse_problems(draft: EventDraft, now: dt.datetime, kept_deadline: bool = False) -> None:
    """422 with the first problem's code and Spanish message (all of them in ``problems``)."""
    problems = [
        p for p in draft.problems(now) if not (kept_deadline and p[1] == "deadline_in_past")
    ]
    if problems:
        _, code, message = problems[0]
        raise ConsoleError(
            422, code, message,
            problems=[{"field": f, "code": c, "message": m} for f, c, m in problems],
        )  # fmt: skip


async def _existing(events: EventStore, event_id: int) -> Event:
    event = await events.event(event_id)
    if event is None:
        raise ConsoleError(404, "not_found", "No existe ese evento.")
    return event


def _changes(before: EventDraft, after: EventDraft) -> dict[str, list[Any]]:
    """The fields an edit changed, ``[before, after]`` (moments as ISO text), for the audit."""
    changed: dict[str, list[Any]] = {}
    for name in EventDraft.__dataclass_fields__:
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            changed[name] = [v.isoformat() if isinstance(v, dt.datetime) else v for v in (old, new)]
    return changed


@router.get("/api/events")
async def list_events(session: Current, events: Events, past: bool = False) -> list[dict[str, Any]]:
    """Admins: the events still to come (``past=true``: all of them), soonest first, with
    their places taken, free and waiting."""
    require(session, Role.ADMIN)
    return [_public(e) for e in await events.events(utcnow(), past)]


@router.post("/api/events", status_code=201)
async def create_event(
    body: EventBody, session: Current, events: Events, audit: Audit
) -> dict[str, Any]:
    """Admins: a new event (422 in Spanish when it is in the past, its deadline after its
    start, without place or link…)."""
    require(session, Role.ADMIN)
    now = utcnow()
    draft = body.draft()
    _refuse_problems(draft, now)
    event = await events.create(draft, session.agent.id, now)
    await audit.record(
        session.agent.username, "event_created", actor_id=session.agent.id,
        event_id=event.id, title=event.title, starts_at=event.starts_at.isoformat(),
        capacity=event.capacity,
    )  # fmt: skip
    return _public(event)


@router.get("/api/events/proposals")
async def proposals(
    session: Current, found: Proposals, knowledge: Knowledge
) -> list[dict[str, Any]]:
    """Admins: the topics citizens proposed for future events, most asked first: the count,
    the latest, a few of their wordings; ``label`` is the knowledge article's title when the
    assistant recognised the topic."""
    require(session, Role.ADMIN)
    kb = knowledge.current
    answer = []
    for topic in await found.counts():
        article = kb.get(topic.topic)
        answer.append(
            {
                "topic": topic.topic,
                "label": article.title if article is not None else topic.topic,
                "recognised": article is not None,
                "count": topic.count,
                "last_at": _lima(topic.last_at),
                "examples": topic.examples,
            }
        )
    return answer


@router.get("/api/events/{event_id}")
async def event_detail(event_id: RowId, session: Current, events: Events) -> dict[str, Any]:
    """Admins: one event, with its places."""
    require(session, Role.ADMIN)
    return _public(await _existing(events, event_id))


@router.put("/api/events/{event_id}")
async def edit_event(
    event_id: RowId,
    body: EventBody,
    session: Current,
    events: Events,
    notices: Notices,
    audit: Audit,
) -> dict[str, Any]:
    """Admins: change an event still to come (every field). 409 when it is cancelled or has
    started; 422 when the capacity is below the places taken. Citizens signed up hear of a new
    date or place; citizens waiting get the places a larger capacity frees."""
    require(session, Role.ADMIN)
    now = utcnow()
    before = await _existing(events, event_id)
    draft = body.draft()
    _refuse_problems(
        draft, now, kept_deadline=draft.registration_deadline == before.registration_deadline
    )
    change, event, promoted = await events.update(event_id, draft, now)
    if change == Change.UNKNOWN or event is None:
        raise ConsoleError(404, "not_found", "No existe ese evento.")
    if change == Change.CANCELLED:
        raise ConsoleError(
            409, "event_cancelled", "El evento está cancelado: ya no se puede cambiar."
        )
    if change == Change.STARTED:
        raise ConsoleError(409, "event_started", "El evento ya empezó: ya no se puede cambiar.")
    if change == Change.BELOW_TAKEN:
        raise ConsoleError(
            422, "capacity_below_registered",
            f"La capacidad no puede ser menor que las personas ya inscritas ({event.registered}).",
        )  # fmt: skip
    changes = _changes(before.draft(), draft)
    await audit.record(
        session.agent.username, "event_changed", actor_id=session.agent.id,
        event_id=event_id, changes=changes,
    )  # fmt: skip
    await notices.promoted(event, promoted)
    if {"starts_at", "place", "online_url"} & changes.keys():
        promoted_ids = {p.id for p in promoted}
        told = [
            p for p in await events.registrations(event_id)
            if p.status in (Place.REGISTERED, Place.WAITING) and p.id not in promoted_ids
        ]  # fmt: skip
        await notices.changed(event, told)
    return _public(event)


@router.post("/api/events/{event_id}/cancel")
async def cancel_event(
    event_id: RowId, session: Current, events: Events, notices: Notices, audit: Audit
) -> dict[str, Any]:
    """Admins: cancel an event still to come; everyone signed up or waiting is told. 409 when
    it is cancelled already or has started."""
    require(session, Role.ADMIN)
    change, event, told = await events.cancel(event_id, utcnow())
    if change == Change.UNKNOWN or event is None:
        raise ConsoleError(404, "not_found", "No existe ese evento.")
    if change == Change.CANCELLED:
        raise ConsoleError(409, "event_cancelled", "El evento ya estaba cancelado.")
    if change == Change.STARTED:
        raise ConsoleError(409, "event_started", "El evento ya empezó: ya no se puede cancelar.")
    await audit.record(
        session.agent.username, "event_cancelled", actor_id=session.agent.id,
        event_id=event_id, title=event.title, told=len(told),
    )  # fmt: skip
    await notices.cancelled(event, told)
    return _public(event)


@router.get("/api/events/{event_id}/registrations")
async def registrations(event_id: RowId, session: Current, events: Events) -> list[dict[str, Any]]:
    """Admins: who signed up for an event: places first, then the waiting list, then those
    who gave up; each in the order they signed up."""
    require(session, Role.ADMIN)
    await _existing(events, event_id)
    return [_place(p) for p in await events.registrations(event_id)]


@router.get("/api/events/{event_id}/attendees.csv")
async def attendees(event_id: RowId, session: Current, events: Events, audit: Audit) -> Response:
    """Admins: the attendee list as CSV (places, then the waiting list), for a spreadsheet."""
    require(session, Role.ADMIN)
    await _existing(events, event_id)
    places = await events.registrations(event_id)
    await audit.record(
        session.agent.username, "event_attendees_exported", actor_id=session.agent.id,
        event_id=event_id,
    )  # fmt: skip
    return Response(
        attendees_csv(places).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="evento-{event_id}-asistentes.csv"',
            "Cache-Control": "no-store",
        },
    )
