"""The handoff state machine on both databases: every transition, concurrent claims, a restart
in every state, what the citizen is told, and the audit log."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from bot.accounts.agents import AgentDirectory, AgentInfo, Role
from bot.contract import HandoffRequest
from bot.conversation.channel import BotMessage, InboundMessage
from bot.conversation.store import open_store
from bot.handoff.hub import SESSION_ENDED, ConsoleHub
from bot.handoff.requests import CitizenLimits
from bot.handoff.service import CANCEL_PAYLOAD, HandoffDesk, HandoffError
from bot.handoff.store import Handoff, HandoffStore, State
from bot.knowledge.articles import KnowledgeStore
from bot.knowledge.handoff_rules import HandoffRulesStore
from bot.storage.database import create_engine
from bot.storage.tables import Message
from bot.web.rate_limits import RateLimits
from tests.bot.databases import BACKENDS, database_url

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "una-clave-larga-123"
ASKED = HandoffRequest("pedido", None, "pedir_humano", 0.97)


class Sent:
    """What the desk sent to citizens (the channels' stand-in)."""

    def __init__(self) -> None:
        self.messages: list[tuple[int, str, bool]] = []

    async def __call__(self, handoff: Handoff, messages: list[BotMessage], agent: bool) -> None:
        for message in messages:
            self.messages.append((handoff.id, str(message.get("text")), agent))


@pytest.fixture(params=BACKENDS)
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with database_url(request.param, tmp_path) as found:
        store = await open_store(found)  # migrations, conversations table
        await store.close()
        yield found


class World:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.sent = Sent()
        self.hub = ConsoleHub()
        self.now = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)  # a Monday, 10:00 in Lima

    def desk(self, limits: CitizenLimits | None = None) -> HandoffDesk:
        desk = HandoffDesk(
            HandoffStore(self.engine),
            AgentDirectory(self.engine),
            KnowledgeStore(ROOT / "data" / "knowledge"),
            HandoffRulesStore(ROOT / "data" / "handoff"),
            self.hub,
            clock=lambda: self.now,
            limits=limits,
        )
        desk.connect(self.sent)
        return desk

    async def conversation(self, sender: str) -> int:
        store = await open_store(self.url)
        try:
            return await store.open_conversation("webchat", sender)
        finally:
            await store.close()


@pytest.fixture()
async def world(url: str) -> AsyncIterator[World]:
    w = World(url)
    yield w
    await w.engine.dispose()


async def agent(desk: HandoffDesk, name: str, role: Role = Role.AGENT) -> AgentInfo:
    created = await desk.agents.create(name, PASSWORD, role, name.title(), "orientacion")
    desk.agents_changed()
    return created


def said(messages: list[BotMessage]) -> str:
    return "\n".join(str(m.get("text")) for m in messages)


async def test_without_agents_the_citizen_gets_the_ways_to_reach_a_person(world: World) -> None:
    desk = world.desk()
    await desk.start()
    conversation = await world.conversation("a")
    replies = await desk.escalate(conversation, "webchat", ASKED)
    assert "Central de consultas" in said(replies)
    assert not desk.owns(conversation)
    # A topic escalation says nothing more (the answer was given).
    assert await desk.escalate(conversation, "webchat", HandoffRequest("tema", None, "x", 1)) == []


async def test_queue_claim_reply_close(world: World) -> None:
    desk = world.desk()
    await desk.start()
    ana = await agent(desk, "ana")
    beto = await agent(desk, "beto")
    desk.seen(ana.id)
    first, second = await world.conversation("a"), await world.conversation("b")

    replies = await desk.escalate(first, "webchat", ASKED)
    assert "puesto 1 de la fila" in said(replies)
    assert replies[0]["buttons"] == [
        {"title": "Seguir con el asistente", "payload": CANCEL_PAYLOAD}
    ]
    assert "puesto 2 de la fila" in said(await desk.escalate(second, "webchat", ASKED))
    assert desk.owns(first) and desk.owns(second)
    # Asking again while waiting opens nothing new.
    assert await desk.escalate(first, "webchat", ASKED) == []

    [h1, h2] = await desk.store.listing([State.PENDING])
    assert (h1.conversation_id, h1.reason, h1.intent, h1.confidence) == (
        first,
        "pedido",
        "pedir_humano",
        0.97,
    )

    claimed = await desk.claim(h1.id, ana)
    assert claimed.state == State.AGENT and claimed.agent_id == ana.id
    assert world.sent.messages[-1] == (h1.id, "Ana te atiende desde ahora.", False)
    with pytest.raises(HandoffError) as taken:
        await desk.claim(h1.id, beto)
    assert taken.value.status == 409

    await desk.reply(h1.id, ana, "Hola, soy Ana. ¿En qué te ayudo?")
    assert world.sent.messages[-1] == (h1.id, "Hola, soy Ana. ¿En qué te ayudo?", True)
    with pytest.raises(HandoffError) as not_yours:
        await desk.reply(h1.id, beto, "yo también")
    assert not_yours.value.status in (403, 404)
    with pytest.raises(HandoffError) as empty:
        await desk.reply(h1.id, ana, "   ")
    assert empty.value.status == 422
    with pytest.raises(HandoffError) as too_long:
        await desk.reply(h1.id, ana, "x" * 5000)
    assert too_long.value.status == 413

    with pytest.raises(HandoffError) as bad_code:
        await desk.close_handoff(h1.id, ana, "inventado")
    assert bad_code.value.status == 422
    closed = await desk.close_handoff(h1.id, ana, "resuelto")
    assert closed.state == State.CLOSED and closed.resolution == "resuelto"
    assert not desk.owns(first)
    assert "finalizó la conversación" in world.sent.messages[-1][1]
    with pytest.raises(HandoffError) as after:
        await desk.reply(h1.id, ana, "¿sigues ahí?")
    assert after.value.status in (404, 409)

    # The second one is now first in line.
    assert await desk.store.queue_position(h2) == 1
    actions = [e["action"] for e in reversed(await desk.audit.entries(h1.id))]
    assert actions == ["escalated", "claimed", "replied", "closed"]


async def test_concurrent_claims_exactly_one_wins(world: World) -> None:
    desk = world.desk()
    await desk.start()
    agents = [await agent(desk, f"agente{i}") for i in range(8)]
    desk.seen(agents[0].id)
    conversation = await world.conversation("a")
    await desk.escalate(conversation, "webchat", ASKED)
    [handoff] = await desk.store.listing([State.PENDING])

    results = await asyncio.gather(
        *(desk.claim(handoff.id, a) for a in agents), return_exceptions=True
    )
    winners = [r for r in results if isinstance(r, Handoff)]
    losers = [r for r in results if isinstance(r, HandoffError)]
    assert len(winners) == 1 and len(losers) == 7
    assert all(e.status == 409 for e in losers)
    stored = await desk.store.get(handoff.id)
    assert stored is not None and stored.agent_id == winners[0].agent_id


async def test_citizen_goes_back_to_the_assistant_while_waiting(world: World) -> None:
    desk = world.desk()
    await desk.start()
    ana = await agent(desk, "ana")
    desk.seen(ana.id)
    conversation = await world.conversation("a")
    await desk.escalate(conversation, "webchat", ASKED)
    inbound = InboundMessage("webchat", "a", "Mejor sigo con el bot", {})
    assert "sigo yo" in said(await desk.take_inbound(conversation, inbound))
    assert not desk.owns(conversation)
    [handoff] = await desk.store.listing([State.CLOSED])
    assert handoff.resolution == "cancelado"

    # With an agent, the same words go to the agent: the citizen is talking to a person.
    await desk.escalate(conversation, "webchat", ASKED)
    [handoff] = await desk.store.listing([State.PENDING])
    await desk.claim(handoff.id, ana)
    assert await desk.take_inbound(conversation, inbound) == []
    assert desk.owns(conversation)


async def test_out_of_hours_the_citizen_leaves_a_callback_request(world: World) -> None:
    desk = world.desk()
    await desk.start()
    await agent(desk, "ana")  # exists, but nobody is online
    conversation = await world.conversation("a")
    replies = await desk.escalate(conversation, "webchat", ASKED)
    assert "no hay asesores disponibles" in said(replies) and "nombre" in said(replies)
    [handoff] = await desk.store.listing([State.CALLBACK])
    # Nobody takes it from the queue: it is not in the queue.
    ana = await agent(desk, "beto")
    with pytest.raises(HandoffError) as refused:
        await desk.claim(handoff.id, ana)
    assert (refused.value.status, refused.value.code) == (409, "callback")
    assert "Pedidos de contacto" in refused.value.message

    def say(text: str) -> InboundMessage:
        return InboundMessage("webchat", "a", text, {})

    assert "Rosa" in said(await desk.take_inbound(conversation, say("Rosa Quispe")))
    # A restart in the middle keeps the request where it was.
    desk = world.desk()
    await desk.start()
    assert desk.owns(conversation)
    assert "No reconozco" in said(await desk.take_inbound(conversation, say("mañana")))
    assert "tema" in said(await desk.take_inbound(conversation, say("987 654 321")))
    done = said(await desk.take_inbound(conversation, say("Tengo una deuda en cobranza")))
    assert "número" in done
    assert not desk.owns(conversation)
    [ticket] = await desk.store.callbacks()
    assert (ticket.name, ticket.contact, ticket.topic) == (
        "Rosa Quispe", "987654321", "Tengo una deuda en cobranza",
    )  # fmt: skip
    stored = await desk.store.get(handoff.id)
    assert stored is not None and stored.state == State.CLOSED and stored.resolution == "callback"
    with pytest.raises(HandoffError) as refused:
        await desk.claim(handoff.id, ana)
    assert (refused.value.status, refused.value.code) == (409, "closed")


async def test_office_hours_decide_between_queue_and_callback(world: World) -> None:
    desk = world.desk()
    await desk.start()
    ana = await agent(desk, "ana")
    desk.seen(ana.id)
    await desk.store.set_setting("office_hours", {"mon": "08:30-17:00"})
    first = await world.conversation("a")
    assert "puesto 1" in said(await desk.escalate(first, "webchat", ASKED))
    world.now = dt.datetime(2026, 12, 1, 0, 30, tzinfo=dt.UTC)  # Monday 19:30 in Lima
    desk.seen(ana.id)
    second = await world.conversation("b")
    replies = said(await desk.escalate(second, "webchat", ASKED))
    assert "no hay asesores disponibles" in replies
    assert "lunes de 08:30 a 17:00" in replies


async def test_transfer_to_a_team_and_to_an_agent(world: World) -> None:
    desk = world.desk()
    await desk.start()
    ana = await agent(desk, "ana")
    beto = await agent(desk, "beto")
    boss = await agent(desk, "jefa", Role.SUPERVISOR)
    desk.seen(ana.id)
    conversation = await world.conversation("a")
    await desk.escalate(conversation, "webchat", ASKED)
    [handoff] = await desk.store.listing([State.PENDING])
    await desk.claim(handoff.id, ana)

    with pytest.raises(HandoffError):
        await desk.transfer(handoff.id, beto, "atencion", None)  # not beto's chat
    moved = await desk.transfer(handoff.id, ana, "atencion", None)
    assert (moved.state, moved.team, moved.agent_id) == (State.PENDING, "atencion", None)
    # A supervisor hands it straight to an agent.
    moved = await desk.transfer(handoff.id, boss, None, beto.id)
    assert (moved.state, moved.agent_id) == (State.AGENT, beto.id)
    with pytest.raises(HandoffError) as unknown:
        await desk.transfer(handoff.id, boss, "no_existe", None)
    assert unknown.value.status == 422
    # The supervisor may close a chat held by someone else.
    closed = await desk.close_handoff(handoff.id, boss, "derivado")
    assert closed.state == State.CLOSED


@pytest.mark.parametrize("state", ["pending", "agent", "callback", "closed"])
async def test_a_restart_keeps_every_state(world: World, state: str) -> None:
    desk = world.desk()
    await desk.start()
    ana = await agent(desk, "ana")
    if state != "callback":
        desk.seen(ana.id)
    conversation = await world.conversation("a")
    await desk.escalate(conversation, "webchat", ASKED)
    [handoff] = await desk.store.listing([State.PENDING, State.CALLBACK])
    if state in ("agent", "closed"):
        await desk.claim(handoff.id, ana)
    if state == "closed":
        await desk.close_handoff(handoff.id, ana, "resuelto")

    restarted = world.desk()
    await restarted.start()
    stored = await restarted.store.get(handoff.id)
    assert stored is not None and stored.state.value == state
    assert restarted.owns(conversation) == (state != "closed")
    if state == "agent":
        await restarted.reply(handoff.id, ana, "sigo aquí")
        assert world.sent.messages[-1] == (handoff.id, "sigo aquí", True)


async def test_messages_reach_the_consoles_that_may_see_them(world: World) -> None:
    desk = world.desk()
    await desk.start()
    ana = await agent(desk, "ana")
    beto = await agent(desk, "beto")
    boss = await agent(desk, "jefa", Role.SUPERVISOR)
    queues = {a.username: world.hub.subscribe(a) for a in (ana, beto, boss)}
    desk.seen(ana.id)
    conversation = await world.conversation("a")
    await desk.escalate(conversation, "webchat", ASKED)
    # Everyone sees the new chat in the queue.
    for queue in queues.values():
        assert (await queue.get())["handoff"]["state"] == "pending"
    [handoff] = await desk.store.listing([State.PENDING])
    await desk.claim(handoff.id, ana)
    await desk.take_inbound(conversation, InboundMessage("webchat", "a", "<b>hola</b>", {}))

    def drain(name: str) -> list[dict[str, Any]]:
        found = []
        while not queues[name].empty():
            found.append(queues[name].get_nowait())
        return found

    assert [e["text"] for e in drain("ana") if e["type"] == "message"] == ["<b>hola</b>"]
    assert [e for e in drain("beto") if e["type"] == "message"] == []
    assert len([e for e in drain("jefa") if e["type"] == "message"]) == 1


async def test_asking_for_a_person_too_often_queues_nothing(world: World) -> None:
    desk = world.desk(CitizenLimits(RateLimits(), handoffs="2/hour"))
    await desk.start()
    ana = await agent(desk, "ana")
    desk.seen(ana.id)
    conversation, other = await world.conversation("a"), await world.conversation("b")
    cancel = InboundMessage("webchat", "a", CANCEL_PAYLOAD, {})
    for _ in range(2):
        assert "puesto 1" in said(await desk.escalate(conversation, "webchat", ASKED))
        await desk.take_inbound(conversation, cancel)
    refused = said(await desk.escalate(conversation, "webchat", ASKED))
    assert refused.startswith("Ya pediste hablar con un asesor varias veces")
    assert "en una hora" in refused or "minutos" in refused
    assert not desk.owns(conversation)
    assert await desk.store.listing([State.PENDING, State.CALLBACK]) == []
    assert len(await desk.store.listing([State.CLOSED])) == 2
    # Another conversation has its own count.
    assert "puesto 1" in said(await desk.escalate(other, "webchat", ASKED))


async def test_callback_requests_are_limited_per_conversation(world: World) -> None:
    desk = world.desk(CitizenLimits(RateLimits(), handoffs="10/hour", callbacks="1/day"))
    await desk.start()
    await agent(desk, "ana")  # nobody online: callback requests
    conversation = await world.conversation("a")
    assert "nombre" in said(await desk.escalate(conversation, "webchat", ASKED))
    await desk.take_inbound(conversation, InboundMessage("webchat", "a", CANCEL_PAYLOAD, {}))
    refused = said(await desk.escalate(conversation, "webchat", ASKED))
    assert refused.startswith("Ya dejaste varios pedidos de contacto") and "horas" in refused
    assert not desk.owns(conversation)
    assert await desk.store.listing([State.CALLBACK]) == []
    assert await desk.store.callbacks("all") == []


async def test_a_transcript_is_its_own_stretch_of_the_conversation(world: World) -> None:
    """From the start of the session the handoff was opened in (not before the previous
    handoff closed) until it closed: the citizen's other sessions and chats are not in it."""
    desk = world.desk()
    await desk.start()
    ana = await agent(desk, "ana")
    beto = await agent(desk, "beto")
    desk.seen(ana.id)
    conversation = await world.conversation("a")
    minute = dt.timedelta(minutes=1)
    opened = world.now

    async def message(text: str, at: dt.datetime) -> None:
        async with world.engine.begin() as db:
            await db.execute(
                insert(Message).values(
                    conversation_id=conversation, direction="in", text=text, payload=None,
                    status="answered", created_at=at,
                )
            )  # fmt: skip

    await message("ayer: mi DNI es 12345678", opened - dt.timedelta(hours=20))
    await message("hola", opened - 5 * minute)
    await message("quiero un asesor", opened - minute)
    await desk.escalate(conversation, "webchat", ASKED)
    [first] = await desk.store.listing([State.PENDING])
    await desk.claim(first.id, ana)
    await message("para Ana", opened + minute)
    world.now = opened + 10 * minute
    await desk.close_handoff(first.id, ana, "resuelto")
    await message("gracias, otra duda", opened + 12 * minute)
    world.now = opened + 13 * minute
    desk.seen(beto.id)
    await desk.escalate(conversation, "webchat", ASKED)
    [second] = await desk.store.listing([State.PENDING])
    await desk.claim(second.id, beto)
    await message("para Beto", opened + 14 * minute)

    async def texts(handoff_id: int) -> list[str | None]:
        handoff = await desk.store.get(handoff_id)
        assert handoff is not None
        return [e.text for e in await desk.store.transcript(handoff, dt.timedelta(hours=1))]

    assert await texts(first.id) == ["hola", "quiero un asesor", "para Ana"]
    assert await texts(second.id) == ["gracias, otra duda", "para Beto"]
    # With sessions that end after 3 idle minutes, "hola" was the session before.
    handoff = await desk.store.get(first.id)
    assert handoff is not None
    short = await desk.store.transcript(handoff, dt.timedelta(minutes=3))
    assert [e.text for e in short] == ["quiero un asesor", "para Ana"]


async def test_ending_sessions_stops_their_consoles(world: World) -> None:
    desk = world.desk()
    await desk.start()
    ana = await agent(desk, "ana")
    beto = await agent(desk, "beto")
    here, elsewhere = world.hub.subscribe(ana, "s1"), world.hub.subscribe(ana, "s2")
    betos = world.hub.subscribe(beto, "s3")
    desk.seen(ana.id)

    desk.sessions_ended(ana.id, "s1")  # logged out in one browser
    assert here.get_nowait() is SESSION_ENDED
    assert not world.hub.subscribed(here) and world.hub.subscribed(elsewhere)
    assert ana.id in desk.online()  # still at the desk elsewhere

    desk.sessions_ended(ana.id)  # deactivated
    assert elsewhere.get_nowait() is SESSION_ENDED
    assert ana.id not in desk.online()
    conversation = await world.conversation("a")
    desk.seen(beto.id)
    await desk.escalate(conversation, "webchat", ASKED)
    assert elsewhere.empty() and (await betos.get())["type"] == "handoff"


async def test_a_changed_role_applies_to_open_consoles(world: World) -> None:
    desk = world.desk()
    await desk.start()
    ana = await agent(desk, "ana")
    boss = await agent(desk, "jefa")
    queue = world.hub.subscribe(boss, "s1")
    desk.seen(ana.id)
    conversation = await world.conversation("a")
    await desk.escalate(conversation, "webchat", ASKED)
    [handoff] = await desk.store.listing([State.PENDING])
    await desk.claim(handoff.id, ana)
    while not queue.empty():
        queue.get_nowait()
    await desk.take_inbound(conversation, InboundMessage("webchat", "a", "hola", {}))
    assert queue.empty()  # an agent: not her chat
    world.hub.refresh(await desk.agents.update(boss.id, role=Role.SUPERVISOR))
    await desk.take_inbound(conversation, InboundMessage("webchat", "a", "hola", {}))
    assert (await queue.get())["text"] == "hola"
