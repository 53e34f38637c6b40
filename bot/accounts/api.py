"""The console's administration: accounts and roles, teams, office hours (admins only).

Deactivating an account or changing its password ends its sessions and closes its open consoles
at once; a changed role or team applies to its open consoles' live updates at once too.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from bot.accounts.agents import Role
from bot.accounts.auth import ConsoleError, Current, Desk, RowId, require
from bot.knowledge.handoff_rules import EscalationError, OfficeHours

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


class NewTeam(BaseModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str = Field(min_length=1, max_length=120)


@router.get("/api/admin/users")
async def users(session: Current, desk: Desk) -> list[dict[str, Any]]:
    """Admins: every account."""
    require(session, Role.ADMIN)
    return [a.public() for a in await desk.agents.all()]


@router.post("/api/admin/users", status_code=201)
async def create_user(body: NewUser, session: Current, desk: Desk) -> dict[str, Any]:
    """Admins: a new account (password of 12+ characters)."""
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
    agent_id: RowId, body: UserChange, session: Current, desk: Desk
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
    changed = await desk.agents.update(
        agent_id, role=body.role, team=body.team, active=body.active, password=body.password,
        display_name=body.display_name,
    )  # fmt: skip
    if body.active is False or body.password is not None:
        desk.sessions_ended(changed.id)  # its sessions are gone: close its consoles now
    else:
        desk.hub.refresh(changed)
    fields = [k for k, v in body.model_dump().items() if v is not None]
    await desk.store.audit(session.agent.username, "user_changed", actor_id=session.agent.id,
                           user=changed.username, fields=fields)  # fmt: skip
    return changed.public()


@router.get("/api/admin/teams")
async def teams(session: Current, desk: Desk) -> dict[str, str]:
    """Admins: the teams (name → label)."""
    require(session, Role.ADMIN)
    return await desk.store.teams()


@router.post("/api/admin/teams", status_code=201)
async def add_team(body: NewTeam, session: Current, desk: Desk) -> dict[str, str]:
    """Admins: a new team."""
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
    """Admins: the office hours."""
    require(session, Role.ADMIN)
    hours = await desk.office_hours()
    return {"hours": hours.as_dict(), "timezone": hours.timezone, "text": hours.describe()}


@router.put("/api/admin/office-hours")
async def set_office_hours(body: dict[str, str], session: Current, desk: Desk) -> dict[str, Any]:
    """Admins: weekdays (mon..sun) to "HH:MM-HH:MM" in Lima time; {} means always open."""
    require(session, Role.ADMIN)
    try:
        hours = OfficeHours.parse(body, desk.rules.desk.office_hours.timezone)
    except EscalationError as exc:
        raise ConsoleError(422, "invalid_hours", f"Horario no válido: {exc}") from exc
    await desk.store.set_setting("office_hours", hours.as_dict())
    await desk.store.audit(session.agent.username, "office_hours_changed",
                           actor_id=session.agent.id, hours=hours.as_dict())  # fmt: skip
    return {"hours": hours.as_dict(), "timezone": hours.timezone, "text": hours.describe()}
