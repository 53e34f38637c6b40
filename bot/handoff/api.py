"""The agents' console: its page at ``/agent`` and everything it does, as a REST API under
``/api/`` (documented in OpenAPI, so another desk could be plugged in) plus a WebSocket of live
updates (``bot/handoff/events.py``).

Sessions, CSRF and logins are in ``bot/accounts/auth.py``, the administration in
``bot/accounts/api.py``. Here: the queue and the chats, canned answers, the desk's state,
statistics, callback requests and the audit log. Every route states who may call it; an agent
sees only the queue and their own chats (``bot/handoff/access.py``). Every agent action is in
the audit log.
"""

from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from bot.accounts import api as console_admin
from bot.accounts import auth as console_auth
from bot.accounts.agents import AccountError, Role
from bot.accounts.auth import COOKIE as COOKIE
from bot.accounts.auth import CSRF_HEADER as CSRF_HEADER
from bot.accounts.auth import ROW_ID_MAX, RowId
from bot.accounts.auth import ConsoleError as ConsoleError
from bot.accounts.auth import Current as Current
from bot.accounts.auth import Desk as Desk
from bot.accounts.auth import error_response as error_response
from bot.accounts.auth import require as require
from bot.conversation.channel import BUTTON_TITLE_KEY
from bot.handoff import events as console_events
from bot.handoff.service import DESK_NOTICE, HandoffError, summary
from bot.handoff.store import OPEN_STATES, State
from bot.knowledge.search import KnowledgeSearch, sample_questions
from bot.storage.time import utcnow

STATIC = Path(__file__).resolve().parents[1] / "web" / "console"
NLU_DIR = Path(__file__).resolve().parents[2] / "data" / "nlu"


class TextBody(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)


class TransferBody(BaseModel):
    team: str | None = Field(default=None, max_length=40)
    agent_id: int | None = Field(default=None, ge=1, le=ROW_ID_MAX)


class CloseBody(BaseModel):
    resolution: str = Field(min_length=1, max_length=40)


router = APIRouter(tags=["agent console"])


@router.get("/agent", include_in_schema=False)
async def console_page() -> FileResponse:
    """Anyone: the console's page (it asks for a login)."""
    return FileResponse(STATIC / "index.html", media_type="text/html")


# --- the queue and the chats ----------------------------------------------------------------------


@router.get("/api/handoffs")
async def handoffs(
    session: Current,
    desk: Desk,
    request: Request,
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
    kb = request.app.state.knowledge.current
    return [_with_topic(summary(h, now), kb) for h in found]


def _with_topic(item: dict[str, Any], kb: Any) -> dict[str, Any]:
    """The escalation's intent in words: its knowledge-base article's title."""
    article = kb.get(item["intent"]) if item.get("intent") else None
    item["topic"] = article.title if article is not None else None
    return item


@router.get("/api/handoffs/{handoff_id}")
async def handoff_detail(
    handoff_id: RowId, session: Current, desk: Desk, request: Request
) -> dict[str, Any]:
    """A logged-in agent who may see the chat: its transcript (assistant, citizen and agents,
    from the start of the session it was opened in until it closed), the notes, its history."""
    handoff = await desk.visible(handoff_id, session.agent)
    idle = dt.timedelta(minutes=request.app.state.settings.session_idle_minutes)
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
                payload.get("agent_name")
                or ("asesor" if payload.get("agent") else None)
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
    audit = await desk.store.audit_log(handoff_id, 100)
    return {
        "handoff": _with_topic(summary(handoff), request.app.state.knowledge.current),
        "transcript": transcript,
        "notes": [
            {"agent": n.agent, "text": n.text, "at": n.created_at.isoformat()} for n in notes
        ],
        "audit": audit,
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
    session: Current, request: Request, q: Annotated[str, Query(max_length=200)] = ""
) -> list[dict[str, Any]]:
    """A logged-in agent: knowledge-base answers to insert in a reply (search by words)."""
    if not q.strip():
        return []
    kb = request.app.state.knowledge.current
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
async def callback_done(callback_id: RowId, session: Current, desk: Desk) -> dict[str, Any]:
    """Supervisors and admins: a callback request was answered."""
    require(session, Role.SUPERVISOR)
    if not await desk.store.finish_callback(callback_id, session.agent.id):
        raise ConsoleError(404, "not_found", "No existe ese pedido o ya fue atendido.")
    await desk.store.audit(session.agent.username, "callback_done", actor_id=session.agent.id,
                           callback=callback_id)  # fmt: skip
    return {"ok": True}


@router.get("/api/audit")
async def audit(
    session: Current,
    desk: Desk,
    handoff_id: Annotated[int | None, Query(ge=1, le=ROW_ID_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """Supervisors and admins: the audit log, newest first."""
    require(session, Role.SUPERVISOR)
    return await desk.store.audit_log(handoff_id, limit)


def install(app: FastAPI) -> None:
    """The console's routes (sessions, chats, administration, live updates) and its errors."""

    @app.exception_handler(ConsoleError)
    async def _console_error(_: Request, exc: ConsoleError) -> JSONResponse:
        return error_response(exc, exc.status)

    @app.exception_handler(HandoffError)
    async def _handoff_error(_: Request, exc: HandoffError) -> JSONResponse:
        return error_response(exc, exc.status)

    @app.exception_handler(AccountError)
    async def _account_error(_: Request, exc: AccountError) -> JSONResponse:
        status = 409 if exc.code == "username_taken" else 404 if exc.code == "not_found" else 422
        return error_response(exc, status)

    app.include_router(console_auth.router)
    app.include_router(router)
    app.include_router(console_admin.router)
    app.include_router(console_events.router)


__all__ = [
    "COOKIE", "CSRF_HEADER", "STATIC", "ConsoleError", "Current", "Desk", "error_response",
    "install", "require", "router",
]  # fmt: skip
