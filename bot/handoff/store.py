"""Where handoffs live: the handoffs with their notes and callback requests, teams and the
desk's settings (the audit log is ``bot/accounts/audit.py``). SQLAlchemy on the gateway's
database (SQLite or PostgreSQL).

State changes are single conditional updates (``... WHERE state = 'pending'``), so two agents
claiming one chat cannot both win, on either database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.store import HistoryEntry
from bot.storage.tables import (
    Agent,
    CallbackRow,
    Conversation,
    DeskSetting,
    HandoffNote,
    HandoffRow,
    Message,
    Team,
)
from bot.storage.time import aware, utcnow


class State(StrEnum):
    #: Waiting in the queue for an agent.
    PENDING = "pending"
    #: An agent has it.
    AGENT = "agent"
    #: The citizen is leaving a callback request (out of hours, nobody online).
    CALLBACK = "callback"
    #: Over: the assistant answers again.
    CLOSED = "closed"


OPEN_STATES = (State.PENDING, State.AGENT, State.CALLBACK)


@dataclass(frozen=True)
class Handoff:
    id: int
    conversation_id: int
    channel: str
    sender_id: str
    state: State
    reason: str
    team: str
    intent: str | None
    confidence: float | None
    agent_id: int | None
    agent_name: str | None
    created_at: dt.datetime
    claimed_at: dt.datetime | None
    closed_at: dt.datetime | None
    resolution: str | None
    callback: dict[str, Any] | None
    last_message: str | None = None
    last_message_at: dt.datetime | None = None


@dataclass(frozen=True)
class Note:
    id: int
    agent: str
    text: str
    created_at: dt.datetime


@dataclass(frozen=True)
class CallbackRequest:
    id: int
    handoff_id: int
    channel: str
    name: str
    contact: str
    topic: str
    status: str
    created_at: dt.datetime


def _session_start(
    earlier: Sequence[dt.datetime], opened: dt.datetime, idle: dt.timedelta
) -> dt.datetime:
    """When the session ``opened`` belongs to began: going back from it over ``earlier``
    (newest first) until a silence longer than ``idle``."""
    start = opened
    for moment in earlier:
        if start - moment > idle:
            break
        start = min(start, moment)
    return start


def _last_inbound() -> Any:
    """The citizen's latest message per conversation (id), for the queue's "last message"."""
    return (
        select(Message.conversation_id, func.max(Message.id).label("message_id"))
        .where(Message.direction == "in")
        .group_by(Message.conversation_id)
        .subquery()
    )


class HandoffStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    # --- reading ------------------------------------------------------------------------------

    def _select(self, with_last_message: bool = False) -> Any:
        columns: list[Any] = [
            *HandoffRow.__table__.c,
            Conversation.channel,
            Conversation.sender_id,
            Agent.display_name.label("agent_name"),
        ]
        query = (
            select(*columns)
            .join(Conversation, Conversation.id == HandoffRow.conversation_id)
            .outerjoin(Agent, Agent.id == HandoffRow.agent_id)
        )
        if with_last_message:
            last = _last_inbound()
            query = (
                query.add_columns(
                    Message.text.label("last_message"),
                    Message.created_at.label("last_message_at"),
                )
                .outerjoin(last, last.c.conversation_id == HandoffRow.conversation_id)
                .outerjoin(Message, Message.id == last.c.message_id)
            )
        return query

    @staticmethod
    def _handoff(row: Any) -> Handoff:
        r = row._mapping
        return Handoff(
            r["id"], r["conversation_id"], r["channel"], r["sender_id"], State(r["state"]),
            r["reason"], r["team"], r["intent"], r["confidence"], r["agent_id"],
            r["agent_name"], aware(r["created_at"]) or utcnow(), aware(r["claimed_at"]),
            aware(r["closed_at"]), r["resolution"], r["callback"], r.get("last_message"),
            aware(r.get("last_message_at")),
        )  # fmt: skip

    async def get(self, handoff_id: int) -> Handoff | None:
        async with self._engine.connect() as db:
            row = (await db.execute(self._select(True).where(HandoffRow.id == handoff_id))).first()
        return self._handoff(row) if row is not None else None

    async def open_handoffs(self) -> list[Handoff]:
        """Every handoff not closed (the service's view of who owns which conversation)."""
        async with self._engine.connect() as db:
            rows = (await db.execute(self._select().where(HandoffRow.state.in_(OPEN_STATES)))).all()
        return [self._handoff(r) for r in rows]

    async def listing(
        self,
        states: Sequence[State],
        team: str | None = None,
        *,
        held_by: int | None = None,
        queue_of: str | None = None,
        limit: int = 500,
    ) -> list[Handoff]:
        """The handoffs in ``states`` (of ``team``), oldest first, with each one's last message.

        ``held_by`` lists only what that agent may see (``bot/handoff/access.py``): the queue
        (of the team ``queue_of``, or all when None) and the chats they hold or held at close."""
        query = self._select(True).where(HandoffRow.state.in_(states))
        if held_by is not None:
            queue = HandoffRow.state == State.PENDING
            if queue_of is not None:
                queue = and_(queue, HandoffRow.team == queue_of)
            held = and_(
                HandoffRow.state.in_([State.AGENT, State.CLOSED]), HandoffRow.agent_id == held_by
            )
            query = query.where(or_(queue, held))
        if team is not None:
            query = query.where(HandoffRow.team == team)
        query = query.order_by(HandoffRow.created_at, HandoffRow.id).limit(limit)
        async with self._engine.connect() as db:
            rows = (await db.execute(query)).all()
        return [self._handoff(r) for r in rows]

    async def transcript(
        self, handoff: Handoff, session_idle: dt.timedelta, limit: int = 500
    ) -> list[HistoryEntry]:
        """The messages of this handoff's stretch of the conversation, oldest first (the last
        ``limit``): from the start of the session it was opened in (not before the previous
        handoff of the conversation closed) until it closed. The citizen's other sessions, and
        chats other people had with them, are not part of it."""
        conversation = Message.conversation_id == handoff.conversation_id
        async with self._engine.connect() as db:
            previous_close = await db.scalar(
                select(func.max(HandoffRow.closed_at)).where(
                    HandoffRow.conversation_id == handoff.conversation_id,
                    HandoffRow.id < handoff.id,
                )
            )
            before = select(Message.created_at).where(
                conversation, Message.created_at <= handoff.created_at
            )
            if previous_close is not None:
                before = before.where(Message.created_at > previous_close)
            earlier = (await db.scalars(before.order_by(Message.id.desc()).limit(limit))).all()
            start = _session_start(
                [aware(at) or handoff.created_at for at in earlier], handoff.created_at,
                session_idle,
            )  # fmt: skip
            query = select(
                Message.direction, Message.text, Message.payload, Message.created_at
            ).where(conversation, Message.created_at >= start)
            if handoff.closed_at is not None:
                query = query.where(Message.created_at <= handoff.closed_at)
            rows = (await db.execute(query.order_by(Message.id.desc()).limit(limit))).all()
        return [
            HistoryEntry(direction, text, payload, aware(at) or utcnow())
            for direction, text, payload, at in reversed(rows)
        ]

    async def queue_position(self, handoff: Handoff) -> int:
        """1 for the first in line (same team, waiting longer)."""
        async with self._engine.connect() as db:
            ahead = await db.scalar(
                select(func.count())
                .select_from(HandoffRow)
                .where(
                    HandoffRow.state == State.PENDING,
                    HandoffRow.team == handoff.team,
                    or_(
                        HandoffRow.created_at < handoff.created_at,
                        and_(
                            HandoffRow.created_at == handoff.created_at,
                            HandoffRow.id < handoff.id,
                        ),
                    ),
                )
            )
        return int(ahead or 0) + 1

    async def recent_waits(self, limit: int = 20) -> list[float]:
        """Seconds from escalation to claim, for the latest claimed handoffs."""
        async with self._engine.connect() as db:
            rows = (
                await db.execute(
                    select(HandoffRow.created_at, HandoffRow.claimed_at)
                    .where(HandoffRow.claimed_at.is_not(None))
                    .order_by(HandoffRow.claimed_at.desc())
                    .limit(limit)
                )
            ).all()
        waits = []
        for created, claimed in rows:
            start, end = aware(created), aware(claimed)
            if start is not None and end is not None:
                waits.append((end - start).total_seconds())
        return waits

    async def counts(self) -> dict[str, int]:
        async with self._engine.connect() as db:
            rows = (
                await db.execute(
                    select(HandoffRow.state, func.count())
                    .where(HandoffRow.state.in_(OPEN_STATES))
                    .group_by(HandoffRow.state)
                )
            ).all()
        return {str(state): int(n) for state, n in rows}

    # --- changing: one conditional update each ------------------------------------------------

    async def open(
        self,
        conversation_id: int,
        state: State,
        reason: str,
        team: str,
        intent: str | None,
        confidence: float | None,
        callback: dict[str, Any] | None = None,
        at: dt.datetime | None = None,
    ) -> int | None:
        """A new handoff; None when the conversation already has an open one."""
        try:
            async with self._engine.begin() as db:
                new_id = await db.scalar(
                    insert(HandoffRow)
                    .values(
                        conversation_id=conversation_id, state=state.value, reason=reason,
                        team=team, intent=intent, confidence=confidence, created_at=at or utcnow(),
                        callback=callback,
                    )
                    .returning(HandoffRow.id)
                )  # fmt: skip
        except IntegrityError:
            return None
        return int(new_id) if new_id is not None else None

    async def change(
        self,
        handoff_id: int,
        expected: Sequence[State],
        expected_agent: int | None = None,
        **values: Any,
    ) -> bool:
        """Apply ``values`` if the handoff is in one of ``expected`` states (and, when given,
        held by ``expected_agent``); False when someone else changed it first."""
        query = update(HandoffRow).where(
            HandoffRow.id == handoff_id, HandoffRow.state.in_([s.value for s in expected])
        )
        if expected_agent is not None:
            query = query.where(HandoffRow.agent_id == expected_agent)
        async with self._engine.begin() as db:
            result = await db.execute(query.values(**values))
        return bool(result.rowcount)

    # --- notes and callbacks ------------------------------------------------------------------

    async def add_note(self, handoff_id: int, agent_id: int, text: str) -> int:
        async with self._engine.begin() as db:
            new_id = await db.scalar(
                insert(HandoffNote)
                .values(handoff_id=handoff_id, agent_id=agent_id, text=text, created_at=utcnow())
                .returning(HandoffNote.id)
            )
        return int(new_id or 0)

    async def notes(self, handoff_id: int) -> list[Note]:
        async with self._engine.connect() as db:
            rows = (
                await db.execute(
                    select(
                        HandoffNote.id, Agent.display_name, HandoffNote.text, HandoffNote.created_at
                    )
                    .join(Agent, Agent.id == HandoffNote.agent_id)
                    .where(HandoffNote.handoff_id == handoff_id)
                    .order_by(HandoffNote.id)
                )
            ).all()
        return [Note(i, name, text, aware(at) or utcnow()) for i, name, text, at in rows]

    async def add_callback(self, handoff_id: int, name: str, contact: str, topic: str) -> int:
        async with self._engine.begin() as db:
            new_id = await db.scalar(
                insert(CallbackRow)
                .values(
                    handoff_id=handoff_id, name=name, contact=contact, topic=topic,
                    status="open", created_at=utcnow(),
                )
                .returning(CallbackRow.id)
            )  # fmt: skip
        return int(new_id or 0)

    async def callbacks(self, status: str | None = "open") -> list[CallbackRequest]:
        query = (
            select(*CallbackRow.__table__.c, Conversation.channel)
            .join(HandoffRow, HandoffRow.id == CallbackRow.handoff_id)
            .join(Conversation, Conversation.id == HandoffRow.conversation_id)
            .order_by(CallbackRow.id)
        )
        if status is not None:
            query = query.where(CallbackRow.status == status)
        async with self._engine.connect() as db:
            rows = (await db.execute(query)).all()
        return [
            CallbackRequest(
                c.id,
                c.handoff_id,
                c.channel,
                c.name,
                c.contact,
                c.topic,
                c.status,
                aware(c.created_at) or utcnow(),
            )
            for c in rows
        ]

    async def finish_callback(self, callback_id: int, agent_id: int) -> bool:
        async with self._engine.begin() as db:
            result = await db.execute(
                update(CallbackRow)
                .where(CallbackRow.id == callback_id, CallbackRow.status == "open")
                .values(status="done", done_at=utcnow(), done_by=agent_id)
            )
        return bool(result.rowcount)

    # --- teams and settings -------------------------------------------------------------------

    async def teams(self) -> dict[str, str]:
        async with self._engine.connect() as db:
            rows = (await db.execute(select(Team.name, Team.label).order_by(Team.name))).all()
        return {name: label for name, label in rows}

    async def add_teams(self, teams: dict[str, str]) -> None:
        """Add the teams not there yet (labels of existing ones are kept)."""
        existing = await self.teams()
        missing = [{"name": n, "label": label} for n, label in teams.items() if n not in existing]
        if missing:
            async with self._engine.begin() as db:
                await db.execute(insert(Team), missing)

    async def setting(self, key: str) -> Any:
        async with self._engine.connect() as db:
            return await db.scalar(select(DeskSetting.value).where(DeskSetting.key == key))

    async def set_setting(self, key: str, value: Any) -> None:
        async with self._engine.begin() as db:
            changed = await db.execute(
                update(DeskSetting)
                .where(DeskSetting.key == key)
                .values(value=value, updated_at=utcnow())
            )
            if not changed.rowcount:
                await db.execute(
                    insert(DeskSetting).values(key=key, value=value, updated_at=utcnow())
                )
