"""The tickets' store on both databases: codes numbered per year (Lima time) and unique under
concurrent registrations, conditional status changes and assignments (one of two wins), the
queues' counts with overdue tickets, a conversation's tickets only by its own codes."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.tickets.catalog import ANSWERED, CLOSED, IN_PROGRESS, RECEIVED
from bot.tickets.store import NOTE, REPLY, STATUS, NewTicket, TicketStore
from tests.bot.tickets.conftest import NOW, agent, conversation

DUE = NOW + dt.timedelta(days=14)


def new(conversation_id: int, kind: str = "queja") -> NewTicket:
    return NewTicket(conversation_id, "webchat", kind, "La atención fue muy lenta.", None,
                     "ana@correo.pe", None)  # fmt: skip


async def test_codes_are_numbered_per_year_in_lima_time(
    engine: AsyncEngine, store: TicketStore
) -> None:
    cid = await conversation(engine, "webchat", "ana")
    first, entry = await store.create(new(cid), NOW, DUE)
    second, _ = await store.create(new(cid), NOW, DUE)
    assert (first.code, second.code) == ("SR-2026-000001", "SR-2026-000002")
    assert first.status == RECEIVED and first.sender_id == "ana" and first.due_at == DUE
    [registered] = await store.entries(first.id)
    assert (registered.id, registered.kind, registered.status) == (entry, STATUS, RECEIVED)
    # 23:30 on 31 December in Lima is already 2027 in UTC: still a 2026 ticket.
    new_year_eve = dt.datetime(2027, 1, 1, 4, 30, tzinfo=dt.UTC)
    assert (await store.create(new(cid), new_year_eve, DUE))[0].code == "SR-2026-000003"
    new_year = dt.datetime(2027, 1, 1, 5, 30, tzinfo=dt.UTC)
    assert (await store.create(new(cid), new_year, DUE))[0].code == "SR-2027-000001"


async def test_concurrent_registrations_get_distinct_codes(
    engine: AsyncEngine, store: TicketStore
) -> None:
    ids = [await conversation(engine, "webchat", f"c{n}") for n in range(20)]
    created = await asyncio.gather(*(store.create(new(cid), NOW, DUE) for cid in ids))
    codes = sorted(ticket.code for ticket, _ in created)
    assert codes == [f"SR-2026-{n:06d}" for n in range(1, 21)]


async def test_a_code_is_found_only_in_its_own_conversation(
    engine: AsyncEngine, store: TicketStore
) -> None:
    ana = await conversation(engine, "webchat", "ana")
    beto = await conversation(engine, "whatsapp", "51987654321")
    ticket, _ = await store.create(new(ana), NOW, DUE)
    assert (await store.by_code(ticket.code, ana)) == ticket
    assert await store.by_code(ticket.code, beto) is None
    assert await store.by_code("SR-2026-999999", ana) is None


async def test_status_changes_and_assignments_are_conditional(
    engine: AsyncEngine, store: TicketStore
) -> None:
    cid = await conversation(engine, "webchat", "ana")
    ticket, _ = await store.create(new(cid), NOW, DUE)
    ana, beto, jefa = [await agent(engine, name) for name in ("ana", "beto", "jefa")]
    later = NOW + dt.timedelta(hours=1)
    # Two agents move it at once from "recibido": one wins.
    outcomes = await asyncio.gather(
        store.change_status(ticket.id, RECEIVED, IN_PROGRESS, later, ana),
        store.change_status(ticket.id, RECEIVED, CLOSED, later, beto),
    )
    assert sorted(o is None for o in outcomes) == [False, True]
    moved = await store.get(ticket.id)
    assert moved is not None and moved.status in (IN_PROGRESS, CLOSED)
    # Assigned only while still held by whom the caller saw.
    assert await store.assign(ticket.id, ana, None, later, ana)
    assert not await store.assign(ticket.id, beto, None, later, beto)
    assert await store.assign(ticket.id, beto, ana, later, jefa)
    held = await store.get(ticket.id)
    assert held is not None and (held.assigned_to, held.assigned_name) == (beto, "Beto")


async def test_an_answering_reply_is_one_entry(engine: AsyncEngine, store: TicketStore) -> None:
    cid = await conversation(engine, "webchat", "ana")
    ticket, _ = await store.create(new(cid), NOW, DUE)
    ana = await agent(engine, "ana")
    at = NOW + dt.timedelta(days=1)
    entry = await store.change_status(ticket.id, RECEIVED, ANSWERED, at, ana, REPLY, "Listo.")
    assert entry is not None
    await store.record(ticket.id, NOTE, at, ana, "llamé al ciudadano")
    answered = await store.get(ticket.id)
    assert answered is not None and answered.answered_at == at and answered.status == ANSWERED
    reply = await store.last_reply(ticket.id)
    assert reply is not None and (reply.id, reply.body, reply.status) == (entry, "Listo.", ANSWERED)
    await store.set_notified(entry, "chat+email")
    assert [e.notified for e in await store.entries(ticket.id)][1] == "chat+email"


async def test_queues_count_overdue_tickets(engine: AsyncEngine, store: TicketStore) -> None:
    cid = await conversation(engine, "webchat", "ana")
    late, _ = await store.create(new(cid), NOW, NOW + dt.timedelta(days=1))
    await store.create(new(cid), NOW, NOW + dt.timedelta(days=30))
    info, _ = await store.create(new(cid, "informacion_publica"), NOW, NOW + dt.timedelta(days=1))
    ana = await agent(engine, "ana")
    await store.change_status(info.id, RECEIVED, ANSWERED, NOW, ana, REPLY, "Adjunto.")
    later = NOW + dt.timedelta(days=2)
    counts = await store.counts(later)
    assert counts == {
        "queja": {"overdue": 1, RECEIVED: 2},
        "informacion_publica": {"overdue": 0, ANSWERED: 1},
    }
    overdue = await store.listing(later, overdue=True)
    assert [t.id for t in overdue] == [late.id] and late.overdue(later)
    assert [t.kind for t in await store.listing(later, kind="informacion_publica")] == [
        "informacion_publica"
    ]
    assert await store.count_since(cid, NOW) == 3
    assert await store.count_since(cid, later) == 0
