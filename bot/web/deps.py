"""What routes take from the app, as ``Annotated`` dependencies (in the manner of the FastAPI
full-stack template's ``api/deps.py``): ``async def route(session: Current, audit: Audit)``.

Here: what every room's routes share — the app's settings, knowledge base and engine client,
the agents' accounts and the audit log (``bot/accounts/``), the console session of the caller
(:data:`Current`, with its CSRF check) and the role guard :func:`require` — and
:class:`ConsoleError`, the refusal a route raises itself. bot/web/errors.py turns it, and every
room's own errors, into JSON answers.

A room's own objects are declared by the room, next to its routes, with :func:`from_state`
(``Desk`` in ``bot/handoff/api.py``, the inbox or the model registry in
``bot/workbench/api.py``…). That keeps this module below the rooms: it imports bot.accounts'
data layer, settings, knowledge and the engine client, never bot.handoff, bot.workbench or
connectors, so the workbench can use it without reaching the desk even indirectly (the import
contracts in pyproject.toml). Connectors do not use it: they may not import bot.accounts.

Role checks stay in the routes' bodies (``require(session, Role.ADMIN)``), after the request
is validated, as the API has always answered.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Protocol

from fastapi import Depends, Path, Request
from starlette.requests import HTTPConnection

from bot.accounts.agents import AgentDirectory, AgentInfo, Role, Session
from bot.accounts.audit import AuditLog
from bot.conversation.rasa_client import RasaClient
from bot.knowledge.articles import KnowledgeStore
from bot.ops.settings import Settings
from bot.web.rate_limits import Limits as Limits

#: The console session's cookie (HttpOnly, SameSite=Strict).
COOKIE = "asistente_consola"
#: The header every state-changing console request carries the session's CSRF token in.
CSRF_HEADER = "X-CSRF-Token"
#: The largest row id: ids are INTEGER columns, 32 bits on PostgreSQL (SQLite takes 64).
ROW_ID_MAX = 2**31 - 1
#: A row's id in a path: a larger number is a 422, never a database error.
RowId = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]


class ConsoleError(Exception):
    """A route's refusal: HTTP ``status``, a ``code`` for programs, a Spanish ``message``, and
    ``extra`` fields of the JSON answer (``retry_after`` also becomes ``Retry-After``)."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def from_state(name: str) -> Callable[[HTTPConnection], Awaitable[Any]]:
    """A dependency on what the app keeps as ``app.state.<name>`` (set by bot/web/app.py):
    ``Desk = Annotated[HandoffDesk, Depends(from_state("desk"))]``."""

    async def dependency(connection: HTTPConnection) -> Any:
        return getattr(connection.app.state, name)

    dependency.__name__ = f"app_state_{name}"
    return dependency


class ConsolePresence(Protocol):
    """Who keeps track of the agents at the console (the agents' desk, bot/handoff/): told
    when an agent makes a request and when accounts or sessions change."""

    def seen(self, agent_id: int) -> None:
        """The agent made a request: online now."""

    def agents_changed(self) -> None:
        """An account was created."""

    def agent_changed(self, agent: AgentInfo) -> None:
        """An account's role or team changed: its open consoles follow at once."""

    def sessions_ended(self, agent_id: int, session: str | None = None) -> None:
        """One session (logged out), or without ``session`` all of the agent's, ended: their
        open consoles close at once."""


#: The gateway's settings.
AppSettings = Annotated[Settings, Depends(from_state("settings"))]
#: The knowledge base (``.current``: the articles now).
Knowledge = Annotated[KnowledgeStore, Depends(from_state("knowledge"))]
#: The client of the Rasa engine.
Rasa = Annotated[RasaClient, Depends(from_state("rasa"))]
#: The agents' accounts and console sessions.
Agents = Annotated[AgentDirectory, Depends(from_state("agents"))]
#: The audit log.
Audit = Annotated[AuditLog, Depends(from_state("audit"))]
#: Who is at the console (the agents' desk).
Presence = Annotated[ConsolePresence, Depends(from_state("presence"))]


async def _session(request: Request, agents: Agents, presence: Presence) -> Session:
    token = request.cookies.get(COOKIE)
    session = await agents.session(token) if token else None
    if session is None:
        raise ConsoleError(401, "not_logged_in", "Inicia sesión para continuar.")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        sent = request.headers.get(CSRF_HEADER, "")
        if not secrets.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise ConsoleError(403, "csrf", "La sesión no es válida para esta acción: recarga.")
    presence.seen(session.agent.id)
    return session


#: The caller's console session (401 without one, 403 without its CSRF token on changes).
Current = Annotated[Session, Depends(_session)]


def require(session: Session, role: Role) -> None:
    """403 unless the session's agent has ``role`` (or a higher one)."""
    if not session.agent.may(role):
        raise ConsoleError(403, "forbidden", "Tu rol no permite esta acción.")
