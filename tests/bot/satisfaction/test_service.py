"""The survey in conversations, through the conversation service (Rasa on a mock transport),
on both databases: asked once after a goodbye, answered with a button or a typed rating, the
comment or its skip, a citizen never held in it; asked once when idle and after a handoff."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import contract
from bot.contract import HandoffRequest
from bot.conversation.channel import BotMessage, InboundMessage
from bot.conversation.flows import FlowStore
from bot.conversation.push import PushHub
from bot.conversation.rasa_client import RasaClient
from bot.conversation.service import ConversationService
from bot.conversation.store import ConversationStore
from bot.knowledge.articles import KnowledgeStore
from bot.ops.settings import ROOT
from bot.satisfaction.ratings import ARTICLE, SKIP_PAYLOAD, rating_payload
from bot.satisfaction.service import SatisfactionService
from bot.satisfaction.store import SurveyStore
from bot.storage.tables import HandoffRow, SurveyRow
from bot.storage.time import utcnow
from tests.bot.satisfaction.timeline import move_back

KNOWLEDGE = KnowledgeStore(ROOT / "data" / "knowledge")
SURVEY = KNOWLEDGE.current.require(ARTICLE)
GOODBYES = {"chau", "hasta luego"}


class Engine:
    """Rasa's REST channel: a goodbye is answered from the article ``despedida``, "asesor" asks
    for a person, anything else is echoed."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        text = json.loads(request.content)["message"]
        self.texts.append(text)
        reply: dict[str, Any] = {"text": f"bot: {text}"}
        if text in GOODBYES:
            reply = {"text": "¡Hasta pronto!", "custom": {contract.ARTICLE: "despedida"}}
        elif "asesor" in text:
            reply = {"custom": HandoffRequest("pedido", None, "pedir_humano", 1.0).as_custom()}
        return httpx.Response(200, json=[reply])


class Desk:
    """The agents' desk: owns a conversation once the engine asked for a person."""

    def __init__(self) -> None:
        self.owned: set[int] = set()

    def owns(self, conversation_id: int) -> bool:
        return conversation_id in self.owned

    async def take_inbound(self, conversation_id: int, inbound: InboundMessage) -> list[BotMessage]:
        return []

    async def escalate(
        self, conversation_id: int, channel: str, request: HandoffRequest
    ) -> list[BotMessage]:
        self.owned.add(conversation_id)
        return [{"text": "Te comunico con un asesor."}]


class Outreach:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str, str, list[BotMessage]]] = []

    async def send(
        self, conversation_id: int, channel: str, sender_id: str, messages: list[BotMessage]
    ) -> bool:
        self.sent.append((conversation_id, channel, sender_id, messages))
        return True


@dataclass
class World:
    conversations: ConversationService
    survey: SatisfactionService
    engine: Engine
    db: AsyncEngine
    flows: FlowStore
    outreach: Outreach
    desk: Desk
    said: list[str] = field(default_factory=list)

    async def say(self, text: str, sender: str = "ana", channel: str = "webchat") -> list[str]:
        replies = await self.conversations.handle(InboundMessage(channel, sender, text))
        return [str(r.get("text")) for r in replies]

    async def rows(self) -> list[Any]:
        async with self.db.connect() as db:
            return list((await db.execute(select(SurveyRow).order_by(SurveyRow.id))).all())

    async def conversation(self, sender: str = "ana") -> int:
        return await self.conversations.conversation_id("webchat", sender)


@pytest.fixture()
async def world(store: ConversationStore, engine: AsyncEngine) -> AsyncIterator[World]:
    rasa_engine, desk, outreach = Engine(), Desk(), Outreach()
    flows = FlowStore(engine)
    survey = SatisfactionService(
        SurveyStore(engine, dt.timedelta(minutes=60)), flows, KNOWLEDGE,
        idle=dt.timedelta(minutes=10),
    )  # fmt: skip
    survey.connect(outreach)
    async with httpx.AsyncClient(transport=httpx.MockTransport(rasa_engine)) as http:
        conversations = ConversationService(
            store, RasaClient(http, "http://rasa", "token", 2.0), KNOWLEDGE, PushHub(),
            desk=desk, services=(survey,),
        )  # fmt: skip
        yield World(conversations, survey, rasa_engine, engine, flows, outreach, desk)


QUESTION = SURVEY.answer
ASK_COMMENT = SURVEY.render("gracias_nota")


async def test_a_goodbye_asks_once_per_session(world: World) -> None:
    replies = await world.conversations.handle(InboundMessage("webchat", "ana", "chau"))
    assert [r.get("text") for r in replies] == ["¡Hasta pronto!", QUESTION]
    assert [b["payload"] for b in replies[1]["buttons"]] == [rating_payload(n) for n in range(1, 6)]
    assert await world.say("hasta luego") == ["¡Hasta pronto!"]  # not asked twice
    [row] = await world.rows()
    assert (row.trigger, row.channel, row.rating) == ("despedida", "webchat", None)
    # Another answer is not a goodbye: nothing asked.
    assert await world.say("que es el ruc", sender="beto") == ["bot: que es el ruc"]
    assert len(await world.rows()) == 1


async def test_a_typed_rating_then_a_comment_never_reach_the_engine(world: World) -> None:
    await world.say("chau")
    assert await world.say("5 estrellas") == [ASK_COMMENT]
    assert await world.say("Me atendieron rápido. Mi DNI es 45678912") == [
        SURVEY.render("gracias_comentario")
    ]
    assert world.engine.texts == ["chau"]
    [row] = await world.rows()
    assert row.rating == 5 and row.answered_at is not None
    assert row.comment == "Me atendieron rápido. Mi DNI es *****912"  # masked before storing
    # The survey is over: the next message is the engine's, and no second survey.
    assert await world.say("hasta luego") == ["¡Hasta pronto!"]
    assert len(await world.rows()) == 1


@pytest.mark.parametrize("skip", [SKIP_PAYLOAD, "no, gracias", "Omitir"])
async def test_a_button_rating_and_the_comment_skipped(world: World, skip: str) -> None:
    await world.say("chau")
    assert await world.say(rating_payload(2)) == [ASK_COMMENT]
    assert await world.say(skip) == [SURVEY.render("omitido")]
    [row] = await world.rows()
    assert (row.rating, row.comment) == (2, None)
    assert world.engine.texts == ["chau"]


async def test_a_message_that_is_not_a_rating_goes_to_the_engine(world: World) -> None:
    await world.say("chau")
    assert await world.say("y como saco mi clave sol") == ["bot: y como saco mi clave sol"]
    [row] = await world.rows()
    assert row.rating is None  # stored unanswered
    # The survey no longer waits: a number is the engine's to understand.
    assert await world.say("5") == ["bot: 5"]
    # Its button still rates it, while it is unrated.
    assert await world.say(rating_payload(4)) == [ASK_COMMENT]
    assert await world.say(rating_payload(1)) == [SURVEY.render("ya_calificado")]
    [row] = await world.rows()
    assert row.rating == 4


async def test_a_survey_button_without_a_survey_is_answered_politely(world: World) -> None:
    assert await world.say(rating_payload(5)) == [SURVEY.render("sin_encuesta")]
    assert world.engine.texts == [] and await world.rows() == []


async def test_another_services_open_form_is_not_replaced(world: World) -> None:
    await world.say("que es el ruc")
    await world.flows.put(await world.conversation(), "tickets", "descripcion", {})
    assert await world.say("chau") == ["¡Hasta pronto!"]
    assert await world.rows() == []


async def test_never_during_a_handoff(world: World) -> None:
    await world.say("quiero un asesor")
    assert await world.say("chau") == []  # the desk has the conversation
    assert await world.rows() == []


async def test_the_idle_job_asks_once_and_skips_handoffs_and_surveyed(world: World) -> None:
    for sender in ("quiet", "surveyed", "people"):
        await world.say("que es el ruc", sender=sender)
    await world.say("chau", sender="surveyed")
    quiet, surveyed, people = [await world.conversation(s) for s in ("quiet", "surveyed", "people")]
    async with world.db.begin() as db:
        await db.execute(
            insert(HandoffRow).values(
                conversation_id=people, state="pending", reason="pedido",
                team="orientacion", created_at=utcnow(),
            )
        )  # fmt: skip
    for conversation in (quiet, surveyed, people):
        await move_back(world.db, conversation, dt.timedelta(minutes=15))

    assert await world.survey.ask_idle() == 1
    [(conversation, channel, sender, [question])] = world.outreach.sent
    assert (conversation, channel, sender) == (quiet, "webchat", "quiet")
    assert question["text"] == SURVEY.render("pregunta_inactividad")
    assert len(question["buttons"]) == 5
    assert await world.survey.ask_idle() == 0  # never twice
    # The citizen answers when they come back.
    assert await world.say("cuatro", sender="quiet") == [ASK_COMMENT]
    rows = {r.conversation_id: r for r in await world.rows()}
    assert (rows[quiet].trigger, rows[quiet].rating) == ("inactividad", 4)
    assert people not in rows


async def test_after_an_agent_closes_a_handoff(world: World) -> None:
    await world.say("que es el ruc")
    conversation = await world.conversation()
    async with world.db.begin() as db:
        handoff_id = await db.scalar(
            insert(HandoffRow).values(
                conversation_id=conversation, state="closed", reason="pedido",
                team="orientacion", created_at=utcnow(),
            ).returning(HandoffRow.id)
        )  # fmt: skip
    assert handoff_id is not None
    assert await world.survey.after_handoff(conversation, "webchat", "ana", handoff_id)
    [(_, _, _, [question])] = world.outreach.sent
    assert question["text"] == SURVEY.render("pregunta_handoff")
    assert not await world.survey.after_handoff(conversation, "webchat", "ana", handoff_id)
    assert await world.say("⭐⭐⭐⭐⭐") == [ASK_COMMENT]
    assert await world.say("chau") == [SURVEY.render("omitido")]  # a goodbye is no comment
    assert await world.say("hasta luego") == ["¡Hasta pronto!"]  # the same session: not again
    [row] = await world.rows()
    assert (row.trigger, row.handoff_id, row.rating) == ("handoff", handoff_id, 5)
    assert len(world.outreach.sent) == 1
