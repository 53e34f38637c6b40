"""Logging in and out of the console, and who is logged in.

Sessions are an HttpOnly, SameSite=Strict cookie; every state-changing request also sends the
session's CSRF token in ``X-CSRF-Token`` (checked by :data:`bot.web.deps.Current`). Logins are
limited per client address (behind a trusted proxy: the address it forwarded) and per account
before any password is checked, and the account locks after repeated wrong passwords
(``bot/accounts/agents.py``). Logging out, or an admin deactivating an account, closes that
session's open consoles at once.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bot.accounts.agents import LoginRefused, Session, session_key
from bot.storage.time import utcnow
from bot.web.client_address import client_address
from bot.web.deps import (
    COOKIE,
    Agents,
    AppSettings,
    Audit,
    ConsoleError,
    Current,
    Limits,
    Presence,
)

TOO_MANY_LOGINS = "Demasiados intentos de inicio de sesión. Intenta de nuevo en {seconds} segundos."


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


router = APIRouter(tags=["agent console"])


@router.post("/api/auth/login")
async def login(
    body: Credentials,
    request: Request,
    settings: AppSettings,
    agents: Agents,
    audit: Audit,
    presence: Presence,
    limits: Limits,
) -> JSONResponse:
    """Anyone: start a console session (cookie) and get its CSRF token. Limited per address
    and per account (429 with ``Retry-After``) before the password is checked."""
    username = body.username.strip().lower()[:64]
    await limits.hit(
        settings.limit_logins_per_address, "login-address", client_address(request),
        message=TOO_MANY_LOGINS,
    )  # fmt: skip
    await limits.hit(
        settings.limit_logins_per_account, "login-account", username, message=TOO_MANY_LOGINS
    )
    try:
        token, session = await agents.login(username, body.password)
    except LoginRefused as refused:
        await audit.record(username, "login_failed")
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
    await audit.record(session.agent.username, "login", actor_id=session.agent.id)
    presence.seen(session.agent.id)
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
async def logout(
    request: Request, session: Current, agents: Agents, audit: Audit, presence: Presence
) -> JSONResponse:
    """A logged-in agent: end this session; its open consoles close at once."""
    token = request.cookies.get(COOKIE, "")
    await agents.logout(token)
    presence.sessions_ended(session.agent.id, session_key(token))
    await audit.record(session.agent.username, "logout", actor_id=session.agent.id)
    response = JSONResponse({"ok": True})
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/api/auth/me")
async def me(session: Current) -> dict[str, Any]:
    """A logged-in agent: who they are, and the session's CSRF token."""
    return me_body(session)
