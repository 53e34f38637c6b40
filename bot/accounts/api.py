"""The console's accounts and roles (admins only); teams and office hours are the desk's
(``bot/handoff/admin_api.py``).

Deactivating an account or changing its password ends its sessions and closes its open consoles
at once; a changed role or team applies to its open consoles' live updates at once too.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from bot.accounts.agents import Role
from bot.web.deps import Agents, Audit, ConsoleError, Current, Presence, RowId, require

router = APIRouter(tags=["agent console"])


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


@router.get("/api/admin/users")
async def users(session: Current, agents: Agents) -> list[dict[str, Any]]:
    """Admins: every account."""
    require(session, Role.ADMIN)
    return [a.public() for a in await agents.all()]


@router.post("/api/admin/users", status_code=201)
async def create_user(
    body: NewUser, session: Current, agents: Agents, audit: Audit, presence: Presence
) -> dict[str, Any]:
    """Admins: a new account (password of 12+ characters)."""
    require(session, Role.ADMIN)
    created = await agents.create(
        body.username, body.password, body.role, body.display_name, body.team
    )
    presence.agents_changed()
    await audit.record(session.agent.username, "user_created", actor_id=session.agent.id,
                           user=created.username, role=created.role.value)  # fmt: skip
    return created.public()


@router.patch("/api/admin/users/{agent_id}")
async def change_user(
    agent_id: RowId,
    body: UserChange,
    session: Current,
    agents: Agents,
    audit: Audit,
    presence: Presence,
) -> dict[str, Any]:
    """Admins: change an account. Deactivating it or changing its password ends its sessions
    and closes its open consoles now."""
    require(session, Role.ADMIN)
    if agent_id == session.agent.id and (
        body.active is False or body.role not in (None, Role.ADMIN)
    ):
        raise ConsoleError(
            422, "self_lockout", "No puedes quitarte a ti mismo el rol de administrador."
        )
    changed = await agents.update(
        agent_id, role=body.role, team=body.team, active=body.active, password=body.password,
        display_name=body.display_name,
    )  # fmt: skip
    if body.active is False or body.password is not None:
        presence.sessions_ended(changed.id)  # its sessions are gone: close its consoles now
    else:
        presence.agent_changed(changed)
    fields = [k for k, v in body.model_dump().items() if v is not None]
    await audit.record(session.agent.username, "user_changed", actor_id=session.agent.id,
                           user=changed.username, fields=fields)  # fmt: skip
    return changed.public()
