"""The agents' console: its page at ``/agent`` and everything it does, as a REST API under
``/api/`` (documented in OpenAPI, so another desk could be plugged in) plus a WebSocket of live
updates (``bot/handoff/events.py``).

Sessions and CSRF are :data:`bot.web.deps.Current`, logins ``bot/accounts/auth.py``, accounts
``bot/accounts/api.py``. Here: the queue and the chats, canned answers, the desk's state,
statistics, callback requests, the audit log, and the desk's administration (teams, office
hours). Every route states who may call it; an agent sees only the queue and their own chats
(``bot/handoff/access.py``). Every agent action is in the audit log (``bot/accounts/audit.py``).
"""

from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.types import Scope

from bot.accounts import api as console_admin
from bot.accounts import auth as console_auth
from bot.accounts.agents import Role
from bot.conversation.channel import BUTTON_TITLE_KEY, NOT_BLANK_PATTERN
from bot.conversation.delivery import AGENT_KEY, AGENT_NAME_KEY
from bot.handoff import events as console_events
from bot.handoff.service import DESK_NOTICE, MAX_TEXT_CHARS, HandoffDesk
from bot.handoff.store import OPEN_STATES, State
from bot.handoff.summary import summary
from bot.knowledge.handoff_rules import NAME_PATTERN, WEEKDAYS, EscalationError, OfficeHours
from bot.knowledge.search import KnowledgeSearch, sample_questions
from bot.storage.time import utcnow
from bot.web.deps import (
    ROW_ID_MAX,
    AppSettings,
    Audit,
    ConsoleError,
    Current,
    Knowledge,
    RowId,
    from_state,
    require,
)

STATIC = Path(__file__).resolve().parents[1] / "web" / "console"
NLU_DIR = Path(__file__).resolve().parents[2] / "data" / "nlu"


# What the desk checks itself, with its own codes and Spanish messages, is said in the document
# (``json_schema_extra``) rather than checked twice.
#: A team's or a resolution's name.
NAME: dict[str, Any] = {"pattern": NAME_PATTERN}
#: Some character other than blanks, at most the desk's length (it strips blanks).
TEXT: dict[str, Any] = {"maxLength": MAX_TEXT_CHARS, "pattern": NOT_BLANK_PATTERN}
#: Weekdays (mon..sun) to "HH:MM-HH:MM" in Lima time (a day ends at 24:00); {} means always open.
OFFICE_HOURS: dict[str, Any] = {
    "propertyNames": {"enum": list(WEEKDAYS)},
    "additionalProperties": {
        "type": "string",
        "pattern": r"^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$",
    },
}


class TextBody(BaseModel):
    text: str = Field(min_length=1, max_length=20_000, json_schema_extra=TEXT)


class TransferBody(BaseModel):
    """To a team or to an agent: exactly one of them (``HandoffDesk.transfer`` checks it)."""

    model_config = {
        "json_schema_extra": {
            "oneOf": [
                {"required": [field], "properties": {field: {"not": {"type": "null"}}}}
                for field in ("team", "agent_id")
            ]
        }
    }

    team: str | None = Field(default=None, max_length=40, json_schema_extra=NAME)
    agent_id: int | None = Field(default=None, ge=1, le=ROW_ID_MAX)


class CloseBody(BaseModel):
    resolution: str = Field(min_length=1, max_length=40, json_schema_extra=NAME)


class NewTeam(BaseModel):
    name: str = Field(pattern=NAME_PATTERN)
    label: str = Field(min_length=1, max_length=120)


#: The agents' desk (``bot/handoff/service.py``).
Desk = Annotated[HandoffDesk, Depends(from_state("desk"))]

router = APIRouter(tags=["agent console"])


@router.get("/agent", include_in_schema=False)
async def console_page() -> FileResponse:
    """Anyone: the console's page (it asks for a login)."""
    return FileResponse(STATIC / "index.html", media_type="text/html")


class ConsoleFiles(StaticFiles):
    """Anyone, like the page: its files under ``/agent/static`` (mounted by ``bot/web/app.py``),
    the ES modules (``console.js`` and the folders beside it), their HTML fragments and the style.
    A module script needs a JavaScript type: ``.js`` is ``text/javascript`` whatever the
    machine's MIME table says."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if path.endswith(".js") and isinstance(response, FileResponse):
            response.media_type = "text/javascript"
            response.headers["content-type"] = "text/javascript; charset=utf-8"
        return response


# --- the queue and the chats ----------------------------------------------------------------------


@router.get("/api/handoffs")
async def handoffs(
    session: Current,
    desk: Desk,
    knowledge: Knowledge,
    state: Annotated[list[State] | None, Query()] = None,
    team: Annotated[str | None, Query(max_length=40)] = None,
) -> list[dict[str, Any]]:
    """A logged-in agent: the queue and the chats in progress (``state=closed``: closed ones).
    Agents get their team's queue and the chats they hold or held at close; supervisors and
    admins get everything."""
    agent = session.agent
    states = state or list(OPEN_STATES)
    if agent.may(Role.SUPERVISOR):
        found = await desk.store.listing(states, team)
    else:
        found = await desk.store.listing(states, team, held_by=agent.id, queue_of=agent.team)
    now = utcnow()
    kb = knowledge.current
    return [_with_topic(summary(h, now), kb) for h in found]


def _with_topic(item: dict[str, Any], kb: Any) -> dict[str, Any]:
    """The escalation's intent in words: its knowledge-base article's title."""
    article = kb.get(item["intent"]) if item.get("intent") else None
    item["topic"] = article.title if article is not None else None
    return item


@router.get("/api/handoffs/{handoff_id}")
async def handoff_detail(
    handoff_id: RowId,
    session: Current,
    desk: Desk,
    audit: Audit,
    knowledge: Knowledge,
    settings: AppSettings,
) -> dict[str, Any]:
    """A logged-in agent who may see the chat: its transcript (assistant, citizen and agents,
    from the start of the session it was opened in until it closed), the notes, its history."""
    handoff = await desk.visible(handoff_id, session.agent)
    idle = dt.timedelta(minutes=settings.session_idle_minutes)
    entries = await desk.store.transcript(handoff, idle)
    transcript = []
    for entry in entries:
        payload = entry.payload or {}
        item: dict[str, Any] = {
            "direction": entry.direction,
            "text": entry.text,
            "at": entry.created_at.isoformat(),
        }
        if entry.direction == "out":
            item["author"] = (
                payload.get(AGENT_NAME_KEY)
                or ("asesor" if payload.get(AGENT_KEY) else None)
                or ("aviso" if payload.get(DESK_NOTICE) else "asistente")
            )
            buttons = payload.get("buttons")
            if isinstance(buttons, list):
                item["buttons"] = [str(b.get("title", "")) for b in buttons if isinstance(b, dict)]
        else:
            item["author"] = "ciudadano"
            title = (payload.get("metadata") or {}).get(BUTTON_TITLE_KEY)
            if isinstance(title, str) and title:
                item["text"] = title  # what the citizen clicked, not its payload
        transcript.append(item)
    notes = await desk.store.notes(handoff_id)
    return {
        "handoff": _with_topic(summary(handoff), knowledge.current),
        "transcript": transcript,
        "notes": [
            {"agent": n.agent, "text": n.text, "at": n.created_at.isoformat()} for n in notes
        ],
        "audit": await audit.entries(handoff_id, 100),
    }


@router.post("/api/handoffs/{handoff_id}/claim")
async def claim(handoff_id: RowId, session: Current, desk: Desk) -> dict[str, Any]:
    """An agent of the chat's team, or a supervisor: take a waiting chat (one only wins)."""
    return summary(await desk.claim(handoff_id, session.agent))


@router.post("/api/handoffs/{handoff_id}/messages")
async def reply(handoff_id: RowId, body: TextBody, session: Current, desk: Desk) -> dict[str, Any]:
    """The agent holding the chat: answer the citizen through their own channel."""
    await desk.reply(handoff_id, session.agent, body.text)
    return {"ok": True}


@router.post("/api/handoffs/{handoff_id}/notes")
async def note(handoff_id: RowId, body: TextBody, session: Current, desk: Desk) -> dict[str, Any]:
    """The agent holding the chat (or its team's agents while it waits), or a supervisor: an
    internal note, never shown to the citizen."""
    await desk.note(handoff_id, session.agent, body.text)
    return {"ok": True}


@router.post("/api/handoffs/{handoff_id}/transfer")
async def transfer(
    handoff_id: RowId, body: TransferBody, session: Current, desk: Desk
) -> dict[str, Any]:
    """The agent holding the chat, or a supervisor: to another team (back to its queue) or
    straight to another agent."""
    return summary(await desk.transfer(handoff_id, session.agent, body.team, body.agent_id))


@router.post("/api/handoffs/{handoff_id}/close")
async def close(handoff_id: RowId, body: CloseBody, session: Current, desk: Desk) -> dict[str, Any]:
    """The agent holding the chat, or a supervisor: end it with a resolution code; the
    assistant answers again."""
    return summary(await desk.close_handoff(handoff_id, session.agent, body.resolution))


@router.get("/api/canned")
async def canned(
    session: Current,
    request: Request,
    knowledge: Knowledge,
    q: Annotated[str, Query(max_length=200)] = "",
) -> list[dict[str, Any]]:
    """A logged-in agent: knowledge-base answers to insert in a reply (search by words)."""
    if not q.strip():
        return []
    kb = knowledge.current
    cached = getattr(request.app.state, "canned_index", None)
    if cached is None or cached[0] is not kb:
        cached = (
            kb,
            KnowledgeSearch(kb.articles, sample_questions(NLU_DIR), excluded_tags=("sistema",)),
        )
        request.app.state.canned_index = cached
    hits = cached[1].search(q, limit=8, min_score=0.5)
    return [
        {
            "id": h.article.id,
            "title": h.article.title,
            "text": h.article.answer.strip(),
            "source": h.article.source.url,
        }
        for h in hits
    ]


@router.get("/api/desk")
async def desk_info(session: Current, desk: Desk) -> dict[str, Any]:
    """A logged-in agent: teams, resolution codes and agents (for transfers), office hours,
    who is online."""
    online = desk.online()
    agents = [a for a in await desk.agents.all() if a.active]
    hours = await desk.office_hours()
    return {
        "me": session.agent.public(),
        "teams": await desk.store.teams(),
        "resolutions": dict(desk.rules.desk.resolutions),
        "agents": [
            {"id": a.id, "display_name": a.display_name, "team": a.team, "online": a.id in online}
            for a in agents
        ],
        "office_hours": hours.as_dict(),
        "office_hours_text": hours.describe(),
        "open_now": hours.is_open(utcnow()),
    }


@router.get("/api/queue/stats")
async def queue_stats(session: Current, desk: Desk) -> dict[str, Any]:
    """Supervisors and admins: how many wait, for how long, who is online."""
    require(session, Role.SUPERVISOR)
    counts = await desk.store.counts()
    waiting = await desk.store.listing([State.PENDING])
    now = utcnow()
    waits = [(now - h.created_at).total_seconds() for h in waiting]
    recent = await desk.store.recent_waits(50)
    return {
        "pending": counts.get(State.PENDING.value, 0),
        "in_progress": counts.get(State.AGENT.value, 0),
        "leaving_callback": counts.get(State.CALLBACK.value, 0),
        "longest_wait_seconds": round(max(waits)) if waits else 0,
        "median_wait_seconds": round(statistics.median(waits)) if waits else 0,
        "recent_claim_wait_seconds": round(statistics.median(recent)) if recent else None,
        "agents_online": len(desk.online()),
    }


@router.get("/api/callbacks")
async def callbacks(
    session: Current,
    desk: Desk,
    status: Annotated[str, Query(pattern="^(open|done|all)$")] = "open",
) -> list[dict[str, Any]]:
    """Supervisors and admins: callback requests left out of hours or with nobody online
    (tickets; agents hold no callback requests, so they get 403)."""
    require(session, Role.SUPERVISOR)
    found = await desk.store.callbacks(None if status == "all" else status)
    return [
        {
            "id": c.id,
            "handoff_id": c.handoff_id,
            "channel": c.channel,
            "name": c.name,
            "contact": c.contact,
            "topic": c.topic,
            "status": c.status,
            "created_at": c.created_at.isoformat(),
        }
        for c in found
    ]


@router.post("/api/callbacks/{callback_id}/done")
async def callback_done(
    callback_id: RowId, session: Current, desk: Desk, audit: Audit
) -> dict[str, Any]:
    """Supervisors and admins: a callback request was answered."""
    require(session, Role.SUPERVISOR)
    if not await desk.store.finish_callback(callback_id, session.agent.id):
        raise ConsoleError(404, "not_found", "No existe ese pedido o ya fue atendido.")
    await audit.record(session.agent.username, "callback_done", actor_id=session.agent.id,
                       callback=callback_id)  # fmt: skip
    return {"ok": True}


@router.get("/api/audit")
async def audit(
    session: Current,
    log: Audit,
    handoff_id: Annotated[int | None, Query(ge=1, le=ROW_ID_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """Supervisors and admins: the audit log, newest first."""
    require(session, Role.SUPERVISOR)
    return await log.entries(handoff_id, limit)


# --- the desk's administration: teams and office hours (listed after the accounts) -------------

admin_router = APIRouter(tags=["agent console"])


@admin_router.get("/api/admin/teams")
async def teams(session: Current, desk: Desk) -> dict[str, str]:
    """Admins: the teams (name → label)."""
    require(session, Role.ADMIN)
    return await desk.store.teams()


@admin_router.post("/api/admin/teams", status_code=201)
async def add_team(body: NewTeam, session: Current, desk: Desk, audit: Audit) -> dict[str, str]:
    """Admins: a new team."""
    require(session, Role.ADMIN)
    existing = await desk.store.teams()
    if body.name in existing:
        raise ConsoleError(409, "team_exists", f"El equipo «{body.name}» ya existe.")
    await desk.store.add_teams({body.name: body.label})
    await audit.record(session.agent.username, "team_created", actor_id=session.agent.id,
                       team=body.name)  # fmt: skip
    return await desk.store.teams()


@admin_router.get("/api/admin/office-hours")
async def office_hours(session: Current, desk: Desk) -> dict[str, Any]:
    """Admins: the office hours."""
    require(session, Role.ADMIN)
    hours = await desk.office_hours()
    return {"hours": hours.as_dict(), "timezone": hours.timezone, "text": hours.describe()}


@admin_router.put("/api/admin/office-hours")
async def set_office_hours(
    body: Annotated[dict[str, str], Body(json_schema_extra=OFFICE_HOURS)],
    session: Current,
    desk: Desk,
    audit: Audit,
) -> dict[str, Any]:
    """Admins: weekdays (mon..sun) to "HH:MM-HH:MM" in Lima time; {} means always open."""
    require(session, Role.ADMIN)
    try:
        hours = OfficeHours.parse(body, desk.rules.desk.office_hours.timezone)
    except EscalationError as exc:
        raise ConsoleError(422, "invalid_hours", f"Horario no válido: {exc}") from exc
    await desk.store.set_setting("office_hours", hours.as_dict())
    await audit.record(session.agent.username, "office_hours_changed",
                       actor_id=session.agent.id, hours=hours.as_dict())  # fmt: skip
    return {"hours": hours.as_dict(), "timezone": hours.timezone, "text": hours.describe()}


def install(app: FastAPI) -> None:
    """The console's routes: sessions, chats, administration, live updates (its errors are
    answered by bot/web/errors.py)."""
    app.include_router(console_auth.router)
    app.include_router(router)
    app.include_router(console_admin.router)
    app.include_router(admin_router)
    app.include_router(console_events.router)


__all__ = ["STATIC", "ConsoleFiles", "Desk", "install", "router"]
