"""The community events in the chat: the list after the events' article, the sign-up form
step by step, the waiting list, giving a place up (the next citizen told on their channel),
proposals counted per topic; and every bad input answered in Spanish with nothing stored."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.community.events import Place
from bot.community.notices import EventNotices
from bot.community.proposals import ProposalStore, TopicKeys
from bot.community.service import ARTICLE, CommunityEvents
from bot.community.store import EventStore
from bot.conversation.channel import BotMessage
from bot.conversation.flows import FlowStore
from bot.conversation.rasa_client import EngineUnavailable
from bot.conversation.services import Turn
from bot.conversation.store import ConversationStore, open_store
from bot.storage.database import create_engine
from bot.storage.tables import EventRegistration, TopicProposal
from bot.storage.time import utcnow
from bot.web.rate_limits import RateLimits
from tests.bot.community.conftest import draft

VALID_RUC = "20131312955"  # SUNAT's own RUC


class Outreach:
    """Records what would reach citizens outside a request."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str, str, list[BotMessage]]] = []

    async def send(
        self, conversation_id: int, channel: str, sender_id: str, messages: list[BotMessage]
    ) -> bool:
        self.sent.append((conversation_id, channel, sender_id, messages))
        return True


class Nlu:
    """The NLU's answer to a proposal: ``intent`` with ``confidence``; down when ``down``."""

    def __init__(self) -> None:
        self.intent, self.confidence, self.down = "igv", 0.95, False

    async def __call__(self, text: str) -> dict[str, Any]:
        if self.down:
            raise EngineUnavailable("down")
        return {"text": text, "intent": {"name": self.intent, "confidence": self.confidence}}


class Chat:
    """One citizen's conversation with the service (``say`` runs the gateway's order: the
    service's ``take``; ``ask`` what the engine answered with the events' article)."""

    def __init__(self, service: CommunityEvents, conversation_id: int, channel: str, sender: str):
        self.service, self.id, self.channel, self.sender = service, conversation_id, channel, sender

    def turn(self, text: str) -> Turn:
        return Turn(self.id, 1, self.channel, self.sender, text)

    async def say(self, text: str) -> list[BotMessage] | None:
        return await self.service.take(self.turn(text))

    async def ask(self, text: str, article: str | None = ARTICLE) -> list[BotMessage]:
        return await self.service.follow(self.turn(text), article)


class Room:
    def __init__(self, engine: AsyncEngine, conversations: ConversationStore) -> None:
        self.engine = engine
        self.conversations = conversations
        self.events = EventStore(engine)
        self.outreach = Outreach()
        self.nlu = Nlu()
        self.flows = FlowStore(engine)
        notices = EventNotices()
        notices.connect(self.outreach)
        self.service = CommunityEvents(
            self.events,
            self.flows,
            ProposalStore(engine),
            TopicKeys(self.nlu, 0.6),
            notices,
            (RateLimits(), "2/day"),
        )

    async def chat(self, sender: str, channel: str = "webchat") -> Chat:
        return Chat(
            self.service,
            await self.conversations.open_conversation(channel, sender),
            channel,
            sender,
        )

    async def count(self, table: Any, **where: Any) -> int:
        query = select(func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(getattr(table, column) == value)
        async with self.engine.connect() as db:
            return int((await db.execute(query)).scalar_one())


@pytest.fixture()
async def room(tmp_path: Path) -> AsyncIterator[Room]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    conversations = await open_store(url)
    engine = create_engine(url)
    yield Room(engine, conversations)
    await engine.dispose()
    await conversations.close()


def sign_up(event_id: Any) -> str:
    return f"/evento_inscribir{json.dumps({'evento': event_id})}"


def text(replies: list[BotMessage] | None) -> str:
    assert replies
    return "\n".join(str(r.get("text", "")) for r in replies)


def payloads(replies: list[BotMessage] | None) -> list[str]:
    assert replies
    return [b["payload"] for r in replies for b in r.get("buttons", [])]


async def fill_in(chat: Chat, event_id: int, name: str = "Ana Quispe") -> list[BotMessage] | None:
    """The sign-up form up to the confirmation, answered well."""
    await chat.say(sign_up(event_id))
    await chat.say(name)
    await chat.say("ana@example.pe")
    return await chat.say("omitir")


# --- the list ---------------------------------------------------------------------------------


async def test_the_events_article_lists_the_events_open_for_sign_up(room: Room) -> None:
    now = utcnow()
    talk = await room.events.create(draft(title="Charla de IGV"), None, now)
    online = await room.events.create(
        draft(title="Taller en línea", kind="taller", place=None,
              online_url="https://www.sunat.gob.pe/taller", starts_at=now + dt.timedelta(days=1),
              registration_deadline=now + dt.timedelta(hours=20)),
        None, now,
    )  # fmt: skip
    cancelled = await room.events.create(draft(title="Cancelado"), None, now)
    await room.events.cancel(cancelled.id, now)
    await room.events.create(
        draft(title="Cerrado", registration_deadline=now - dt.timedelta(minutes=1)), None, now
    )
    chat = await room.chat("ana")
    [listing] = await chat.ask("¿hay charlas?")
    shown = text([listing])
    assert "Charla de IGV" in shown and "Taller en línea" in shown
    assert "https://www.sunat.gob.pe/taller" in shown and "quedan 5 lugares" in shown
    assert "Cancelado" not in shown and "Cerrado" not in shown
    assert "1. Taller en línea —" in shown  # the kind is said once
    assert "2. Charla de IGV —" in shown
    # Soonest first, a button each, then the proposal.
    assert payloads([listing]) == [sign_up(online.id), sign_up(talk.id), "/evento_proponer"]
    assert await chat.ask("¿hay charlas?", article="igv") == []


async def test_at_most_nine_events_are_offered_so_the_buttons_fit_a_whatsapp_list(
    room: Room,
) -> None:
    for n in range(12):
        await room.events.create(draft(title=f"Charla {n}"), None, utcnow())
    chat = await room.chat("ana", "whatsapp")
    buttons = payloads(await chat.ask("charlas"))
    assert len(buttons) == 10 and buttons[-1] == "/evento_proponer"


async def test_without_events_it_says_so_and_offers_to_propose_a_topic(room: Room) -> None:
    replies = await (await room.chat("ana")).ask("¿hay charlas este mes?")
    assert "no hay charlas" in text(replies).lower()
    assert payloads(replies) == ["/evento_proponer"]


async def test_this_month_lists_this_months_events_or_says_there_are_none(room: Room) -> None:
    now = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
    room.service._clock = lambda: now
    this_month = now + dt.timedelta(days=5)
    next_month = dt.datetime(2026, 4, 20, 15, 0, tzinfo=dt.UTC)
    for title, starts in (("Marzo", this_month), ("Abril", next_month)):
        await room.events.create(
            draft(title=title, starts_at=starts, registration_deadline=starts), None, now
        )
    chat = await room.chat("ana")
    march = text(await chat.ask("hay charlas este mes?"))
    assert "Marzo" in march and "Abril" not in march
    april = text(await chat.ask("y el próximo mes?"))
    assert "Abril" in april and "Marzo" not in april
    room.service._clock = lambda: dt.datetime(2026, 4, 1, 15, 0, tzinfo=dt.UTC)
    may = text(await chat.ask("charlas el mes que viene"))
    assert "El próximo mes no hay eventos" in may and "Abril" in may


# --- signing up -------------------------------------------------------------------------------


async def test_a_citizen_signs_up_step_by_step(room: Room) -> None:
    event = await room.events.create(draft(capacity=2), None, utcnow())
    chat = await room.chat("ana")
    assert "nombre completo" in text(await chat.say(sign_up(event.id)))
    assert "solo con letras" in text(await chat.say("12345"))  # not a name: asked again
    assert "correo" in text(await chat.say("  Ana   Quispe  "))
    assert "No reconocí" in text(await chat.say("mañana"))
    assert payloads(await chat.say("ana@example.pe")) == ["omitir"]
    wrong = text(await chat.say("20131312954"))  # a mistyped digit
    assert "algún dígito está cambiado" in wrong
    confirm = await chat.say(VALID_RUC)
    shown = text(confirm)
    assert "Ana Quispe" in shown and "ana@example.pe" in shown and VALID_RUC in shown
    assert payloads(confirm) == ["confirmar", "cancelar"]
    assert "Toca «Confirmar»" in text(await chat.say("tal vez"))
    done = await chat.say("Confirmar")
    assert "está confirmado" in text(done) and "recordatorio" in text(done)
    assert payloads(done) == [f'/evento_cancelar{{"evento": {event.id}}}']
    [place] = await room.events.registrations(event.id)
    assert (place.status, place.name, place.contact, place.document) == (
        Place.REGISTERED, "Ana Quispe", "ana@example.pe", VALID_RUC,
    )  # fmt: skip
    # The form is over: the next message goes to the engine.
    assert await chat.say("gracias") is None
    # Signing up again: they have a place already.
    again = await chat.say(sign_up(event.id))
    assert "Ya tienes un lugar" in text(again) and await room.flows.get(chat.id) is None


async def test_on_whatsapp_the_chat_itself_is_a_contact(room: Room) -> None:
    event = await room.events.create(draft(), None, utcnow())
    chat = await room.chat("51987654321", "whatsapp")
    await chat.say(sign_up(event.id))
    assert payloads(await chat.say("Rosa Mamani")) == ["este chat"]
    await chat.say("este chat")
    assert "• Contacto: este chat" in text(await chat.say("omitir"))
    await chat.say("sí")
    [place] = await room.events.registrations(event.id)
    assert place.contact == "whatsapp:51987654321" and place.document is None


async def test_the_web_chat_needs_an_email_or_phone(room: Room) -> None:
    event = await room.events.create(draft(), None, utcnow())
    chat = await room.chat("ana")
    await chat.say(sign_up(event.id))
    assert payloads(await chat.say("Ana Quispe")) == []  # no "this chat" on the web
    assert "No reconocí" in text(await chat.say("este chat"))
    assert payloads(await chat.say("+51 987 654 321")) == ["omitir"]


async def test_a_full_event_offers_the_waiting_list_and_a_freed_place_goes_to_its_first(
    room: Room,
) -> None:
    event = await room.events.create(draft(capacity=1), None, utcnow())
    ana, beto, carla = (
        await room.chat("ana"),
        await room.chat("beto", "whatsapp"),
        await room.chat("carla"),
    )
    await fill_in(ana, event.id)
    await ana.say("confirmar")
    await fill_in(beto, event.id, "Beto Flores")
    full = await beto.say("confirmar")
    assert "ya está lleno" in text(full) and payloads(full) == ["lista de espera", "no"]
    assert await room.count(EventRegistration, conversation_id=beto.id) == 0  # nothing stored yet
    waiting = await beto.say("Sí, lista de espera")
    assert "lista de espera" in text(waiting) and "puesto 1" in text(waiting)
    await fill_in(carla, event.id, "Carla Díaz")
    await carla.say("confirmar")
    assert "Entendido, no te anotamos" in text(await carla.say("no"))
    assert await room.count(EventRegistration, conversation_id=carla.id) == 0

    gave_up = await ana.say(f'/evento_cancelar{{"evento": {event.id}}}')
    assert "Cancelamos tu inscripción" in text(gave_up)
    [(cid, channel, sender, [message])] = room.outreach.sent
    assert (cid, channel, sender) == (beto.id, "whatsapp", "beto")
    assert "Se liberó un lugar" in message["text"] and "Beto Flores" in message["text"]
    assert message["buttons"][0]["payload"] == f'/evento_cancelar{{"evento": {event.id}}}'
    places = {p.conversation_id: p.status for p in await room.events.registrations(event.id)}
    assert places == {ana.id: Place.CANCELLED, beto.id: Place.REGISTERED}
    assert "No tienes una inscripción" in text(
        await ana.say(f'/evento_cancelar{{"evento": {event.id}}}')
    )


@pytest.mark.parametrize(
    "payload",
    ['/evento_inscribir{"evento": "7"}', '/evento_inscribir{"evento": 0}',
     '/evento_inscribir{"evento": 99999999999999999999999}',
     '/evento_inscribir{"evento": 2147483648}', '/evento_inscribir{"evento": 1.5}',
     '/evento_inscribir{"evento": true}',
     "/evento_inscribir{evento}", "/evento_inscribir", '/evento_inscribir{"evento": 424242}',
     '/evento_cancelar{"evento": -1}', '/evento_cancelar{"evento": 424242}'],
)  # fmt: skip
async def test_unknown_or_malformed_events_get_a_clear_answer(room: Room, payload: str) -> None:
    chat = await room.chat("ana")
    assert "No encontramos ese evento" in text(await chat.say(payload))
    assert await room.flows.get(chat.id) is None
    assert await room.count(EventRegistration) == 0


async def test_closed_cancelled_and_past_events_say_why(room: Room) -> None:
    now = utcnow()
    closed = await room.events.create(
        draft(title="Cerrada", registration_deadline=now - dt.timedelta(hours=1)), None, now
    )
    cancelled = await room.events.create(draft(title="Anulada"), None, now)
    await room.events.cancel(cancelled.id, now)
    past = await room.events.create(
        draft(title="Pasada", starts_at=now - dt.timedelta(days=1),
              registration_deadline=now - dt.timedelta(days=2)),
        None, now,
    )  # fmt: skip
    chat = await room.chat("ana")
    assert "ya cerraron" in text(await chat.say(sign_up(closed.id)))
    assert "fue cancelado" in text(await chat.say(sign_up(cancelled.id)))
    assert "ya empezó o ya pasó" in text(await chat.say(sign_up(past.id)))
    assert await room.count(EventRegistration) == 0


async def test_the_deadline_passing_during_the_form_is_told_at_confirmation(room: Room) -> None:
    now = utcnow()
    event = await room.events.create(
        draft(registration_deadline=now + dt.timedelta(minutes=5)), None, now
    )
    chat = await room.chat("ana")
    await fill_in(chat, event.id)
    room.service._clock = lambda: now + dt.timedelta(minutes=10)
    assert "ya cerraron" in text(await chat.say("confirmar"))
    assert await room.count(EventRegistration) == 0


async def test_cancelar_leaves_the_form_and_another_button_goes_to_the_engine(room: Room) -> None:
    event = await room.events.create(draft(), None, utcnow())
    chat = await room.chat("ana")
    await chat.say(sign_up(event.id))
    await chat.say("Ana Quispe")
    assert "no guardé nada" in text(await chat.say("Cancelar"))
    assert await room.flows.get(chat.id) is None
    await chat.say(sign_up(event.id))
    assert await chat.say("/igv") is None  # the engine answers it
    assert await room.flows.get(chat.id) is None
    assert await chat.say("/solicitud_nueva") is None  # another service's button
    assert await room.count(EventRegistration) == 0


# --- proposing a topic ------------------------------------------------------------------------


async def test_proposals_are_counted_under_the_nlu_intent_or_their_folded_words(
    room: Room,
) -> None:
    chat, other = await room.chat("ana"), await room.chat("beto")
    assert "Sobre qué tema" in text(await chat.say("/evento_proponer"))
    assert "pocas palabras" in text(await chat.say("a"))  # too short: asked again
    assert "Anotamos tu propuesta" in text(await chat.say("Cómo declarar el IGV"))
    room.nlu.confidence = 0.3  # unsure: the words count
    await other.say("/evento_proponer")
    await other.say("Una charla sobre el Régimen MYPE!")
    room.nlu.down = True
    await other.say("/evento_proponer")
    await other.say("régimen  mype")
    async with room.engine.connect() as db:
        rows = (await db.execute(select(TopicProposal.topic, TopicProposal.text))).all()
    assert sorted(rows) == [
        ("igv", "Cómo declarar el IGV"),
        ("regimen mype", "Una charla sobre el Régimen MYPE!"),
        ("regimen mype", "régimen mype"),
    ]


async def test_proposals_per_conversation_are_limited(room: Room) -> None:
    chat = await room.chat("ana")
    for topic in ("facturas", "boletas"):
        await chat.say("/evento_proponer")
        assert "Anotamos" in text(await chat.say(topic))
    await chat.say("/evento_proponer")
    assert "varias propuestas" in text(await chat.say("detracciones"))
    assert await room.count(TopicProposal) == 2
