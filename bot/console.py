"""The agents' console: its page at ``/agent`` and everything it does, as a REST API under
``/api/`` (documented in OpenAPI, so another desk could be plugged in) plus a WebSocket of live
updates.

Sessions are an HttpOnly, SameSite=Strict cookie; every state-changing request also sends the
session's CSRF token in ``X-CSRF-Token``. Logins are rate-limited per client address and lock the
account after repeated wrong passwords. Every agent action is in the audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import statistics
import time
from collections import defaultdict, deque
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from bot.agents import AccountError, LoginRefused, Role, Session
from bot.db import utcnow
from bot.escalation import EscalationError, OfficeHours
from bot.handoff import DESK_NOTICE, HandoffDesk, HandoffError, summary
from bot.handoff_store import OPEN_STATES, State
from bot.knowledge_search import KnowledgeSearch, sample_questions
from connectors.base import BUTTON_TITLE_KEY

STATIC = Path(__file__).resolve().parent / "console_static"
COOKIE = "asistente_consola"
CSRF_HEADER = "X-CSRF-Token"
#: Login attempts per client address per minute.
LOGIN_ATTEMPTS_PER_MINUTE = 10
NLU_DIR = Path(__file__).resolve().parent.parent / "data" / "nlu"


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TextBody(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)


class TransferBody(BaseModel):
    team: str | None = Field(default=None, max_length=40)
    agent_id: int | None = None


class CloseBody(BaseModel):
    resolution: str = Field(min_length=1, max_length=40)


class NewUser(BaseModel):
    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    role: Role = Role.AGENT
    display_name: str | None = Field(default=None, max_length=120)
    team: str | None = Field(default=None, max_length=40)


class UserChange(BaseModel):
    role: Role | None = None
    team: str | None = Field(default=None, max_length=40)
    active: bool | None = None
    password: str | None = Field(default=None, max_length=256)
    display_name: str | None = Field(default=None, max_length=120)


class NewTeam(BaseModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str = Field(min_length=1, max_length=120)


class ConsoleError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


class LoginThrottle:
    """At most ``per_minute`` login attempts per client address in any minute."""

    def __init__(self, per_minute: int = LOGIN_ATTEMPTS_PER_MINUTE) -> None:
        self._per_minute = per_minute
        self._attempts: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        attempts = self._attempts[client]
        while attempts and now - attempts[0] > 60:
            attempts.popleft()
        if len(attempts) >= self._per_minute:
            return False
        attempts.append(now)
        if len(self._attempts) > 10_000:  # forget the oldest addresses
            self._attempts.pop(next(iter(self._attempts)))
        return True


def error_response(
    exc: ConsoleError | HandoffError | AccountError, status: int | None = None
) -> JSONResponse:
    extra = exc.extra if isinstance(exc, ConsoleError) else {}
    code_status: int = status or int(getattr(exc, "status", 422))
    return JSONResponse(
        {"error": exc.code, "message": exc.message, **extra}, status_code=code_status
    )


async def _desk(request: Request) -> HandoffDesk:
    desk: HandoffDesk = request.app.state.desk
    return desk


Desk = Annotated[HandoffDesk, Depends(_desk)]


async def _session(request: Request, desk: Desk) -> Session:
    token = request.cookies.get(COOKIE)
    session = await desk.agents.session(token) if token else None
    if session is None:
        raise ConsoleError(401, "not_logged_in", "Inicia sesión para continuar.")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        sent = request.headers.get(CSRF_HEADER, "")
        if not secrets.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise ConsoleError(403, "csrf", "La sesión no es válida para esta acción: recarga.")
    desk.seen(session.agent.id)
    return session


Current = Annotated[Session, Depends(_session)]


def require(session: Session, role: Role) -> None:
    if not session.agent.may(role):
        raise ConsoleError(403, "forbidden", "Tu rol no permite esta acción.")


router = APIRouter(tags=["agent console"])


@router.get("/agent", include_in_schema=False)
async def console_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


# --- sessions -----------------------------------------------------------------------------------


@router.post("/api/auth/login")
async def login(body: Credentials, request: Request, desk: Desk) -> JSONResponse:
    """Start a console session (cookie) and get its CSRF token."""
    throttle: LoginThrottle = request.app.state.login_throttle
    client = request.client.host if request.client else "?"
    if not throttle.allow(client):
        raise ConsoleError(
            429, "too_many_attempts", "Demasiados intentos. Espera un minuto.", retry_after=60
        )
    try:
        token, session = await desk.agents.login(body.username, body.password)
    except LoginRefused as refused:
        await desk.store.audit(body.username.strip().lower()[:64], "login_failed")
        if refused.locked_until is not None:
            wait = max(1, int((refused.locked_until - utcnow()).total_seconds()))
            raise ConsoleError(
                423, "locked",
                "La cuenta está bloqueada por intentos fallidos. "
                f"Intenta en {wait // 60 + 1} minutos.",
                retry_after=wait,
            ) from None  # fmt: skip
        raise ConsoleError(
            401, "invalid_credentials", "Usuario o contraseña incorrectos."
        ) from None
    await desk.store.audit(session.agent.username, "login", actor_id=session.agent.id)
    desk.seen(session.agent.id)
    response = JSONResponse(_me(session))
    secure = bool(request.app.state.settings.console_secure_cookie)
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/",
        max_age=int((session.expires_at - utcnow()).total_seconds()),
    )  # fmt: skip
    return response


def _me(session: Session) -> dict[str, Any]:
    return {
        "agent": session.agent.public(),
        "csrf_token": session.csrf_token,
        "expires_at": session.expires_at.isoformat(),
    }


@router.post("/api/auth/logout")
async def logout(request: Request, session: Current, desk: Desk) -> JSONResponse:
    token = request.cookies.get(COOKIE, "")
    await desk.agents.logout(token)
    await desk.store.audit(session.agent.username, "logout", actor_id=session.agent.id)
    response = JSONResponse({"ok": True})
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/api/auth/me")
async def me(session: Current) -> dict[str, Any]:
    return _me(session)


# --- the queue and the chats ----------------------------------------------------------------------


@router.get("/api/handoffs")
async def handoffs(
    session: Current,
    desk: Desk,
    request: Request,
    state: Annotated[list[State] | None, Query()] = None,
    team: Annotated[str | None, Query(max_length=40)] = None,
) -> list[dict[str, Any]]:
    """The queue and the chats in progress (agents: their team's queue and their own chats)."""
    agent = session.agent
    states = state or list(OPEN_STATES)
    if State.CLOSED in states:
        require(session, Role.SUPERVISOR)
    supervisor = agent.may(Role.SUPERVISOR)
    found = await desk.store.listing(
        states, None if supervisor else agent.id, team if supervisor else agent.team or team
    )
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
    handoff_id: int, session: Current, desk: Desk, request: Request
) -> dict[str, Any]:
    """One chat: the whole transcript (assistant, citizen and agents), the notes, its history."""
    handoff = await desk.visible(handoff_id, session.agent)
    store = request.app.state.store
    entries = await store.history(handoff.conversation_id, 500)
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
async def claim(handoff_id: int, session: Current, desk: Desk) -> dict[str, Any]:
    """Take a waiting chat (one agent only wins)."""
    return summary(await desk.claim(handoff_id, session.agent))


@router.post("/api/handoffs/{handoff_id}/messages")
async def reply(handoff_id: int, body: TextBody, session: Current, desk: Desk) -> dict[str, Any]:
    """Answer the citizen through their own channel."""
    await desk.reply(handoff_id, session.agent, body.text)
    return {"ok": True}


@router.post("/api/handoffs/{handoff_id}/notes")
async def note(handoff_id: int, body: TextBody, session: Current, desk: Desk) -> dict[str, Any]:
    """An internal note (never shown to the citizen)."""
    await desk.note(handoff_id, session.agent, body.text)
    return {"ok": True}


@router.post("/api/handoffs/{handoff_id}/transfer")
async def transfer(
    handoff_id: int, body: TransferBody, session: Current, desk: Desk
) -> dict[str, Any]:
    """To another team (back to its queue) or straight to another agent."""
    return summary(await desk.transfer(handoff_id, session.agent, body.team, body.agent_id))


@router.post("/api/handoffs/{handoff_id}/close")
async def close(handoff_id: int, body: CloseBody, session: Current, desk: Desk) -> dict[str, Any]:
    """End the chat with a resolution code; the assistant answers again."""
    return summary(await desk.close_handoff(handoff_id, session.agent, body.resolution))


@router.get("/api/canned")
async def canned(
    session: Current, request: Request, q: Annotated[str, Query(max_length=200)] = ""
) -> list[dict[str, Any]]:
    """Knowledge-base answers to insert in a reply (search by words)."""
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
    """Teams, resolution codes and agents (for transfers), office hours, who is online."""
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
    """For supervisors: how many wait, for how long, who is online."""
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
    """Callback requests left out of hours or with nobody online (tickets)."""
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
async def callback_done(callback_id: int, session: Current, desk: Desk) -> dict[str, Any]:
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
    handoff_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    require(session, Role.SUPERVISOR)
    return await desk.store.audit_log(handoff_id, limit)


# --- administration -----------------------------------------------------------------------------


@router.get("/api/admin/users")
async def users(session: Current, desk: Desk) -> list[dict[str, Any]]:
    require(session, Role.ADMIN)
    return [a.public() for a in await desk.agents.all()]


@router.post("/api/admin/users", status_code=201)
async def create_user(body: NewUser, session: Current, desk: Desk) -> dict[str, Any]:
    require(session, Role.ADMIN)
    created = await desk.agents.create(
        body.username, body.password, body.role, body.display_name, body.team
    )
    desk.agents_changed()
    await desk.store.audit(session.agent.username, "user_created", actor_id=session.agent.id,
                           user=created.username, role=created.role.value)  # fmt: skip
    return created.public()


@router.patch("/api/admin/users/{agent_id}")
async def change_user(
    agent_id: int, body: UserChange, session: Current, desk: Desk
) -> dict[str, Any]:
    require(session, Role.ADMIN)
    if agent_id == session.agent.id and (
        body.active is False or body.role not in (None, Role.ADMIN)
    ):
        raise ConsoleError(
            422, "self_lockout", "No puedes quitarte a ti mismo el rol de administrador."
        )
    changed = await desk.agents.update(
        agent_id, role=body.role, team=body.team, active=body.active, password=body.password,
        display_name=body.display_name,
    )  # fmt: skip
    fields = [k for k, v in body.model_dump().items() if v is not None]
    await desk.store.audit(session.agent.username, "user_changed", actor_id=session.agent.id,
                           user=changed.username, fields=fields)  # fmt: skip
    return changed.public()


@router.get("/api/admin/teams")
async def teams(session: Current, desk: Desk) -> dict[str, str]:
    require(session, Role.ADMIN)
    return await desk.store.teams()


@router.post("/api/admin/teams", status_code=201)
async def add_team(body: NewTeam, session: Current, desk: Desk) -> dict[str, str]:
    require(session, Role.ADMIN)
    existing = await desk.store.teams()
    if body.name in existing:
        raise ConsoleError(409, "team_exists", f"El equipo «{body.name}» ya existe.")
    await desk.store.add_teams({body.name: body.label})
    await desk.store.audit(session.agent.username, "team_created", actor_id=session.agent.id,
                           team=body.name)  # fmt: skip
    return await desk.store.teams()


@router.get("/api/admin/office-hours")
async def office_hours(session: Current, desk: Desk) -> dict[str, Any]:
    require(session, Role.ADMIN)
    hours = await desk.office_hours()
    return {"hours": hours.as_dict(), "timezone": hours.timezone, "text": hours.describe()}


@router.put("/api/admin/office-hours")
async def set_office_hours(body: dict[str, str], session: Current, desk: Desk) -> dict[str, Any]:
    """Weekdays (mon..sun) to "HH:MM-HH:MM" in Lima time; {} means always open."""
    require(session, Role.ADMIN)
    try:
        hours = OfficeHours.parse(body, desk.rules.desk.office_hours.timezone)
    except EscalationError as exc:
        raise ConsoleError(422, "invalid_hours", f"Horario no válido: {exc}") from exc
    await desk.store.set_setting("office_hours", hours.as_dict())
    await desk.store.audit(session.agent.username, "office_hours_changed",
                           actor_id=session.agent.id, hours=hours.as_dict())  # fmt: skip
    return {"hours": hours.as_dict(), "timezone": hours.timezone, "text": hours.describe()}


# --- live updates -------------------------------------------------------------------------------


@router.websocket("/api/console/events")
async def events(websocket: WebSocket) -> None:
    """Desk events (new chats, messages, claims, closes) for an open console."""
    desk: HandoffDesk = websocket.app.state.desk
    token = websocket.cookies.get(COOKIE)
    session = await desk.agents.session(token) if token else None
    if session is None:
        await websocket.close(code=4401)
        return
    origin = websocket.headers.get("origin")
    host = websocket.headers.get("host")
    if origin is not None and host is not None and origin.split("://", 1)[-1] != host:
        await websocket.close(code=4403)  # cross-site WebSocket hijacking
        return
    await websocket.accept()
    queue = desk.hub.subscribe(session.agent)
    desk.seen(session.agent.id)

    async def pump() -> None:
        while True:
            event = await queue.get()
            await websocket.send_json(event)

    sender = asyncio.create_task(pump())
    try:
        while True:
            await websocket.receive_text()  # pings from the page keep the agent "online"
            desk.seen(session.agent.id)
    except WebSocketDisconnect:
        pass
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender
        desk.hub.unsubscribe(queue)


def install(app: FastAPI) -> None:
    """Routes, error handlers and the login throttle."""
    app.state.login_throttle = LoginThrottle()

    @app.exception_handler(ConsoleError)
    async def _console_error(_: Request, exc: ConsoleError) -> JSONResponse:
        headers = (
            {"Retry-After": str(exc.extra["retry_after"])} if "retry_after" in exc.extra else None
        )
        response = error_response(exc, exc.status)
        if headers:
            response.headers.update(headers)
        return response

    @app.exception_handler(HandoffError)
    async def _handoff_error(_: Request, exc: HandoffError) -> JSONResponse:
        return error_response(exc, exc.status)

    @app.exception_handler(AccountError)
    async def _account_error(_: Request, exc: AccountError) -> JSONResponse:
        status = 409 if exc.code == "username_taken" else 404 if exc.code == "not_found" else 422
        return error_response(exc, status)

    app.include_router(router)


__all__ = ["install", "router"]
