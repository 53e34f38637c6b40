"""Web chat sessions: who may read and write a web chat conversation.

A citizen reaches a web chat conversation only through a session the gateway issued: a random
token (256 bits) in an HttpOnly cookie, stored here only as its SHA-256. The session opens a
conversation whose key (``sender_id``, 192 random bits) is never derived from the citizen and is
not a credential: knowing it gives no access. A session ends when the citizen ends it, or after
``idle`` without activity (posting, listening to the push stream). Sessions live in the
gateway's database, so they survive a restart and are shared by several gateways.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import DateTime, String, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.tables import Base
from bot.storage.time import aware, utcnow

#: Bytes of randomness of a session's token (the cookie) and of its conversation key.
TOKEN_BYTES = 32
SENDER_BYTES = 24
#: Conversation keys of citizens' sessions start with it; an integrator's ``sender`` may not
#: (so a key never reaches a citizen's conversation, even one whose id it learnt).
SESSION_SENDER_PREFIX = "sesion-"
#: Longest cookie value looked up (anything longer is not a token this gateway issued).
MAX_TOKEN_CHARS = 128
#: Activity is written at most this often per session (one write per message otherwise).
TOUCH_EVERY = dt.timedelta(seconds=30)


class WebchatSessionRow(Base):
    """A web chat session: the cookie's token hashed, and the conversation it opens."""

    __tablename__ = "webchat_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


_Row = WebchatSessionRow


@dataclass(frozen=True)
class WebchatSession:
    """A live session: its conversation key and when it was last active."""

    sender_id: str
    last_seen_at: dt.datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class WebchatSessions:
    """Sessions in the gateway database. ``clock`` is replaceable (tests move time on)."""

    def __init__(
        self, engine: AsyncEngine, idle: dt.timedelta, clock: Callable[[], dt.datetime] = utcnow
    ) -> None:
        self._engine = engine
        self.idle = idle
        self.clock = clock

    async def start(self) -> tuple[str, WebchatSession]:
        """A new session: the token for the cookie (returned once, stored hashed) and it."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        session = WebchatSession(
            SESSION_SENDER_PREFIX + secrets.token_urlsafe(SENDER_BYTES), self.clock()
        )
        async with self._engine.begin() as db:
            await db.execute(
                insert(_Row).values(
                    token_hash=token_hash(token),
                    sender_id=session.sender_id,
                    created_at=session.last_seen_at,
                    last_seen_at=session.last_seen_at,
                )
            )
            # Sessions idle past the limit can never be used again: forget them.
            await db.execute(
                delete(_Row).where(_Row.last_seen_at < session.last_seen_at - self.idle)
            )
        return token, session

    async def find(self, token: str | None) -> WebchatSession | None:
        """The live session of a cookie's token (unknown, ended or idle too long: None)."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            return None
        async with self._engine.connect() as db:
            found = (
                await db.execute(
                    select(_Row.sender_id, _Row.last_seen_at).where(
                        _Row.token_hash == token_hash(token)
                    )
                )
            ).first()
        if found is None:
            return None
        session = WebchatSession(found.sender_id, aware(found.last_seen_at))
        if self.clock() - session.last_seen_at > self.idle:
            return None
        return session

    async def seen(self, token: str, session: WebchatSession) -> None:
        """Record activity on a live session (written at most every ``TOUCH_EVERY``)."""
        now = self.clock()
        if now - session.last_seen_at < TOUCH_EVERY:
            return
        async with self._engine.begin() as db:
            await db.execute(
                update(_Row).where(_Row.token_hash == token_hash(token)).values(last_seen_at=now)
            )

    async def still_active(self, token: str) -> bool:
        """Whether the session is still live, counting this moment as activity."""
        session = await self.find(token)
        if session is None:
            return False
        await self.seen(token, session)
        return True

    async def end(self, token: str | None) -> bool:
        """End a session at the citizen's request; whether there was one."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            return False
        async with self._engine.begin() as db:
            result = await db.execute(delete(_Row).where(_Row.token_hash == token_hash(token)))
        return bool(result.rowcount)
