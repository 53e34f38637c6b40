"""News of a ticket reach the citizen: pushed to the web chat, queued in a platform's outbox
within its window (WhatsApp's template outside it), e-mailed through SMTP when they gave an
address; how is recorded on the entry, and an SMTP failure is recorded, never raised."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ops.processes import free_port
from bot.storage.tables import Message
from bot.tickets.catalog import Catalog
from bot.tickets.mail import Mailer, SmtpServer
from bot.tickets.notices import TicketNotices
from bot.tickets.store import NewTicket, Ticket, TicketStore
from tests.bot.tickets.conftest import NOW, Clock, Outreach, conversation
from tests.fakes.smtp import FakeSmtpServer


async def ticket_on(
    engine: AsyncEngine, store: TicketStore, channel: str, email: str | None = None
) -> tuple[Ticket, int]:
    cid = await conversation(engine, channel, f"{channel}-1")
    new = NewTicket(cid, channel, "queja", "Me atendieron mal.", None, email, None)
    return await store.create(new, NOW, NOW + dt.timedelta(days=10))


async def wrote(engine: AsyncEngine, conversation_id: int, ago: dt.timedelta) -> None:
    async with engine.begin() as db:
        await db.execute(insert(Message).values(
            conversation_id=conversation_id, direction="in", text="hola", status="answered",
            created_at=NOW - ago,
        ))  # fmt: skip


async def notified(store: TicketStore, ticket: Ticket, entry: int) -> str | None:
    return next(e.notified for e in await store.entries(ticket.id) if e.id == entry)


async def test_the_web_chat_gets_it_pushed(
    engine: AsyncEngine, store: TicketStore, catalog: Catalog, clock: Clock, outreach: Outreach
) -> None:
    notices = TicketNotices(store, catalog, clock=clock)
    ticket, entry = await ticket_on(engine, store, "webchat")
    assert await notices.tell(ticket, entry, "Novedad", agent=False) == "failed"  # unconnected
    notices.connect(outreach)
    assert await notices.tell(ticket, entry, "Novedad", agent=True) == "chat"
    assert outreach.sent == [{
        "conversation_id": ticket.conversation_id, "channel": "webchat",
        "sender_id": "webchat-1", "messages": [{"text": "Novedad"}], "agent": True,
    }]  # fmt: skip
    assert await notified(store, ticket, entry) == "chat"
    outreach.on = False
    assert await notices.tell(ticket, entry, "Otra", agent=False) == "failed"


@pytest.mark.parametrize(
    ("channel", "ago", "agent", "how"),
    [
        ("whatsapp", dt.timedelta(hours=2), False, "chat"),
        ("whatsapp", dt.timedelta(hours=30), False, "template"),
        ("whatsapp", None, True, "template"),
        ("messenger", dt.timedelta(days=3), True, "chat"),  # a person may answer for 7 days
        ("messenger", dt.timedelta(days=3), False, "outside_window"),
        ("messenger", dt.timedelta(days=8), True, "outside_window"),
    ],
)
async def test_platforms_within_and_outside_their_window(
    engine: AsyncEngine,
    store: TicketStore,
    catalog: Catalog,
    clock: Clock,
    outreach: Outreach,
    channel: str,
    ago: dt.timedelta | None,
    agent: bool,
    how: str,
) -> None:
    notices = TicketNotices(store, catalog, clock=clock)
    notices.connect(outreach, frozenset({"whatsapp"}), {"messenger": dt.timedelta(days=7)})
    ticket, entry = await ticket_on(engine, store, channel)
    if ago is not None:
        await wrote(engine, ticket.conversation_id, ago)
    assert await notices.tell(ticket, entry, "Respuesta", agent) == how
    assert outreach.sent[-1]["channel"] == channel  # queued all the same: the outbox decides
    assert await notified(store, ticket, entry) == how


def mailer(port: int) -> Mailer:
    return Mailer(SmtpServer("127.0.0.1", port, "Asistente SUNAT <no-responder@sunat.test>",
                             starttls=False, timeout=5))  # fmt: skip


async def test_an_email_follows_when_the_citizen_gave_one(
    engine: AsyncEngine,
    store: TicketStore,
    catalog: Catalog,
    clock: Clock,
    outreach: Outreach,
    smtp: FakeSmtpServer,
) -> None:
    notices = TicketNotices(store, catalog, mailer(smtp.port), clock)
    notices.connect(outreach)
    ticket, entry = await ticket_on(engine, store, "webchat", "ana@correo.pe")
    assert await notices.tell(ticket, entry, "Tu solicitud está en proceso.", False) == "chat"
    await notices.drain()
    [mail] = smtp.messages
    assert mail.recipients == ["ana@correo.pe"] and mail.sender == "no-responder@sunat.test"
    assert mail.subject == f"SUNAT – Tu solicitud {ticket.code}"
    assert mail.body.startswith("Tu solicitud está en proceso.")
    assert f"escribe «estado {ticket.code}»" in mail.body
    assert await notified(store, ticket, entry) == "chat+email"
    # Without an address, no e-mail.
    other, other_entry = await ticket_on(engine, store, "whatsapp")
    await notices.tell(other, other_entry, "Novedad", False)
    await notices.drain()
    assert len(smtp.messages) == 1


@pytest.mark.parametrize("failure", ["refused", "down"])
async def test_an_smtp_failure_is_recorded_never_raised(
    engine: AsyncEngine,
    store: TicketStore,
    catalog: Catalog,
    clock: Clock,
    outreach: Outreach,
    smtp: FakeSmtpServer,
    failure: str,
) -> None:
    port = smtp.port
    if failure == "refused":
        smtp.fail_next(1, 550, "RCPT")
    else:
        port = free_port()  # nothing listens there
    notices = TicketNotices(store, catalog, mailer(port), clock)
    notices.connect(outreach)
    ticket, entry = await ticket_on(engine, store, "webchat", "ana@correo.pe")
    assert await notices.tell(ticket, entry, "Novedad", False) == "chat"
    await notices.drain()
    assert smtp.messages == []
    assert await notified(store, ticket, entry) == "chat+email_failed"
