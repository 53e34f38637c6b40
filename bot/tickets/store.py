"""Where tickets live: the tickets, what happened to each (entries: status changes, replies,
notes, assignments) and the per-year counter of their codes. SQLAlchemy Core on the gateway's
database (SQLite or PostgreSQL).

Concurrency, on both databases: a code's number comes from one upsert of the year's counter
row in the transaction that inserts the ticket (the row is locked until it commits), so two
tickets never get the same number; a status change or an assignment is one conditional update
(``... WHERE status = 'recibido'``), so of two agents acting at once only one wins.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.tables import Agent, Conversation, Message, TicketCounter, TicketEntry, TicketRow
from bot.storage.time import aware
from bot.tickets.calendar import lima_date
from bot.tickets.catalog import ANSWERED, CLOSED, RECEIVED
from bot.tickets.codes import code_of

#: Entries' kinds.
STATUS, REPLY, NOTE, ASSIGN = "status", "reply", "note", "assign"
#: Statuses in which a ticket's deadline still runs.
OPEN = ("recibido", "en_proceso")


@dataclass(frozen=True)
class NewTicket:
    conversation_id: int
    channel: str
    kind: str
    description: str
    document: str | None
    contact_email: str | None
    contact_phone: str | None


@dataclass(frozen=True)
class Ticket:
    id: int
    code: str
    kind: str
    status: str
    description: str
    document: str | None
    contact_email: str | None
    contact_phone: str | None
    conversation_id: int
    channel: str
    sender_id: str
    assigned_to: int | None
    assigned_name: str | None
    created_at: dt.datetime
    due_at: dt.datetime
    updated_at: dt.datetime
    answered_at: dt.datetime | None
    closed_at: dt.datetime | None

    def overdue(self, now: dt.datetime) -> bool:
        """Past its deadline without an answer."""
        return self.status in OPEN and now > self.due_at


@dataclass(frozen=True)
class Entry:
    id: int
    kind: str
    status: str | None
    body: str | None
    agent_id: int | None
    agent_name: str | None
    created_at: dt.datetime
    notified: str | None


def _ticket(row: Any) -> Ticket:
    return Ticket(
        row.id, row.code, row.kind, row.status, row.description, row.document,
        row.contact_email, row.contact_phone, row.conversation_id, row.channel, row.sender_id,
        row.assigned_to, row.assigned_name, aware(row.created_at), aware(row.due_at),
        aware(row.updated_at), aware(row.answered_at), aware(row.closed_at),
    )  # fmt: skip


def _tickets() -> Any:
    """Tickets with their conversation's sender and the assigned agent's name."""
    return (
        select(
            *TicketRow.__table__.c,
            Conversation.sender_id,
            Agent.display_name.label("assigned_name"),
        )
        .join(Conversation, Conversation.id == TicketRow.conversation_id)
        .outerjoin(Agent, Agent.id == TicketRow.assigned_to)
    )


class TicketStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def _next_number(self, db: AsyncConnection, year: int) -> int:
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        bump = (
            dialect.insert(TicketCounter)
            .values(year=year, last=1)
            .on_conflict_do_update(
                index_elements=[TicketCounter.year], set_={"last": TicketCounter.last + 1}
            )
            .returning(TicketCounter.last)
        )
        return int((await db.execute(bump)).scalar_one())

    async def create(
        self, new: NewTicket, now: dt.datetime, due_at: dt.datetime
    ) -> tuple[Ticket, int]:
        """Register a ticket (status ``recibido``) under a new code; the ticket and its first
        entry's id."""
        async with self._engine.begin() as db:
            number = await self._next_number(db, lima_date(now).year)
            code = code_of(lima_date(now).year, number)
            ticket_id = (
                await db.execute(
                    insert(TicketRow)
                    .values(
                        code=code,
                        kind=new.kind,
                        status=RECEIVED,
                        description=new.description,
                        document=new.document,
                        contact_email=new.contact_email,
                        contact_phone=new.contact_phone,
                        conversation_id=new.conversation_id,
                        channel=new.channel,
                        created_at=now,
                        due_at=due_at,
                        updated_at=now,
                    )
                    .returning(TicketRow.id)
                )
            ).scalar_one()
            entry_id = await _entry(db, ticket_id, STATUS, now, None, None, RECEIVED)
        found = await self.get(ticket_id)
        assert found is not None
        return found, entry_id

    async def get(self, ticket_id: int) -> Ticket | None:
        async with self._engine.connect() as db:
            row = (await db.execute(_tickets().where(TicketRow.id == ticket_id))).first()
        return _ticket(row) if row is not None else None

    async def by_code(self, code: str, conversation_id: int) -> Ticket | None:
        """The ticket of that code registered in that conversation (None for any other)."""
        query = _tickets().where(
            TicketRow.code == code, TicketRow.conversation_id == conversation_id
        )
        async with self._engine.connect() as db:
            row = (await db.execute(query)).first()
        return _ticket(row) if row is not None else None

    async def of_conversation(self, conversation_id: int, limit: int = 10) -> list[Ticket]:
        """The conversation's tickets, newest first."""
        query = (
            _tickets()
            .where(TicketRow.conversation_id == conversation_id)
            .order_by(TicketRow.id.desc())
            .limit(limit)
        )
        async with self._engine.connect() as db:
            return [_ticket(r) for r in (await db.execute(query)).all()]

    async def count_since(self, conversation_id: int, since: dt.datetime) -> int:
        query = select(func.count()).where(
            TicketRow.conversation_id == conversation_id, TicketRow.created_at >= since
        )
        async with self._engine.connect() as db:
            return int((await db.execute(query)).scalar_one())

    async def listing(
        self,
        now: dt.datetime,
        kind: str | None = None,
        statuses: list[str] | None = None,
        overdue: bool | None = None,
        assigned_to: int | None = None,
        unassigned: bool = False,
        code: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Ticket]:
        """Tickets for the console, the nearest deadline first."""
        query = _tickets()
        if kind is not None:
            query = query.where(TicketRow.kind == kind)
        if statuses:
            query = query.where(TicketRow.status.in_(statuses))
        if overdue is not None:
            late = and_(TicketRow.status.in_(OPEN), TicketRow.due_at < now)
            query = query.where(late if overdue else ~late)
        if assigned_to is not None:
            query = query.where(TicketRow.assigned_to == assigned_to)
        if unassigned:
            query = query.where(TicketRow.assigned_to.is_(None))
        if code is not None:
            query = query.where(TicketRow.code == code)
        query = query.order_by(TicketRow.due_at, TicketRow.id).limit(limit).offset(offset)
        async with self._engine.connect() as db:
            return [_ticket(r) for r in (await db.execute(query)).all()]

    async def counts(self, now: dt.datetime) -> dict[str, dict[str, int]]:
        """Per kind: how many tickets in each status, and how many are overdue."""
        late = and_(TicketRow.status.in_(OPEN), TicketRow.due_at < now)
        query = select(
            TicketRow.kind,
            TicketRow.status,
            func.count(),
            func.sum(case((late, 1), else_=0)),
        ).group_by(TicketRow.kind, TicketRow.status)
        counts: dict[str, dict[str, int]] = {}
        async with self._engine.connect() as db:
            for kind, status, count, overdue in (await db.execute(query)).all():
                per_kind = counts.setdefault(kind, {"overdue": 0})
                per_kind[status] = int(count)
                per_kind["overdue"] += int(overdue or 0)
        return counts

    async def entries(self, ticket_id: int) -> list[Entry]:
        query = (
            select(*TicketEntry.__table__.c, Agent.display_name.label("agent_name"))
            .outerjoin(Agent, Agent.id == TicketEntry.agent_id)
            .where(TicketEntry.ticket_id == ticket_id)
            .order_by(TicketEntry.id)
        )
        async with self._engine.connect() as db:
            rows = (await db.execute(query)).all()
        return [
            Entry(
                r.id,
                r.kind,
                r.status,
                r.body,
                r.agent_id,
                r.agent_name,
                aware(r.created_at),
                r.notified,
            )
            for r in rows
        ]

    async def last_reply(self, ticket_id: int) -> Entry | None:
        replies = [e for e in await self.entries(ticket_id) if e.kind == REPLY]
        return replies[-1] if replies else None

    async def record(
        self,
        ticket_id: int,
        kind: str,
        now: dt.datetime,
        agent_id: int | None,
        body: str | None = None,
        status: str | None = None,
    ) -> int:
        """An entry (a note, a reply without a status change, an assignment); its id."""
        async with self._engine.begin() as db:
            entry_id = await _entry(db, ticket_id, kind, now, agent_id, body, status)
            await db.execute(
                update(TicketRow).where(TicketRow.id == ticket_id).values(updated_at=now)
            )
        return entry_id

    async def change_status(
        self,
        ticket_id: int,
        from_status: str,
        to_status: str,
        now: dt.datetime,
        agent_id: int,
        kind: str = STATUS,
        body: str | None = None,
    ) -> int | None:
        """Move the ticket from ``from_status`` to ``to_status`` and record it (a reply that
        answers the ticket is one entry of kind ``reply``); None when its status was no longer
        ``from_status`` (someone else changed it first)."""
        values: dict[str, Any] = {"status": to_status, "updated_at": now}
        if to_status == ANSWERED:
            values["answered_at"] = now
        if to_status == CLOSED:
            values["closed_at"] = now
        async with self._engine.begin() as db:
            changed = await db.execute(
                update(TicketRow)
                .where(TicketRow.id == ticket_id, TicketRow.status == from_status)
                .values(**values)
            )
            if changed.rowcount != 1:
                return None
            return await _entry(db, ticket_id, kind, now, agent_id, body, to_status)

    async def assign(
        self,
        ticket_id: int,
        agent_id: int | None,
        expected: int | None,
        now: dt.datetime,
        by: int,
    ) -> bool:
        """Give the ticket to ``agent_id`` (None: to nobody) if it is still ``expected``'s."""
        held = (
            TicketRow.assigned_to.is_(None)
            if expected is None
            else TicketRow.assigned_to == expected
        )
        async with self._engine.begin() as db:
            changed = await db.execute(
                update(TicketRow)
                .where(TicketRow.id == ticket_id, held)
                .values(assigned_to=agent_id, updated_at=now)
            )
            if changed.rowcount != 1:
                return False
            body = str(agent_id) if agent_id is not None else None
            await _entry(db, ticket_id, ASSIGN, now, by, body, None)
        return True

    async def set_notified(self, entry_id: int, notified: str) -> None:
        async with self._engine.begin() as db:
            await db.execute(
                update(TicketEntry).where(TicketEntry.id == entry_id).values(notified=notified[:32])
            )

    async def last_inbound_at(self, conversation_id: int) -> dt.datetime | None:
        """When the citizen last wrote in the conversation (the platforms' 24-hour window)."""
        query = select(func.max(Message.created_at)).where(
            Message.conversation_id == conversation_id, Message.direction == "in"
        )
        async with self._engine.connect() as db:
            return aware((await db.execute(query)).scalar_one_or_none())


async def _entry(
    db: AsyncConnection,
    ticket_id: int,
    kind: str,
    now: dt.datetime,
    agent_id: int | None,
    body: str | None,
    status: str | None,
) -> int:
    result = await db.execute(
        insert(TicketEntry)
        .values(
            ticket_id=ticket_id,
            kind=kind,
            status=status,
            body=body,
            agent_id=agent_id,
            created_at=now,
        )
        .returning(TicketEntry.id)
    )
    return int(result.scalar_one())
