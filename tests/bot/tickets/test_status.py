"""Status questions: a code of this conversation gets its status, deadline and last reply; an
unknown code and another conversation's code get the same answer (nothing of the other
citizen's ticket); a malformed code gets the format; "¿cómo va mi queja?" (the engine's article
``estado_solicitud``) lists the conversation's open tickets, or says how to open one."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.flows import FlowStore
from bot.conversation.services import Turn
from bot.tickets.calendar import BusinessCalendar
from bot.tickets.catalog import ANSWERED, CLOSED, IN_PROGRESS, RECEIVED, Catalog
from bot.tickets.form import TicketForm
from bot.tickets.notices import TicketNotices
from bot.tickets.service import TicketService
from bot.tickets.status import STATUS_ARTICLE, TicketStatus
from bot.tickets.store import REPLY, NewTicket, Ticket, TicketStore
from tests.bot.tickets.conftest import NOW, Clock, agent, conversation


@pytest.fixture()
def service(
    store: TicketStore, flows: FlowStore, catalog: Catalog, calendar: BusinessCalendar, clock: Clock
) -> TicketService:
    notices = TicketNotices(store, catalog, clock=clock)
    form = TicketForm(flows, store, catalog, calendar, notices, None, 2000, 3, clock)
    return TicketService(flows, form, TicketStatus(store, catalog, clock))


async def register(store: TicketStore, conversation_id: int, kind: str, days: int) -> Ticket:
    new = NewTicket(conversation_id, "webchat", kind, "La atención fue muy lenta.", None, None,
                    "987654321")  # fmt: skip
    ticket, _ = await store.create(new, NOW, NOW + dt.timedelta(days=days))
    return ticket


def turn(conversation_id: int, text: str) -> Turn:
    return Turn(conversation_id, 1, "webchat", "citizen", text)


async def answer(service: TicketService, conversation_id: int, text: str) -> str:
    replies = await service.take(turn(conversation_id, text))
    assert replies is not None
    return "\n".join(str(r["text"]) for r in replies)


async def test_the_status_of_an_own_ticket(
    engine: AsyncEngine, store: TicketStore, service: TicketService, clock: Clock
) -> None:
    ana = await conversation(engine, "webchat", "ana")
    ticket = await register(store, ana, "queja", 10)
    text = await answer(service, ana, f"estado {ticket.code.lower()}")
    assert f"Tu solicitud {ticket.code} (Queja) está: Recibida." in text
    assert "Registrada el miércoles 2 de diciembre de 2026" in text
    assert "Plazo de respuesta: hasta el sábado 12 de diciembre de 2026" in text
    clock.now = NOW + dt.timedelta(days=11)
    assert "El plazo de respuesta venció el sábado 12 de diciembre de 2026" in await answer(
        service, ana, ticket.code
    )
    staff = await agent(engine, "rosa")
    replied = NOW + dt.timedelta(days=12)
    await store.change_status(ticket.id, RECEIVED, ANSWERED, replied, staff, REPLY,
                              "Hablamos con la oficina; le pedimos disculpas.")  # fmt: skip
    text = await answer(service, ana, ticket.code)
    assert "está: Respondida" in text and "Respondida el lunes 14 de diciembre de 2026" in text
    assert "Última respuesta (14 de diciembre): «Hablamos con la oficina" in text


async def test_another_citizens_code_is_answered_like_an_unknown_one(
    engine: AsyncEngine, store: TicketStore, service: TicketService
) -> None:
    ana = await conversation(engine, "webchat", "ana")
    beto = await conversation(engine, "whatsapp", "51987654321")
    anas = await register(store, ana, "queja", 10)
    other = await answer(service, beto, f"estado {anas.code}")
    unknown = await answer(service, beto, "estado SR-2026-999999")
    assert other == unknown.replace("SR-2026-999999", anas.code)
    assert "No encontramos una solicitud con el código" in other
    assert "Recibida" not in other and "Queja" not in other


@pytest.mark.parametrize("written", ["SR-2026-12", "SR-2026-0001234", "sr-26"])
async def test_a_malformed_code_gets_the_format(
    engine: AsyncEngine, service: TicketService, written: str
) -> None:
    ana = await conversation(engine, "webchat", "ana")
    text = await answer(service, ana, f"¿cómo va {written}?")
    assert f"«{written}»" in text and "SR-2026-000123" in text


async def test_how_is_my_complaint_lists_the_open_tickets(
    engine: AsyncEngine, store: TicketStore, service: TicketService
) -> None:
    ana = await conversation(engine, "webchat", "ana")
    [none] = await service.follow(turn(ana, "¿cómo va mi queja?"), STATUS_ARTICLE)
    assert "No tienes solicitudes registradas" in none["text"]
    assert none["buttons"] == [{"title": "Nueva solicitud", "payload": "/solicitud_nueva"}]
    first = await register(store, ana, "queja", 10)
    second = await register(store, ana, "informacion_publica", 5)
    closed = await register(store, ana, "sugerencia", 5)
    staff = await agent(engine, "rosa")
    await store.change_status(second.id, RECEIVED, IN_PROGRESS, NOW, staff)
    await store.change_status(closed.id, RECEIVED, CLOSED, NOW, staff)
    [listed] = await service.follow(turn(ana, "¿cómo va mi queja?"), STATUS_ARTICLE)
    lines = listed["text"].splitlines()
    assert lines[0] == "Tus solicitudes en esta conversación:"
    assert lines[1].startswith(f"• {second.code} (Información pública): En proceso.")
    assert lines[2].startswith(f"• {first.code} (Queja): Recibida. Plazo de respuesta")
    assert closed.code not in listed["text"]
    assert await service.follow(turn(ana, "adiós"), "despedida") == []
