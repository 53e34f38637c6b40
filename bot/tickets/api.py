"""The tickets in the agents' console (the «Solicitudes» tab, ``bot/web/console/tickets/``): a
REST API under ``/api/tickets``. Who may do what is :mod:`bot.tickets.desk`'s; every route
needs a console session (``bot/web/deps.py``), and changes its CSRF token."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from bot.storage.time import utcnow
from bot.tickets.catalog import STATUSES
from bot.tickets.desk import TRANSITIONS, TicketDesk, TicketRefused
from bot.tickets.store import Entry, Ticket
from bot.web.deps import ROW_ID_MAX, ConsoleError, Current, RowId, from_state

#: The longest reply or note.
MAX_TEXT_CHARS = 4000
#: The longest description preview in a list.
PREVIEW_CHARS = 160

Status = Literal["recibido", "en_proceso", "respondido", "cerrado"]
#: The tickets' desk (``bot/tickets/desk.py``).
Tickets = Annotated[TicketDesk, Depends(from_state("tickets"))]
T = TypeVar("T")

router = APIRouter(tags=["tickets"])


class AssignBody(BaseModel):
    #: The agent who takes the ticket; null: nobody.
    agent_id: int | None = Field(default=None, ge=1, le=ROW_ID_MAX)


class TextBody(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)


class ReplyBody(TextBody):
    #: The reply answers the ticket: it becomes «Respondida».
    answered: bool = Field(default=False, strict=True)


class StatusBody(BaseModel):
    status: Status


async def _refusals(work: Awaitable[T]) -> T:
    try:
        return await work
    except TicketRefused as refused:
        raise ConsoleError(refused.status, refused.code, refused.message) from None


def _summary(desk: TicketDesk, ticket: Ticket, now: dt.datetime) -> dict[str, Any]:
    preview = ticket.description
    if len(preview) > PREVIEW_CHARS:
        preview = preview[: PREVIEW_CHARS - 1].rstrip() + "…"
    return {
        "id": ticket.id,
        "code": ticket.code,
        "kind": ticket.kind,
        "kind_label": desk.catalog.kind(ticket.kind).label,
        "status": ticket.status,
        "status_label": desk.catalog.status_label(ticket.status),
        "channel": ticket.channel,
        "preview": preview,
        "created_at": ticket.created_at.isoformat(),
        "due_at": ticket.due_at.isoformat(),
        "overdue": ticket.overdue(now),
        "assigned_to": ticket.assigned_to,
        "assigned_name": ticket.assigned_name,
        "updated_at": ticket.updated_at.isoformat(),
    }


def _entry(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "kind": entry.kind,
        "status": entry.status,
        "text": entry.body,
        "agent_id": entry.agent_id,
        "agent": entry.agent_name,
        "at": entry.created_at.isoformat(),
        "notified": entry.notified,
    }


async def _detail(desk: TicketDesk, ticket_id: int) -> dict[str, Any]:
    ticket = await _refusals(desk.ticket(ticket_id))
    now = utcnow()
    kind = desk.catalog.kind(ticket.kind)
    return {
        "ticket": {
            **_summary(desk, ticket, now),
            "description": ticket.description,
            "document": ticket.document,
            "contact_email": ticket.contact_email,
            "contact_phone": ticket.contact_phone,
            "answered_at": ticket.answered_at.isoformat() if ticket.answered_at else None,
            "closed_at": ticket.closed_at.isoformat() if ticket.closed_at else None,
            "deadline": desk.catalog.deadline(kind, ticket.due_at),
            "deadline_basis": kind.public(),
            "next_statuses": list(TRANSITIONS.get(ticket.status, ())),
        },
        "entries": [_entry(e) for e in await desk.store.entries(ticket.id)],
    }


@router.get("/api/tickets")
async def tickets(
    session: Current,
    desk: Tickets,
    kind: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}$")] = None,
    status: Annotated[list[Status] | None, Query()] = None,
    overdue: bool | None = None,
    assigned: Literal["any", "me", "none"] = "any",
    code: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> dict[str, Any]:
    """Agents: the tickets, nearest deadline first (filters: kind, statuses, overdue, assigned
    to me or to nobody, a code), with the counts per kind and status (and overdue) for the
    queues, the kinds with their deadlines and the statuses' labels."""
    if kind is not None and kind not in desk.catalog.kinds:
        raise ConsoleError(422, "unknown_kind", "No existe ese tipo de solicitud.")
    now = utcnow()
    found = await desk.store.listing(
        now,
        kind=kind,
        statuses=list(status) if status else None,
        overdue=overdue,
        assigned_to=session.agent.id if assigned == "me" else None,
        unassigned=assigned == "none",
        code=code.strip().upper() if code else None,
        limit=limit,
        offset=offset,
    )
    return {
        "tickets": [_summary(desk, t, now) for t in found],
        "counts": await desk.store.counts(now),
        "kinds": [k.public() for k in desk.catalog.kinds.values()],
        "statuses": {s: desk.catalog.status_label(s) for s in STATUSES},
        "now": now.isoformat(),
    }


@router.get("/api/tickets/{ticket_id}")
async def ticket_detail(ticket_id: RowId, session: Current, desk: Tickets) -> dict[str, Any]:
    """Agents: a ticket with everything the citizen gave, its deadline and its basis, the
    statuses it may go to, and its history (status changes, replies, notes, assignments, and
    how the citizen was told)."""
    return await _detail(desk, ticket_id)


@router.post("/api/tickets/{ticket_id}/assign")
async def assign(
    ticket_id: RowId, body: AssignBody, session: Current, desk: Tickets
) -> dict[str, Any]:
    """Agents: take a ticket nobody has, or hand over their own (null: to nobody);
    supervisors: reassign any."""
    await _refusals(desk.assign(ticket_id, session.agent, body.agent_id))
    return await _detail(desk, ticket_id)


@router.post("/api/tickets/{ticket_id}/notes")
async def note(ticket_id: RowId, body: TextBody, session: Current, desk: Tickets) -> dict[str, Any]:
    """Agents: an internal note, never shown to the citizen."""
    await _refusals(desk.note(ticket_id, session.agent, body.text))
    return await _detail(desk, ticket_id)


@router.post("/api/tickets/{ticket_id}/replies")
async def reply(
    ticket_id: RowId, body: ReplyBody, session: Current, desk: Tickets
) -> dict[str, Any]:
    """Agents holding the ticket (an unassigned one becomes theirs), supervisors: answer the
    citizen on their channel (and by e-mail when they gave one); ``answered`` marks the
    ticket «Respondida». 409 when it is closed."""
    notified = await _refusals(desk.reply(ticket_id, session.agent, body.text, body.answered))
    return {**await _detail(desk, ticket_id), "notified": notified}


@router.post("/api/tickets/{ticket_id}/status")
async def change_status(
    ticket_id: RowId, body: StatusBody, session: Current, desk: Tickets
) -> dict[str, Any]:
    """Agents holding the ticket (an unassigned one becomes theirs), supervisors: move it on
    (recibido → en_proceso → respondido → cerrado); the citizen is told. 409 for a move the
    ticket's status does not allow."""
    notified = await _refusals(desk.set_status(ticket_id, session.agent, body.status))
    return {**await _detail(desk, ticket_id), "notified": notified}
