"""The audit log: who did what, when — agents at the console (logins, accounts, chats), admins
at the workbench (annotations, article edits, training, deploys, uploads), the assistant and
citizens at the desk (escalations, callback requests).

One table (``audit_log``, :class:`bot.storage.tables.AuditEntry`), written by the accounts, the
desk (``bot/handoff/``) and the workbench alike; supervisors read it in the console.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.tables import AuditEntry
from bot.storage.time import aware, utcnow


class AuditLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(
        self,
        actor: str,
        action: str,
        handoff_id: int | None = None,
        actor_id: int | None = None,
        **detail: Any,
    ) -> None:
        """``actor`` (a username, ``asistente`` or ``ciudadano``) did ``action``, to the
        handoff ``handoff_id`` when it concerns one; ``detail`` is kept as JSON."""
        async with self._engine.begin() as db:
            await db.execute(
                insert(AuditEntry).values(
                    at=utcnow(), actor=actor, actor_id=actor_id, action=action,
                    handoff_id=handoff_id, detail=detail or None,
                )
            )  # fmt: skip

    async def entries(
        self, handoff_id: int | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """The latest ``limit`` entries (of one handoff, when given), newest first."""
        query = select(*AuditEntry.__table__.c).order_by(AuditEntry.id.desc()).limit(limit)
        if handoff_id is not None:
            query = query.where(AuditEntry.handoff_id == handoff_id)
        async with self._engine.connect() as db:
            rows = (await db.execute(query)).all()
        return [
            {
                "at": (aware(r.at) or utcnow()).isoformat(),
                "actor": r.actor,
                "action": r.action,
                "handoff_id": r.handoff_id,
                "detail": r.detail or {},
            }
            for r in rows
        ]
