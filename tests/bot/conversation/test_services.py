"""The gateway's own services around the engine (``bot/conversation/services.py``): a service
that takes a message keeps it from the engine; after the engine, services add to its answer
with the article it answered from; neither during a handoff nor when the engine is down."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot import contract
from bot.contract import HandoffRequest
from bot.conversation.channel import BotMessage, InboundMessage
from bot.conversation.push import PushHub
from bot.conversation.rasa_client import RasaClient
from bot.conversation.service import ConversationService
from bot.conversation.services import Turn
from bot.conversation.store import ConversationStore, HistoryEntry
from bot.knowledge.articles import KnowledgeStore
from bot.ops.settings import ROOT


class Recorder:
    """A service that takes the messages in ``takes`` and adds a line after every answer."""

    def __init__(self, name: str, takes: set[str]) -> None:
        self.name = name
        self.takes = takes
        self.seen: list[Turn] = []
        self.followed: list[tuple[str, str | None]] = []

    async def take(self, turn: Turn) -> list[BotMessage] | None:
        self.seen.append(turn)
        return [{"text": f"{self.name} took it"}] if turn.text in self.takes else None

    async def follow(self, turn: Turn, article: str | None) -> list[BotMessage]:
        self.followed.append((turn.text, article))
        return [{"text": f"{self.name} after {article}"}]


class Desk:
    """People own the conversations in ``owned``."""

    def __init__(self) -> None:
        self.owned: set[int] = set()

    def owns(self, conversation_id: int) -> bool:
        return conversation_id in self.owned

    async def take_inbound(self, conversation_id: int, inbound: InboundMessage) -> list[BotMessage]:
        return [{"text": "un asesor te responde"}]

    async def escalate(
        self, conversation_id: int, channel: str, request: HandoffRequest
    ) -> list[BotMessage]:
        return [{"text": "te derivo"}]


class Engine:
    """Rasa's REST channel on a mock transport: answers from the article ``despedida``; down
    while ``down`` is set."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("down", request=request)
        body = json.loads(request.content)
        self.texts.append(body["message"])
        reply: dict[str, Any] = {
            "text": "¡Hasta pronto!",
            "custom": {contract.ARTICLE: "despedida"},
        }
        return httpx.Response(200, json=[reply])


@pytest.fixture()
async def engine() -> Engine:
    return Engine()


@pytest.fixture()
async def parts(
    store: ConversationStore, engine: Engine
) -> AsyncIterator[tuple[ConversationService, Recorder, Recorder, Desk]]:
    first, second = (
        Recorder("first", {"/solicitud_nueva", "both"}),
        Recorder("second", {"both", "x"}),
    )
    desk = Desk()
    async with httpx.AsyncClient(transport=httpx.MockTransport(engine)) as http:
        service = ConversationService(
            store,
            RasaClient(http, "http://rasa", "token", 2.0),
            KnowledgeStore(ROOT / "data" / "knowledge"),
            PushHub(),
            desk=desk,
            services=(first, second),
        )
        yield service, first, second, desk


def texts(replies: list[BotMessage]) -> list[str]:
    return [str(r.get("text")) for r in replies]


async def test_a_service_that_takes_a_message_keeps_it_from_the_engine_and_the_next_services(
    parts: tuple[ConversationService, Recorder, Recorder, Desk], engine: Engine
) -> None:
    service, first, second, _ = parts
    assert texts(await service.handle(InboundMessage("webchat", "ana", "both"))) == [
        "first took it"
    ]
    assert engine.texts == []
    assert [t.text for t in first.seen] == ["both"] and second.seen == []
    assert first.followed == [] and second.followed == []
    # The second service gets what the first leaves.
    assert texts(await service.handle(InboundMessage("webchat", "ana", "x"))) == ["second took it"]
    assert engine.texts == []


async def test_after_the_engine_every_service_adds_to_the_answer_with_its_article(
    parts: tuple[ConversationService, Recorder, Recorder, Desk], engine: Engine
) -> None:
    service, first, second, _ = parts
    replies = await service.handle(InboundMessage("webchat", "ana", "chau"))
    assert texts(replies) == ["¡Hasta pronto!", "first after despedida", "second after despedida"]
    assert engine.texts == ["chau"]
    assert first.followed == [("chau", "despedida")] == second.followed
    turn = first.seen[0]
    assert (turn.channel, turn.sender_id, turn.text) == ("webchat", "ana", "chau")
    # What the services added is stored with the answer (the history shows it).
    history: list[HistoryEntry] = await service.history("webchat", "ana")
    assert [h.text for h in history] == [
        "chau",
        "¡Hasta pronto!",
        "first after despedida",
        "second after despedida",
    ]


async def test_no_service_runs_while_people_own_the_conversation(
    parts: tuple[ConversationService, Recorder, Recorder, Desk], engine: Engine
) -> None:
    service, first, second, desk = parts
    desk.owned.add(await service.conversation_id("webchat", "ana"))
    replies = await service.handle(InboundMessage("webchat", "ana", "/solicitud_nueva"))
    assert texts(replies) == ["un asesor te responde"]
    assert first.seen == [] and second.seen == [] and engine.texts == []


async def test_nothing_is_added_to_the_notice_when_the_engine_is_down(
    parts: tuple[ConversationService, Recorder, Recorder, Desk], engine: Engine
) -> None:
    service, first, second, _ = parts
    engine.down = True
    replies = await service.handle(InboundMessage("webchat", "ana", "chau"))
    assert texts(replies)[0].startswith("Estamos teniendo problemas")
    assert len(replies) == 1
    assert first.followed == [] and second.followed == []
    # A service still takes what is its own: the engine is not needed for it.
    replies = await service.handle(InboundMessage("webchat", "ana", "/solicitud_nueva"))
    assert texts(replies) == ["first took it"]
