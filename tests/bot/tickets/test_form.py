"""The ticket form in a conversation, through the service the conversation asks first: every
step, bad answers at each (a Spanish answer, nothing stored), «Corregir», «cancelar» at every
step, the web chat's required contact, the daily limit, and leaving the form for a button."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.accounts.audit import AuditLog
from bot.conversation.flows import FlowStore
from bot.conversation.services import Turn
from bot.storage.tables import TicketRow
from bot.tickets.calendar import BusinessCalendar
from bot.tickets.catalog import Catalog
from bot.tickets.form import SERVICE, TicketForm
from bot.tickets.notices import TicketNotices
from bot.tickets.service import TicketService
from bot.tickets.status import TicketStatus
from bot.tickets.store import TicketStore
from tests.bot.tickets.conftest import Clock, Outreach, conversation

LONG = "x" * 2001


class Chat:
    """One citizen's conversation with the service."""

    def __init__(self, service: TicketService, conversation_id: int, channel: str) -> None:
        self.service = service
        self.conversation_id = conversation_id
        self.channel = channel
        self.count = 0

    async def say(self, text: str) -> list[dict[str, Any]] | None:
        self.count += 1
        turn = Turn(self.conversation_id, self.count, self.channel, "citizen", text)
        return await self.service.take(turn)

    async def text(self, text: str) -> str:
        replies = await self.say(text)
        assert replies is not None, f"{text!r} was not taken"
        return "\n".join(str(r["text"]) for r in replies)

    async def buttons(self, text: str) -> list[str]:
        replies = await self.say(text)
        assert replies is not None
        return [b["title"] for r in replies for b in r.get("buttons", [])]


@pytest.fixture()
def parts(
    engine: AsyncEngine,
    store: TicketStore,
    flows: FlowStore,
    catalog: Catalog,
    calendar: BusinessCalendar,
    clock: Clock,
    outreach: Outreach,
) -> tuple[TicketService, AuditLog]:
    notices = TicketNotices(store, catalog, clock=clock)
    notices.connect(outreach)
    audit = AuditLog(engine)
    form = TicketForm(flows, store, catalog, calendar, notices, audit, 2000, 2, clock)
    return TicketService(flows, form, TicketStatus(store, catalog, clock)), audit


async def chat(engine: AsyncEngine, parts: tuple[TicketService, AuditLog], channel: str) -> Chat:
    return Chat(parts[0], await conversation(engine, channel, f"{channel}-citizen"), channel)


async def tickets(engine: AsyncEngine) -> int:
    async with engine.connect() as db:
        return int((await db.execute(select(func.count()).select_from(TicketRow))).scalar_one())


async def test_a_complaint_on_the_web_chat(
    engine: AsyncEngine, parts: tuple[TicketService, AuditLog], store: TicketStore
) -> None:
    web = await chat(engine, parts, "webchat")
    assert await web.buttons("/solicitud_nueva") == [
        "Queja", "Reclamo", "Sugerencia", "Información pública",
    ]  # fmt: skip
    assert "INDECOPI" in await web.text("/solicitud_nueva")  # the business's book is apart
    assert "qué pasó" in await web.text("Queja")
    assert await web.buttons("Me atendieron muy mal en la oficina de Miraflores.") == ["Omitir"]
    assert "correo electrónico o celular" in await web.text("20100070970")
    summary = await web.text("ana@correo.pe")
    assert "• Tipo: Queja" in summary and "• Documento: 20100070970" in summary
    assert "• Contacto: ana@correo.pe" in summary
    done = await web.text("Confirmar")
    assert "SR-2026-000001" in done and "martes 19 de enero de 2027" in done
    assert "30 días hábiles, DS 007-2020-PCM" in done
    [ticket] = await store.of_conversation(web.conversation_id)
    assert (ticket.kind, ticket.document, ticket.contact_email, ticket.contact_phone) == (
        "queja", "20100070970", "ana@correo.pe", None,
    )  # fmt: skip
    assert ticket.description == "Me atendieron muy mal en la oficina de Miraflores."
    assert await web.say("hola") is None  # the form is over: the engine answers again
    [entry] = await store.entries(ticket.id)
    assert entry.notified == "chat"
    [audited] = await parts[1].entries()
    assert audited["action"] == "ticket_registered"
    assert audited["detail"] == {"ticket": ticket.code, "kind": "queja", "channel": "webchat"}


async def test_an_information_request_on_whatsapp_without_document_nor_contact(
    engine: AsyncEngine, parts: tuple[TicketService, AuditLog], store: TicketStore
) -> None:
    wa = await chat(engine, parts, "whatsapp")
    assert "qué información" in await wa.text('/solicitud_nueva{"tipo": "informacion_publica"}')
    await wa.text("El presupuesto ejecutado por SUNAT en 2025, por mes.")
    assert await wa.buttons("omitir") == ["Omitir"]  # contact may be skipped here
    assert "• Contacto: no indicado" in await wa.text("Omitir")
    done = await wa.text("sí")
    assert "10 días hábiles, Ley 27806" in done and "viernes 18 de diciembre de 2026" in done
    [ticket] = await store.of_conversation(wa.conversation_id)
    assert (ticket.document, ticket.contact_email, ticket.contact_phone) == (None, None, None)


@pytest.mark.parametrize(
    ("answers", "refusal"),
    [
        (["Denuncia"], "No reconocí el tipo"),
        (["Queja", LONG], "tiene 2001 caracteres y el máximo es 2000"),
        (["Queja", "mal"], "al menos 10 caracteres"),
        (["Queja", "Me trataron muy mal.", "1234567"], "ese número tiene 7"),
        (["Queja", "Me trataron muy mal.", "20100070971"], "algún dígito está cambiado"),
        (["Queja", "Me trataron muy mal.", "mi dni"], "Escribe tu DNI (8 dígitos)"),
        (["Queja", "Me trataron muy mal.", "Omitir", "ana@"], "No reconozco ese correo"),
        (["Queja", "Me trataron muy mal.", "Omitir", "Omitir"], "necesitamos un correo"),
        (["Queja", "Me trataron muy mal.", "Omitir", "987654321", "tal vez"], "No te entendí"),
    ],
)
async def test_bad_answers_are_asked_again_and_nothing_is_stored(
    engine: AsyncEngine,
    parts: tuple[TicketService, AuditLog],
    flows: FlowStore,
    answers: list[str],
    refusal: str,
) -> None:
    web = await chat(engine, parts, "webchat")
    await web.text("/solicitud_nueva")
    for answer in answers[:-1]:
        await web.text(answer)
    before = await flows.get(web.conversation_id, SERVICE)
    assert refusal in await web.text(answers[-1])
    after = await flows.get(web.conversation_id, SERVICE)
    assert before is not None and after is not None
    assert (after.step, after.data) == (before.step, before.data)  # still asking the same
    assert LONG not in str(after.data)
    assert await tickets(engine) == 0


@pytest.mark.parametrize("steps", [1, 2, 3, 4, 5, 6])
async def test_cancel_at_any_step_stores_nothing(
    engine: AsyncEngine, parts: tuple[TicketService, AuditLog], flows: FlowStore, steps: int
) -> None:
    web = await chat(engine, parts, "webchat")
    answers = ["/solicitud_nueva", "Reclamo", "No me dieron la constancia que pedí.",
               "12345678", "987 654 321", "Corregir"]  # fmt: skip
    for answer in answers[:steps]:
        await web.text(answer)
    assert "no registré nada" in await web.text("Cancelar.")
    assert await flows.get(web.conversation_id) is None
    assert await tickets(engine) == 0


async def test_correcting_one_answer_goes_back_to_the_summary(
    engine: AsyncEngine, parts: tuple[TicketService, AuditLog], store: TicketStore
) -> None:
    web = await chat(engine, parts, "webchat")
    for answer in ("/solicitud_nueva", "2", "No me dieron la constancia que pedí.", "Omitir",
                   "+51 987 654 321"):  # fmt: skip
        await web.text(answer)
    assert await web.buttons("Corregir") == ["Tipo", "Detalle", "Documento", "Contacto"]
    assert "No te entendí" in await web.text("todo")
    await web.text("Tipo")
    summary = await web.text("Sugerencia")
    assert "• Tipo: Sugerencia" in summary and "• Contacto: 987654321" in summary
    await web.text("Corregir")
    await web.text("Documento")
    assert "• Documento: 12345678" in await web.text("12.345.678")
    done = await web.text("Confirmar")
    assert "es el plazo que ofrecemos, no un plazo legal" in done
    [ticket] = await store.of_conversation(web.conversation_id)
    assert (ticket.kind, ticket.document, ticket.contact_phone) == (
        "sugerencia", "12345678", "987654321",
    )  # fmt: skip


async def test_a_conversation_registers_at_most_its_daily_limit(
    engine: AsyncEngine, parts: tuple[TicketService, AuditLog], clock: Clock
) -> None:
    web = await chat(engine, parts, "webchat")
    for _ in range(2):
        for answer in ("/solicitud_nueva", "Queja", "Me trataron muy mal.", "Omitir",
                       "ana@correo.pe", "Confirmar"):  # fmt: skip
            await web.text(answer)
    refusal = await web.text("/solicitud_nueva")
    assert "Ya registraste 2 solicitudes hoy" in refusal
    assert await tickets(engine) == 2
    clock.now = clock.now.replace(day=3)  # the next day in Lima
    assert "¿Qué tipo de solicitud es?" in await web.text("/solicitud_nueva")


async def test_another_button_leaves_the_form(
    engine: AsyncEngine, parts: tuple[TicketService, AuditLog], flows: FlowStore
) -> None:
    web = await chat(engine, parts, "webchat")
    await web.text("/solicitud_nueva")
    assert await web.say('/evento_inscribir{"evento": 3}') is None  # another service's
    assert await flows.get(web.conversation_id, SERVICE) is not None
    assert await web.say("/ayuda") is None  # the assistant's own: the engine answers
    assert await flows.get(web.conversation_id) is None
