"""Who is at the console: the session cookie, the CSRF token, roles, and logging in and out.

Sessions are an HttpOnly, SameSite=Strict cookie; every state-changing request also sends the
session's CSRF token in ``X-CSRF-Token``. Logins are limited per client address (behind a
trusted proxy: the address it forwarded) and per account before any password is checked, and
the account locks after repeated wrong passwords (``bot/accounts/agents.py``). Logging out, or an
admin deactivating an account, closes that session's open consoles at once.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bot.accounts.agents import AccountError, LoginRefused, Role, Session, session_key
from bot.handoff.service import HandoffDesk, HandoffError
from bot.storage.time import utcnow
from bot.web.client_address import client_address
from bot.web.rate_limits import Limits

COOKIE = "asistente_consola"
CSRF_HEADER = "X-CSRF-Token"
#: The largest row id: ids are INTEGER columns, 32 bits on PostgreSQL (SQLite takes 64).
ROW_ID_MAX = 2**31 - 1
#: A row's id in a path: a larger number is a 422, never a database error.
RowId = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]
TOO_MANY_LOGINS = "Demasiados intentos de inicio de sesión. Intenta de nuevo en {seconds} segundos."


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class ConsoleError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def error_response(
    exc: ConsoleError | HandoffError | AccountError, status: int | None = None
) -> JSONResponse:
    extra = exc.extra if isinstance(exc, ConsoleError) else {}
    code_status: int = status or int(getattr(exc, "status", 422))
    response = JSONResponse(
        {"error": exc.code, "message": exc.message, **extra}, status_code=code_status
    )
    if "retry_after" in extra:
        response.headers["Retry-After"] = str(extra["retry_after"])
    return response


async def _desk(request: Request) -> HandoffDesk:
    desk: HandoffDesk = request.app.state.desk
    return desk


#: The agents' desk, for a route's signature.
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


#: The caller's console session (401 without one, 403 without its CSRF token on changes).
Current = Annotated[Session, Depends(_session)]


def require(session: Session, role: Role) -> None:
    if not session.agent.may(role):
        raise ConsoleError(403, "forbidden", "Tu rol no permite esta acción.")


router = APIRouter(tags=["agent console"])


@router.post("/api/auth/login")
async def login(body: Credentials, request: Request, desk: Desk, limits: Limits) -> JSONResponse:
    """Anyone: start a console session (cookie) and get its CSRF token. Limited per address
    and per account (429 with ``Retry-After``) before the password is checked."""
    settings = request.app.state.settings
    username = body.username.strip().lower()[:64]
    await limits.hit(
        settings.limit_logins_per_address, "login-address", client_address(request),
        message=TOO_MANY_LOGINS,
    )  # fmt: skip
    await limits.hit(
        settings.limit_logins_per_account, "login-account", username, message=TOO_MANY_LOGINS
    )
    try:
        token, session = await desk.agents.login(username, body.password)
    except LoginRefused as refused:
        await desk.store.audit(username, "login_failed")
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
    response = JSONResponse(me_body(session))
    secure = bool(settings.secure_cookies)
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/",
        max_age=int((session.expires_at - utcnow()).total_seconds()),
    )  # fmt: skip
    return response


def me_body(session: Session) -> dict[str, Any]:
    return {
        "agent": session.agent.public(),
        "csrf_token": session.csrf_token,
        "expires_at": session.expires_at.isoformat(),
    }


@router.post("/api/auth/logout")
async def logout(request: Request, session: Current, desk: Desk) -> JSONResponse:
    """A logged-in agent: end this session; its open consoles close at once."""
    token = request.cookies.get(COOKIE, "")
    await desk.agents.logout(token)
    desk.sessions_ended(session.agent.id, session_key(token))
    await desk.store.audit(session.agent.username, "logout", actor_id=session.agent.id)
    response = JSONResponse({"ok": True})
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/api/auth/me")
async def me(session: Current) -> dict[str, Any]:
    """A logged-in agent: who they are, and the session's CSRF token."""
    return me_body(session)
