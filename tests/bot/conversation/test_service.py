"""The conversation service on both databases: SQLite (default) and PostgreSQL (scale path)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.contract import HandoffRequest
from bot.conversation.channel import BotMessage, InboundMessage
from bot.conversation.push import PushHub
from bot.conversation.rasa_client import RasaClient
from bot.conversation.service import ConversationService
from bot.conversation.store import open_store
from bot.knowledge.articles import KnowledgeStore
from bot.ops.processes import free_port
from bot.ops.settings import ROOT
from bot.storage.database import create_engine, migrate
from bot.storage.tables import Conversation, Message
from tests.bot.databases import BACKENDS, database_url


@pytest.fixture(params=BACKENDS)
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture()
async def service(url: str) -> AsyncIterator[ConversationService]:
    """A service whose engine is down (nothing listens on Rasa's port)."""
    store = await open_store(url)
    async with httpx.AsyncClient() as http:
        rasa = RasaClient(http, f"http://127.0.0.1:{free_port()}", "token", 2.0)
        knowledge = KnowledgeStore(ROOT / "data" / "knowledge")
        yield ConversationService(store, rasa, knowledge, PushHub())
    await store.close()


@pytest.fixture()
async def engine(url: str, service: ConversationService) -> AsyncIterator[AsyncEngine]:
    """An independent connection to the service's (migrated) database."""
    engine = create_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_migrations_are_idempotent(engine: AsyncEngine) -> None:
    await migrate(engine)
    async with engine.connect() as db:
        assert await db.scalar(select(func.count()).select_from(Conversation)) == 0


async def test_message_is_kept_as_failed_when_the_engine_is_down(
    service: ConversationService, engine: AsyncEngine
) -> None:
    replies = await service.handle(InboundMessage("webchat", "ana", "hola"))
    assert replies[0]["text"].startswith("Estamos teniendo problemas")
    async with engine.connect() as db:
        rows = (
            await db.execute(select(Message.direction, Message.status).order_by(Message.id))
        ).all()
    assert [tuple(r) for r in rows] == [("in", "failed"), ("out", "sent")]


async def test_first_messages_of_a_new_sender_racing_create_one_conversation(
    service: ConversationService, engine: AsyncEngine
) -> None:
    texts = [f"mensaje {i}" for i in range(8)]
    await asyncio.gather(*(service.handle(InboundMessage("webchat", "nuevo", t)) for t in texts))
    async with engine.connect() as db:
        assert await db.scalar(select(func.count()).select_from(Conversation)) == 1
    history = await service.history("webchat", "nuevo")
    assert sorted(h.text or "" for h in history if h.direction == "in") == sorted(texts)


async def test_history_is_per_channel_and_sender_in_order(service: ConversationService) -> None:
    await service.push("webchat", "ana", [{"text": "uno"}, {"text": "dos", "buttons": []}])
    await service.push("messenger", "ana", [{"text": "otro canal"}])
    history = await service.history("webchat", "ana")
    assert [h.text for h in history] == ["uno", "dos"]
    assert await service.history("webchat", "nadie") == []


def _engine_answering(replies: list[dict[str, object]]) -> httpx.MockTransport:
    """The engine's REST channel as the gateway sees it (the real one: tests/e2e)."""
    return httpx.MockTransport(lambda request: httpx.Response(200, json=replies))


async def test_clarifications_go_to_the_review_inbox_with_what_was_picked(url: str) -> None:
    # Rasa's REST channel sends the text and the custom report as two messages.
    prompt = {
        "recipient_id": "webchat:ana",
        "text": "¿Quisiste decir…?",
        "buttons": [{"title": "IGV", "payload": "/igv"}],
    }
    report = {
        "recipient_id": "webchat:ana",
        "custom": {
            "clarification": {
                "intents": [{"name": "nlu_fallback", "confidence": 0.7}],
                "offered": ["/igv", "/uit"],
            }
        },
    }
    store = await open_store(url)
    try:
        async with httpx.AsyncClient(transport=_engine_answering([prompt, report])) as http:
            rasa = RasaClient(http, "http://rasa.test", "token", 2.0)
            knowledge = KnowledgeStore(ROOT / "data" / "knowledge")
            service = ConversationService(store, rasa, knowledge, PushHub())
            replies = await service.handle(InboundMessage("webchat", "ana", "cuanto es el ivg"))
            assert replies == [prompt]  # channels never see the report
            [item] = await store.reviews(10)
            assert (item.text, item.offered, item.picked) == (
                "cuanto es el ivg", ["/igv", "/uit"], None,
            )  # fmt: skip
            assert item.intents == [{"name": "nlu_fallback", "confidence": 0.7}]
            await service.handle(InboundMessage("webchat", "ana", "/uit"))
            await service.handle(InboundMessage("webchat", "ana", "otra cosa"))
            first, second = sorted(await store.reviews(10), key=lambda r: r.id)[:2]
            assert first.picked == "/uit"
            assert second.text == "/uit" and second.picked == ""
    finally:
        await store.close()


async def test_an_idle_conversation_starts_a_new_engine_session(url: str) -> None:
    sent: list[str] = []

    def engine(request: httpx.Request) -> httpx.Response:
        message = json.loads(request.content)["message"]
        sent.append(message)
        return httpx.Response(200, json=[] if message == "/session_start" else [{"text": "ok"}])

    # The service's clock runs from the database's (its ``updated_at`` decides when the
    # gateway's own memory of the last activity is too old to tell).
    now = [dt.datetime.now(dt.UTC)]
    store = await open_store(url)
    try:
        async with httpx.AsyncClient(transport=httpx.MockTransport(engine)) as http:
            service = ConversationService(
                store, RasaClient(http, "http://rasa.test", "token", 2.0),
                KnowledgeStore(ROOT / "data" / "knowledge"), PushHub(),
                session_idle=dt.timedelta(minutes=30), clock=lambda: now[0],
            )  # fmt: skip
            await service.handle(InboundMessage("webchat", "ana", "mi ruc es 20100070970"))
            now[0] += dt.timedelta(minutes=29)
            await service.handle(InboundMessage("webchat", "ana", "y cuando declaro"))
            assert sent == ["mi ruc es 20100070970", "y cuando declaro"]
            now[0] += dt.timedelta(minutes=31)
            replies = await service.handle(InboundMessage("webchat", "ana", "hola de nuevo"))
            assert sent[2:] == ["/session_start", "hola de nuevo"]
            assert replies == [{"text": "ok"}]
            # The clock survives a restart of the gateway: it is the conversation's last write.
            restarted = ConversationService(
                store, RasaClient(http, "http://rasa.test", "token", 2.0),
                KnowledgeStore(ROOT / "data" / "knowledge"), PushHub(),
                session_idle=dt.timedelta(minutes=30),
                clock=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=2),
            )  # fmt: skip
            await restarted.handle(InboundMessage("webchat", "ana", "sigo aqui"))
            assert sent[4:] == ["/session_start", "sigo aqui"]
    finally:
        await store.close()


@pytest.mark.parametrize("channel", ["webchat", "messenger"])
async def test_answers_can_be_rated_and_a_thumbs_down_goes_to_the_inbox(
    url: str, channel: str
) -> None:
    sent: list[str] = []

    def engine(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content)["message"])
        return httpx.Response(200, json=[
            {"recipient_id": "x", "text": "El IGV es el impuesto general a las ventas."},
            {"recipient_id": "x", "custom": {"article": "igv"}},
        ])  # fmt: skip

    store = await open_store(url)
    try:
        async with httpx.AsyncClient(transport=httpx.MockTransport(engine)) as http:
            rasa = RasaClient(http, "http://rasa.test", "token", 2.0)
            service = ConversationService(
                store, rasa, KnowledgeStore(ROOT / "data" / "knowledge"), PushHub()
            )
            [answer] = await service.handle(InboundMessage(channel, "ana", "que es el igv"))
            if channel == "webchat":
                assert answer["custom"] == {"valorar": True} and "buttons" not in answer
            else:
                assert [b["payload"] for b in answer["buttons"]] == ["/valorar_si", "/valorar_no"]
            [thanks] = await service.handle(InboundMessage(channel, "ana", "/valorar_no"))
            assert thanks["text"].startswith("Gracias por avisarnos")
            assert sent == ["que es el igv"]  # the rating never reached the engine
            [item] = await store.reviews(10)
            assert (item.text, item.intents, item.source) == (
                "que es el igv", [{"name": "igv", "confidence": 1.0}], "feedback",
            )  # fmt: skip
            await service.handle(InboundMessage(channel, "ana", "que es el igv"))
            [glad] = await service.handle(InboundMessage(channel, "ana", "/valorar_si"))
            assert glad["text"].startswith("¡Gracias!")
            assert len(await store.reviews(10)) == 1  # a 👍 is not something to review
    finally:
        await store.close()


class Escalated:
    """A stand-in for the agents' desk (the service knows only ``Escalations``)."""

    def __init__(self) -> None:
        self.requests: list[tuple[int, str, HandoffRequest]] = []
        self.owned: set[int] = set()
        self.inbound: list[str] = []

    def owns(self, conversation_id: int) -> bool:
        return conversation_id in self.owned

    async def take_inbound(self, conversation_id: int, inbound: InboundMessage) -> list[BotMessage]:
        self.inbound.append(inbound.text)
        return []

    async def escalate(
        self, conversation_id: int, channel: str, request: HandoffRequest
    ) -> list[BotMessage]:
        self.requests.append((conversation_id, channel, request))
        self.owned.add(conversation_id)
        return [{"text": "Te comunico con un asesor."}]


async def test_the_engines_handoff_request_goes_to_the_escalations(url: str) -> None:
    sent: list[str] = []

    def engine(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content)["message"])
        return httpx.Response(200, json=[
            {"recipient_id": "x", "text": "Un momento."},
            {"recipient_id": "x", "custom": {"handoff": {
                "reason": "pedido", "team": "orientacion", "intent": "pedir_humano",
                "confidence": 0.97}}},
        ])  # fmt: skip

    desk = Escalated()
    store = await open_store(url)
    try:
        async with httpx.AsyncClient(transport=httpx.MockTransport(engine)) as http:
            rasa = RasaClient(http, "http://rasa.test", "token", 2.0)
            knowledge = KnowledgeStore(ROOT / "data" / "knowledge")
            service = ConversationService(store, rasa, knowledge, PushHub(), desk=desk)
            replies = await service.handle(InboundMessage("webchat", "ana", "quiero un asesor"))
            assert [r["text"] for r in replies] == ["Un momento.", "Te comunico con un asesor."]
            [(conversation, channel, request)] = desk.requests
            assert channel == "webchat"
            assert request == HandoffRequest("pedido", "orientacion", "pedir_humano", 0.97)
            # People own the conversation now: the citizen's next message goes to them.
            assert await service.handle(InboundMessage("webchat", "ana", "hola?")) == []
            assert desk.inbound == ["hola?"] and sent == ["quiero un asesor"]
            assert conversation == await service.conversation_id("webchat", "ana")
    finally:
        await store.close()


async def test_a_question_answered_with_an_article_keeps_it_as_its_topic(
    url: str, engine: AsyncEngine
) -> None:
    """The dashboard's top topics: the article the engine answered with, on the question."""

    def rasa(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content)["message"] == "que es el igv":
            return httpx.Response(200, json=[
                {"recipient_id": "x", "text": "El IGV es el impuesto general a las ventas."},
                {"recipient_id": "x", "custom": {"article": "igv"}},
            ])  # fmt: skip
        return httpx.Response(200, json=[{"recipient_id": "x", "text": "¡Hola!"}])

    store = await open_store(url)
    try:
        async with httpx.AsyncClient(transport=httpx.MockTransport(rasa)) as http:
            client = RasaClient(http, "http://rasa.test", "token", 2.0)
            knowledge = KnowledgeStore(ROOT / "data" / "knowledge")
            service = ConversationService(store, client, knowledge, PushHub())
            await service.handle(InboundMessage("webchat", "ana", "hola"))
            await service.handle(InboundMessage("webchat", "ana", "que es el igv"))
    finally:
        await store.close()
    stored = select(Message.direction, Message.text, Message.topic).order_by(Message.id)
    async with engine.connect() as db:
        rows = (await db.execute(stored)).all()
    assert [tuple(r) for r in rows] == [
        ("in", "hola", None),
        ("out", "¡Hola!", None),
        ("in", "que es el igv", "igv"),
        ("out", "El IGV es el impuesto general a las ventas.", None),
    ]
