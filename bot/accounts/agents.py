"""The people at the desk: accounts, roles, passwords, console sessions and login throttling.

Passwords are hashed with Argon2id; there is never a default password (the first admin comes
from ``python -m bot create-user``). Hashing and verifying (about 0.1 s of CPU each) run in a
small thread pool, never on the event loop, so logins do not stall the chats. A console session
is a random token in an HttpOnly cookie, stored hashed, that expires; state-changing requests
also carry the session's CSRF token.

Failed logins lock the account for ``LOCKOUT`` after ``MAX_FAILED_LOGINS``. Each failure is
one conditional ``UPDATE … SET failed_logins = failed_logins + 1 … RETURNING`` that counts only
while the account is not locked, so concurrent wrong passwords lock it exactly as sequential
ones do (on SQLite and PostgreSQL alike).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.tables import Agent, AgentSession, Team
from bot.storage.time import aware, utcnow


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


#: What each role may do beyond the one before it.
RANKS = {Role.AGENT: 0, Role.SUPERVISOR: 1, Role.ADMIN: 2}
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 256
MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
SESSION_TTL = dt.timedelta(hours=8)
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")

_hasher = PasswordHasher()
#: Verified against when the username does not exist, so both cases take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
#: Argon2 runs here, off the event loop; a few at a time (each uses ``_hasher.memory_cost``).
PASSWORD_THREADS = 2
_passwords = ThreadPoolExecutor(PASSWORD_THREADS, thread_name_prefix="argon2")


class AccountError(ValueError):
    """A refused account change, with a Spanish message for the console."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class AgentInfo:
    id: int
    username: str
    display_name: str
    role: Role
    team: str | None
    active: bool

    def may(self, role: Role) -> bool:
        return RANKS[self.role] >= RANKS[role]

    def public(self) -> dict[str, object]:
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role.value,
            "team": self.team,
            "active": self.active,
        }


@dataclass(frozen=True)
class Session:
    agent: AgentInfo
    csrf_token: str
    expires_at: dt.datetime


class LoginRefused(Exception):
    def __init__(self, locked_until: dt.datetime | None = None) -> None:
        super().__init__("login refused")
        self.locked_until = locked_until


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(
            "weak_password", f"La contraseña debe tener al menos {MIN_PASSWORD_CHARS} caracteres."
        )
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError("weak_password", "La contraseña es demasiado larga.")
    if len(set(password)) < 5:
        raise AccountError("weak_password", "La contraseña es demasiado simple.")


def session_key(token: str) -> str:
    """What identifies a console session without being its secret (stored, used in limits)."""
    return hashlib.sha256(token.encode()).hexdigest()


async def _hash(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_passwords, _hasher.hash, password)


async def _matches(password_hash: str, password: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(
        _passwords, _verify, password_hash, password
    )


#: An agent's columns (rows read through a connection, not ORM objects).
AGENT = tuple(Agent.__table__.c)


def _info(row: Any) -> AgentInfo:
    return AgentInfo(row.id, row.username, row.display_name, Role(row.role), row.team, row.active)


class AgentDirectory:
    def __init__(self, engine: AsyncEngine, session_ttl: dt.timedelta = SESSION_TTL) -> None:
        self._engine = engine
        self._session_ttl = session_ttl

    async def create(
        self,
        username: str,
        password: str,
        role: Role,
        display_name: str | None = None,
        team: str | None = None,
    ) -> AgentInfo:
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise AccountError(
                "invalid_username",
                "El usuario debe tener de 2 a 64 caracteres: letras minúsculas, números, . _ -",
            )
        check_password(password)
        password_hash = await _hash(password)
        now = utcnow()
        try:
            async with self._engine.begin() as db:
                if (
                    team is not None
                    and await db.scalar(select(Team.name).where(Team.name == team)) is None
                ):
                    raise AccountError("unknown_team", f"No existe el equipo «{team}».")
                new_id = await db.scalar(
                    insert(Agent)
                    .values(
                        username=username,
                        display_name=(display_name or username).strip()[:120],
                        password_hash=password_hash,
                        role=role.value,
                        team=team,
                        active=True,
                        failed_logins=0,
                        created_at=now,
                    )
                    .returning(Agent.id)
                )
        except IntegrityError as exc:
            raise AccountError("username_taken", f"El usuario «{username}» ya existe.") from exc
        assert new_id is not None
        return AgentInfo(int(new_id), username, display_name or username, role, team, True)

    async def update(
        self,
        agent_id: int,
        *,
        role: Role | None = None,
        team: str | None = None,
        active: bool | None = None,
        password: str | None = None,
        display_name: str | None = None,
    ) -> AgentInfo:
        values: dict[str, object] = {}
        if role is not None:
            values["role"] = role.value
        if team is not None:
            values["team"] = team or None
        if active is not None:
            values["active"] = active
        if display_name is not None and display_name.strip():
            values["display_name"] = display_name.strip()[:120]
        if password is not None:
            check_password(password)
            values["password_hash"] = await _hash(password)
            values["failed_logins"] = 0
            values["locked_until"] = None
        async with self._engine.begin() as db:
            if team and await db.scalar(select(Team.name).where(Team.name == team)) is None:
                raise AccountError("unknown_team", f"No existe el equipo «{team}».")
            if values:
                await db.execute(update(Agent).where(Agent.id == agent_id).values(**values))
            if active is False or password is not None:
                await db.execute(delete(AgentSession).where(AgentSession.agent_id == agent_id))
            row = (await db.execute(select(*AGENT).where(Agent.id == agent_id))).first()
        if row is None:
            raise AccountError("not_found", "No existe ese usuario.")
        return _info(row)

    async def get(self, agent_id: int) -> AgentInfo | None:
        async with self._engine.connect() as db:
            row = (await db.execute(select(*AGENT).where(Agent.id == agent_id))).first()
        return _info(row) if row is not None else None

    async def all(self) -> list[AgentInfo]:
        async with self._engine.connect() as db:
            rows = (await db.execute(select(*AGENT).order_by(Agent.username))).all()
        return [_info(r) for r in rows]

    async def count(self) -> int:
        async with self._engine.connect() as db:
            return int(await db.scalar(select(func.count()).select_from(Agent)) or 0)

    async def login(self, username: str, password: str) -> tuple[str, Session]:
        """A new session (token for the cookie, and the session) or :class:`LoginRefused`.

        Wrong passwords count against the account; after ``MAX_FAILED_LOGINS`` it is locked for
        ``LOCKOUT`` (even the right password is refused meanwhile). The password is checked in
        a thread, outside any transaction; the count and the lock are single updates that hold
        only while the account is unlocked, so concurrent attempts count exactly once each."""
        now = utcnow()
        async with self._engine.connect() as db:
            row = (
                await db.execute(select(*AGENT).where(Agent.username == username.strip().lower()))
            ).first()
        if row is None or not row.active:
            await _matches(_DUMMY_HASH, password)
            raise LoginRefused()
        if row.locked_until is not None and aware(row.locked_until) > now:
            raise LoginRefused(aware(row.locked_until))
        if not await _matches(row.password_hash, password):
            raise LoginRefused(await self._count_failure(row.id, now))
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = now + self._session_ttl
        rehashed = await _hash(password) if _hasher.check_needs_rehash(row.password_hash) else None
        async with self._engine.begin() as db:
            values: dict[str, object] = {"failed_logins": 0, "locked_until": None}
            if rehashed is not None:
                values["password_hash"] = rehashed
            unlocked = await db.scalar(
                update(Agent)
                .where(Agent.id == row.id, Agent.active.is_(True), _unlocked(now))
                .values(**values)
                .returning(Agent.id)
            )
            if unlocked is None:  # locked (or deactivated) while the password was checked
                locked_until = await db.scalar(select(Agent.locked_until).where(Agent.id == row.id))
                raise LoginRefused(aware(locked_until) if locked_until is not None else None)
            await db.execute(
                insert(AgentSession).values(
                    token_hash=session_key(token),
                    agent_id=row.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=expires,
                )
            )
            await db.execute(delete(AgentSession).where(AgentSession.expires_at < now))
        return token, Session(_info(row), csrf, expires)

    async def _count_failure(self, agent_id: int, now: dt.datetime) -> dt.datetime | None:
        """Count one wrong password; when the account is (or just got) locked, until when.

        One statement: ``failed_logins + 1`` (from 1 again once an earlier lock has expired),
        and the lock when that reaches ``MAX_FAILED_LOGINS``; nothing when already locked."""
        counted = case((Agent.locked_until.is_not(None), 1), else_=Agent.failed_logins + 1)
        async with self._engine.begin() as db:
            result = (
                await db.execute(
                    update(Agent)
                    .where(Agent.id == agent_id, _unlocked(now))
                    .values(
                        failed_logins=counted,
                        locked_until=case(
                            (counted >= MAX_FAILED_LOGINS, now + LOCKOUT), else_=None
                        ),
                    )
                    .returning(Agent.locked_until)
                )
            ).first()
            if result is None:  # someone else's failure locked it first
                locked = await db.scalar(select(Agent.locked_until).where(Agent.id == agent_id))
            else:
                locked = result.locked_until
        return aware(locked) if locked is not None else None

    async def failed_logins(self, agent_id: int) -> tuple[int, dt.datetime | None]:
        """The account's count of wrong passwords and until when it is locked."""
        async with self._engine.connect() as db:
            row = (
                await db.execute(
                    select(Agent.failed_logins, Agent.locked_until).where(Agent.id == agent_id)
                )
            ).one()
        return int(row.failed_logins), aware(row.locked_until) if row.locked_until else None

    async def session(self, token: str) -> Session | None:
        """The live session of a cookie's token (expired, unknown or deactivated: None)."""
        async with self._engine.connect() as db:
            found = (
                await db.execute(
                    select(AgentSession.csrf_token, AgentSession.expires_at, *AGENT)
                    .join(Agent, Agent.id == AgentSession.agent_id)
                    .where(AgentSession.token_hash == session_key(token))
                )
            ).first()
        if found is None:
            return None
        if aware(found.expires_at) <= utcnow() or not found.active:
            return None
        return Session(_info(found), found.csrf_token, aware(found.expires_at))

    async def logout(self, token: str) -> None:
        async with self._engine.begin() as db:
            await db.execute(
                delete(AgentSession).where(AgentSession.token_hash == session_key(token))
            )


def _unlocked(now: dt.datetime) -> Any:
    return or_(Agent.locked_until.is_(None), Agent.locked_until <= now)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
