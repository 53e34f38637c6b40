"""The form the gateway runs in a conversation (a ticket's questions, an event sign-up, a
survey's comment): one at a time per conversation, kept in the database so a restart or
another gateway carries on where the citizen was. A form left alone for ``FLOW_IDLE`` is
forgotten (the citizen's next message goes to the engine again)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.tables import FlowRow
from bot.storage.time import aware, utcnow

#: A form untouched for this long is abandoned.
FLOW_IDLE = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class Flow:
    """An open form: which service runs it, the question asked last, the answers so far."""

    service: str
    step: str
    data: dict[str, Any]
    updated_at: dt.datetime


class FlowStore:
    def __init__(
        self,
        engine: AsyncEngine,
        idle: dt.timedelta = FLOW_IDLE,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self._idle = idle
        self._clock = clock

    async def get(self, conversation_id: int, service: str | None = None) -> Flow | None:
        """The conversation's open form (of ``service`` only, when given); None when there is
        none or it was left alone too long."""
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(FlowRow).where(FlowRow.conversation_id == conversation_id)
                )
            ).first()
        if row is None:
            return None
        flow = Flow(row.service, row.step, dict(row.data or {}), aware(row.updated_at))
        if self._clock() - flow.updated_at > self._idle:
            return None
        if service is not None and flow.service != service:
            return None
        return flow

    async def put(
        self, conversation_id: int, service: str, step: str, data: dict[str, Any]
    ) -> None:
        """Open or move on a form (it replaces any other form open in the conversation)."""
        now = self._clock()
        async with self._engine.begin() as connection:
            await connection.execute(
                delete(FlowRow).where(FlowRow.conversation_id == conversation_id)
            )
            await connection.execute(
                insert(FlowRow).values(
                    conversation_id=conversation_id,
                    service=service,
                    step=step,
                    data=data,
                    updated_at=now,
                )
            )

    async def end(self, conversation_id: int) -> None:
        """Close the conversation's form (done or cancelled)."""
        async with self._engine.begin() as connection:
            await connection.execute(
                delete(FlowRow).where(FlowRow.conversation_id == conversation_id)
            )
