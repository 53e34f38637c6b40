"""The console's accounts and roles (admins only); teams and office hours are the desk's
(``bot/handoff/admin_api.py``).

Deactivating an account or changing its password ends its sessions and closes its open consoles
at once; a changed role or team applies to its open consoles' live updates at once too.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from bot.accounts.agents import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, Role
from bot.knowledge.handoff_rules import NAME_PATTERN
from bot.web.deps import Agents, Audit, ConsoleError, Current, Presence, RowId, require

router = APIRouter(tags=["agent console"])


# What the accounts check themselves, with their own codes and Spanish messages, is said in
# the document (``json_schema_extra``) rather than checked twice.
#: A password's length (it also needs 5 different characters, which a schema cannot say).
PASSWORD: dict[str, Any] = {"minLength": MIN_PASSWORD_CHARS, "maxLength": MAX_PASSWORD_CHARS}
#: A username as written (stored in lower case).
USERNAME: dict[str, Any] = {"pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$"}


class NewUser(BaseModel):
    username: str = Field(min_length=2, max_length=64, json_schema_extra=USERNAME)
    password: str = Field(min_length=1, max_length=256, json_schema_extra=PASSWORD)
    role: Role = Role.AGENT
    display_name: str | None = Field(default=None, max_length=120)
    team: str | None = Field(
        default=None, max_length=40, json_schema_extra={"pattern": NAME_PATTERN}
    )


class UserChange(BaseModel):
    role: Role | None = None
    #: "" takes the account out of its team.
    team: str | None = Field(
        default=None, max_length=40, json_schema_extra={"pattern": f"{NAME_PATTERN}|^$"}
    )
    active: bool | None = None
    password: str | None = Field(default=None, max_length=256, json_schema_extra=PASSWORD)
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
