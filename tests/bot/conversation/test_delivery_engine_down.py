"""Platform messages while the engine is down: they wait (stored, not answered with the notice)
and are answered exactly once when it is back; other conversations' sends go on meanwhile."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from bot.conversation.delivery import Delivery
from bot.conversation.push import PushHub
from bot.conversation.rasa_client import RasaClient
from bot.conversation.service import ConversationService
from bot.conversation.store import ConversationStore, open_store
from bot.knowledge.articles import KnowledgeStore
from bot.ops.settings import ROOT
from connectors.messenger import MessengerChannel
from tests.fakes.graph_api import FakeGraphApi

KNOWLEDGE = KnowledgeStore(ROOT / "data" / "knowledge")
NOTICE = KNOWLEDGE.current.require("error_servicio").answer


def webhook(sender: str, mid: str, body: str) -> dict[str, object]:
    return {"object": "page", "entry": [{"id": "PAGE", "time": 1, "messaging": [
        {"sender": {"id": sender}, "recipient": {"id": "PAGE"}, "timestamp": 1,
         "message": {"mid": mid, "text": body}}]}]}  # fmt: skip


class FlakyEngine:
    """Rasa's REST channel, unreachable until ``up`` is set; then it echoes the message."""

    def __init__(self) -> None:
        self.up = asyncio.Event()
        self.refused = 0
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if not self.up.is_set():
            self.refused += 1
            raise httpx.ConnectError("connection refused", request=request)
        message = json.loads(request.content)["message"]
        self.seen.append(message)
        return httpx.Response(200, json=[{"text": f"respuesta a {message}"}])


@pytest.fixture()
async def store(tmp_path: Path) -> AsyncIterator[ConversationStore]:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    yield store
    await store.close()


def delivery_for(
    store: ConversationStore, graph: FakeGraphApi, engine: FlakyEngine, http: httpx.AsyncClient
) -> Delivery:
    rasa = RasaClient(httpx.AsyncClient(transport=httpx.MockTransport(engine)), "http://r", "t", 2)
    service = ConversationService(store, rasa, KNOWLEDGE, PushHub())
    channel = MessengerChannel(http, graph.url, "page-token", "secret")
    return Delivery(
        service, store, KNOWLEDGE, {channel.name: channel}, max_attempts=2, retry_seconds=0.02,
        concurrency=1,
    )  # fmt: skip


async def eventually(condition: Callable[[], bool], timeout: float = 10) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), timeout)


def rows(db_path: Path) -> list[tuple[str, str, str]]:
    db = sqlite3.connect(db_path)
    try:
        return db.execute("SELECT direction, status, text FROM messages ORDER BY id").fetchall()
    finally:
        db.close()


async def test_messages_wait_for_the_engine_and_are_answered_once_in_order(
    store: ConversationStore, graph: FakeGraphApi, tmp_path: Path
) -> None:
    engine = FlakyEngine()
    async with httpx.AsyncClient() as http:
        delivery = delivery_for(store, graph, engine, http)
        channel = delivery.channels["messenger"]
        for mid, body in (("m_1", "uno"), ("m_2", "dos")):
            assert await delivery.accept(channel, webhook("7", mid, body)) == (1, 0)
        # Far more attempts than ``max_attempts`` (2): an engine outage is waited out.
        await eventually(lambda: engine.refused >= 5)
        assert await delivery.accept(channel, webhook("7", "m_1", "uno")) == (0, 1)  # redelivery
        assert graph.messages() == []  # no notice: the answer is coming
        assert [r[:2] for r in rows(tmp_path / "gateway.db")] == [("in", "received")] * 2
        engine.up.set()
        await delivery.idle()
    assert engine.seen == ["uno", "dos"]
    assert [m["message"]["text"] for m in graph.messages()] == [
        "respuesta a uno",
        "respuesta a dos",
    ]
    assert [r[:2] for r in rows(tmp_path / "gateway.db")] == [
        ("in", "answered"), ("in", "answered"), ("out", "sent"), ("out", "sent"),
    ]  # fmt: skip
    assert all(NOTICE not in r[2] for r in rows(tmp_path / "gateway.db"))


async def test_a_message_waiting_for_the_engine_holds_up_no_other_conversation(
    store: ConversationStore, graph: FakeGraphApi
) -> None:
    engine = FlakyEngine()
    async with httpx.AsyncClient() as http:
        delivery = delivery_for(store, graph, engine, http)  # one job at a time
        await delivery.accept(delivery.channels["messenger"], webhook("7", "m_1", "uno"))
        await eventually(lambda: engine.refused >= 2)
        other = await delivery._service.conversation_id("messenger", "8")
        hola = await store.accept_inbound(other, "hola", None, "m_9")  # opens the window
        assert hola is not None
        await store.record_outcome(hola, "to_agent", other, [])  # an agent's conversation
        assert await delivery.send_later(other, "messenger", [{"text": "un agente"}], True)
        await eventually(lambda: len(graph.messages()) == 1)
        assert graph.messages()[0]["recipient"] == {"id": "8"} and engine.seen == []
        engine.up.set()
        await delivery.idle()
    assert [m["message"]["text"] for m in graph.messages()] == ["un agente", "respuesta a uno"]


class SlowEngine:
    """Rasa takes the message, then answers too late (a read timeout after it was sent)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        message = json.loads(request.content)["message"]
        self.seen.append(message)
        if message == "lento":
            raise httpx.ReadTimeout("too slow", request=request)
        return httpx.Response(200, json=[{"text": f"respuesta a {message}"}])


async def test_a_message_the_engine_took_and_failed_on_is_not_sent_again(
    store: ConversationStore, graph: FakeGraphApi, tmp_path: Path
) -> None:
    engine = SlowEngine()
    async with httpx.AsyncClient() as http:
        delivery = delivery_for(store, graph, engine, http)  # type: ignore[arg-type]
        channel = delivery.channels["messenger"]
        for mid, body in (("m_1", "lento"), ("m_2", "dos")):
            assert await delivery.accept(channel, webhook("7", mid, body)) == (1, 0)
        await eventually(lambda: len(graph.messages()) == 2)
        await delivery.idle()
    # Sent to Rasa once (again would repeat it in the tracker); the citizen got the notice and
    # the conversation went on.
    assert engine.seen == ["lento", "dos"]
    texts = [m["message"]["text"] for m in graph.messages()]
    assert texts[0] == NOTICE and texts[1] == "respuesta a dos"
