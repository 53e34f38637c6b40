"""The delivery of platform channels, with the real Messenger adapter against a local fake of
the Graph API (a real HTTP server) and the engine's answers given by the test."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.conversation.channel import PlatformChannel
from bot.conversation.delivery import Delivery
from bot.conversation.push import PushHub
from bot.conversation.rasa_client import RasaClient
from bot.conversation.service import ConversationService
from bot.conversation.store import ConversationStore, Outbound, open_store
from bot.knowledge.articles import KnowledgeStore
from bot.ops.settings import ROOT
from bot.storage.time import utcnow
from connectors.messenger import MessengerChannel
from connectors.twilio import TwilioChannel
from connectors.whatsapp import WhatsAppChannel
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.twilio_api import FakeTwilioApi

KNOWLEDGE = KnowledgeStore(ROOT / "data" / "knowledge")


def webhook(*events: dict[str, object]) -> dict[str, object]:
    return {"object": "page", "entry": [{"id": "PAGE", "time": 1, "messaging": list(events)}]}


def text(sender: str, mid: str, body: str) -> dict[str, object]:
    return {"sender": {"id": sender}, "recipient": {"id": "PAGE"}, "timestamp": 1,
            "message": {"mid": mid, "text": body}}  # fmt: skip


class Engine:
    """Rasa's REST channel as the gateway sees it: echoes the message as the answer."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        message = json.loads(request.content)["message"]
        self.seen.append(message)
        return httpx.Response(200, json=[{"text": f"respuesta a {message}"}])


@pytest.fixture()
async def store(tmp_path: Path) -> AsyncIterator[ConversationStore]:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    yield store
    await store.close()


def delivery_with(
    store: ConversationStore, channel: PlatformChannel, engine: Engine,
    clock: list[dt.datetime] | None = None,
) -> Delivery:  # fmt: skip
    """A delivery for one channel, the engine's answers given by ``engine`` and, when given,
    the time read from ``clock[0]``."""
    rasa_http = httpx.AsyncClient(transport=httpx.MockTransport(engine))
    service = ConversationService(
        store, RasaClient(rasa_http, "http://rasa.test", "t", 2.0), KNOWLEDGE, PushHub()
    )
    now = clock or []
    return Delivery(
        service, store, KNOWLEDGE, {channel.name: channel}, max_attempts=4, retry_seconds=0.05,
        clock=(lambda: now[0]) if now else utcnow,
    )  # fmt: skip


def delivery_for(
    store: ConversationStore, graph: FakeGraphApi, engine: Engine, http: httpx.AsyncClient,
    clock: list[dt.datetime] | None = None,
) -> Delivery:  # fmt: skip
    channel = MessengerChannel(http, graph.url, "page-token", "secret")
    return delivery_with(store, channel, engine, clock)


def statuses(db_path: Path) -> list[tuple[str, str, str | None]]:
    db = sqlite3.connect(db_path)
    try:
        return db.execute("SELECT direction, status, error FROM messages ORDER BY id").fetchall()
    finally:
        db.close()


async def test_answers_in_order_and_a_redelivery_is_answered_once(
    store: ConversationStore, graph: FakeGraphApi, tmp_path: Path
) -> None:
    engine = Engine()
    async with httpx.AsyncClient() as http:
        delivery = delivery_for(store, graph, engine, http)
        batch = webhook(text("111", "m_1", "uno"), text("111", "m_2", "dos"))
        assert await delivery.accept(delivery.channels["messenger"], batch) == (2, 0)
        for _ in range(2):  # Meta redelivers the same batch
            assert await delivery.accept(delivery.channels["messenger"], batch) == (0, 2)
        await delivery.idle()
    sent = graph.messages()
    assert [m["message"]["text"] for m in sent] == ["respuesta a uno", "respuesta a dos"]
    assert all(m["messaging_type"] == "RESPONSE" and m["recipient"]["id"] == "111" for m in sent)
    assert engine.seen == ["uno", "dos"]
    actions = [c.body.get("sender_action") for c in graph.calls if "sender_action" in c.body]
    assert actions[:2] == ["mark_seen", "typing_on"]
    assert [s[:2] for s in statuses(tmp_path / "gateway.db")] == [
        ("in", "answered"), ("in", "answered"), ("out", "sent"), ("out", "sent"),
    ]  # fmt: skip
    assert all(c.query == {"access_token": "page-token"} for c in graph.calls)


@pytest.mark.parametrize(("status", "code"), [(500, None), (429, None), (400, 613)])
async def test_temporary_errors_are_retried(
    store: ConversationStore, graph: FakeGraphApi, tmp_path: Path, status: int, code: int | None
) -> None:
    graph.fail_next(2, status, code)
    async with httpx.AsyncClient() as http:
        delivery = delivery_for(store, graph, Engine(), http)
        await delivery.accept(delivery.channels["messenger"], webhook(text("1", "m_1", "hola")))
        await delivery.idle()
        await delivery.close()
    assert len(graph.messages()) == 3  # two failures, then the success
    assert statuses(tmp_path / "gateway.db")[-1][:2] == ("out", "sent")


@pytest.mark.parametrize("code", [551, 100, 190])
async def test_permanent_errors_are_not_retried_and_the_reason_is_kept(
    store: ConversationStore, graph: FakeGraphApi, tmp_path: Path, code: int
) -> None:
    graph.fail_next(1, 400, code)
    async with httpx.AsyncClient() as http:
        delivery = delivery_for(store, graph, Engine(), http)
        await delivery.accept(delivery.channels["messenger"], webhook(text("1", "m_1", "hola")))
        await delivery.idle()
    assert len(graph.messages()) == 1
    assert statuses(tmp_path / "gateway.db")[-1] == ("out", "failed", f"HTTP 400, code {code}")


async def test_giving_up_after_the_last_attempt(
    store: ConversationStore, graph: FakeGraphApi, tmp_path: Path
) -> None:
    graph.fail_next(10, 503)
    async with httpx.AsyncClient() as http:
        delivery = delivery_for(store, graph, Engine(), http)
        await delivery.accept(delivery.channels["messenger"], webhook(text("1", "m_1", "hola")))
        await delivery.idle()
    assert len(graph.messages()) == 4  # max_attempts
    assert statuses(tmp_path / "gateway.db")[-1][:2] == ("out", "failed")


async def test_outside_the_24_hour_window_nothing_is_sent(
    store: ConversationStore, graph: FakeGraphApi, tmp_path: Path
) -> None:
    clock = [dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)]
    async with httpx.AsyncClient() as http:
        delivery = delivery_for(store, graph, Engine(), http, clock)
        await delivery.accept(delivery.channels["messenger"], webhook(text("1", "m_1", "hola")))
        await delivery.idle()
    assert graph.messages() == []
    assert statuses(tmp_path / "gateway.db")[-1] == (
        "out",
        "not_sent",
        "outside the 24-hour window",
    )


async def test_what_was_acknowledged_is_answered_after_a_restart_exactly_once(
    store: ConversationStore, graph: FakeGraphApi, tmp_path: Path
) -> None:
    graph.fail_next(100, 500)  # the platform is down: the answer stays in the outbox
    async with httpx.AsyncClient() as http:
        first = delivery_for(store, graph, Engine(), http)
        await first.accept(first.channels["messenger"], webhook(text("1", "m_1", "hola")))
        while not graph.messages():
            await asyncio.sleep(0.02)
        await first.close()  # the gateway stops
        graph.failures.clear()
        calls_before = len(graph.messages())
        engine = Engine()
        second = delivery_for(store, graph, engine, http)  # and starts again
        await second.resume()
        await second.idle()
        await second.resume()  # nothing left: resuming again sends nothing
        await second.idle()
    assert engine.seen == []  # already answered: not asked again
    assert len(graph.messages()) - calls_before == 1
    assert statuses(tmp_path / "gateway.db")[-1][:2] == ("out", "sent")


async def test_receipts_and_attachments(
    store: ConversationStore, graph: FakeGraphApi, tmp_path: Path
) -> None:
    async with httpx.AsyncClient() as http:
        delivery = delivery_for(store, graph, Engine(), http)
        channel = delivery.channels["messenger"]
        photo = {
            "sender": {"id": "1"},
            "recipient": {"id": "PAGE"},
            "timestamp": 1,
            "message": {"mid": "m_9", "attachments": [{"type": "audio", "payload": {}}]},
        }
        await delivery.accept(channel, webhook(photo))  # fmt: skip
        await delivery.idle()
        [sent] = graph.messages()
        assert "solo puedo leer mensajes de texto" in json.dumps(sent, ensure_ascii=False)
        mid = "m_fake1"
        delivered = {"sender": {"id": "1"}, "recipient": {"id": "PAGE"}, "timestamp": 2,
                     "delivery": {"mids": [mid], "watermark": 2}}  # fmt: skip
        await delivery.accept(channel, webhook(delivered))
        assert statuses(tmp_path / "gateway.db")[-1][:2] == ("out", "delivered")
        read = {
            "sender": {"id": "1"},
            "recipient": {"id": "PAGE"},
            "timestamp": 3,
            "read": {"watermark": int(dt.datetime.now(dt.UTC).timestamp() * 1000) + 1000},
        }
        await delivery.accept(channel, webhook(read))  # fmt: skip
        assert statuses(tmp_path / "gateway.db")[-1][:2] == ("out", "read")


# --- WhatsApp Cloud API ------------------------------------------------------------------------


def wa_webhook(*messages: dict[str, object]) -> dict[str, object]:
    return {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [
        {"field": "messages", "value": {"messaging_product": "whatsapp",
                                         "messages": list(messages)}}]}]}  # fmt: skip


def wa_text(sender: str, wamid: str, body: str, ts: int = 1) -> dict[str, object]:
    return {"from": sender, "id": wamid, "timestamp": str(ts), "type": "text",
            "text": {"body": body}}  # fmt: skip


def whatsapp_delivery(
    store: ConversationStore, graph: FakeGraphApi, engine: Engine, http: httpx.AsyncClient
) -> Delivery:
    channel = WhatsAppChannel(http, graph.url, "PHONE1", "wa-token", "secret")
    return delivery_with(store, channel, engine)


async def test_whatsapp_answers_are_sent_and_incoming_marked_read(
    store: ConversationStore, graph: FakeGraphApi, tmp_path: Path
) -> None:
    async with httpx.AsyncClient() as http:
        delivery = whatsapp_delivery(store, graph, Engine(), http)
        channel = delivery.channels["whatsapp"]
        batch = wa_webhook(
            wa_text("51999", "wamid.2", "dos", 20), wa_text("51999", "wamid.1", "uno", 10)
        )
        assert await delivery.accept(channel, batch) == (2, 0)
        assert await delivery.accept(channel, batch) == (0, 2)
        await delivery.idle()
    sent = graph.whatsapp_messages()
    assert [m["text"]["body"] for m in sent] == ["respuesta a uno", "respuesta a dos"]
    assert all(m["to"] == "51999" and m["messaging_product"] == "whatsapp" for m in sent)
    reads = [c.body["message_id"] for c in graph.calls if c.body.get("status") == "read"]
    assert reads == ["wamid.1", "wamid.2"]
    assert {c.query["authorization"] for c in graph.calls} == {"Bearer wa-token"}
    assert [s[1] for s in statuses(tmp_path / "gateway.db")][-2:] == ["sent", "sent"]


@pytest.mark.parametrize(
    ("code", "final", "calls"),
    [(131047, "not_sent", 1), (130429, "sent", 2), (131056, "sent", 2), (131026, "failed", 1)],
)
async def test_whatsapp_errors(
    store: ConversationStore, graph: FakeGraphApi, tmp_path: Path, code: int, final: str,
    calls: int,
) -> None:  # fmt: skip
    graph.fail_next(1, 400, code)
    async with httpx.AsyncClient() as http:
        delivery = whatsapp_delivery(store, graph, Engine(), http)
        await delivery.accept(
            delivery.channels["whatsapp"], wa_webhook(wa_text("5", "wamid.1", "x"))
        )
        await delivery.idle()
    assert len(graph.whatsapp_messages()) == calls
    assert statuses(tmp_path / "gateway.db")[-1][1] == final


# --- Twilio ------------------------------------------------------------------------------------


def twilio_delivery(
    store: ConversationStore, api: FakeTwilioApi, engine: Engine, http: httpx.AsyncClient
) -> Delivery:
    channel = TwilioChannel(http, api.url, "AC1", "tw-token", "whatsapp:+14155238886")
    return delivery_with(store, channel, engine)


def twilio_form(sid: str, body: str) -> dict[str, str]:
    return {"From": "whatsapp:+51999", "To": "whatsapp:+14155238886", "Body": body,
            "MessageSid": sid, "NumMedia": "0", "ProfileName": "Rosa"}  # fmt: skip


async def test_twilio_answers_once_per_message_sid(
    store: ConversationStore, twilio_api: FakeTwilioApi, tmp_path: Path
) -> None:
    async with httpx.AsyncClient() as http:
        delivery = twilio_delivery(store, twilio_api, Engine(), http)
        channel = delivery.channels["twilio"]
        for _ in range(3):
            await delivery.accept(channel, twilio_form("SM1", "hola"))
        await delivery.idle()
    assert twilio_api.messages == [
        {"From": "whatsapp:+14155238886", "To": "whatsapp:+51999", "Body": "respuesta a hola"}
    ]
    assert twilio_api.auth[0].startswith("Basic ")
    assert statuses(tmp_path / "gateway.db")[-1][:2] == ("out", "sent")


@pytest.mark.parametrize(
    ("status", "code", "final", "calls"),
    [(429, 20429, "sent", 2), (503, None, "sent", 2), (400, 63016, "not_sent", 1),
     (400, 21211, "failed", 1)],
)  # fmt: skip
async def test_twilio_errors(
    store: ConversationStore, twilio_api: FakeTwilioApi, tmp_path: Path, status: int,
    code: int | None, final: str, calls: int,
) -> None:  # fmt: skip
    twilio_api.fail_next(1, status, code)
    async with httpx.AsyncClient() as http:
        delivery = twilio_delivery(store, twilio_api, Engine(), http)
        await delivery.accept(delivery.channels["twilio"], twilio_form("SM1", "hola"))
        await delivery.idle()
    assert len(twilio_api.messages) == calls
    assert statuses(tmp_path / "gateway.db")[-1][1] == final


async def test_whatsapp_outside_the_window_sends_the_configured_template_once(
    store: ConversationStore, graph: FakeGraphApi, tmp_path: Path
) -> None:
    later = [dt.datetime.now(dt.UTC) + dt.timedelta(hours=30)]
    async with httpx.AsyncClient() as http:
        channel = WhatsAppChannel(http, graph.url, "PHONE1", "tok", "s", "seguimos_en_contacto")
        delivery = delivery_with(store, channel, Engine(), later)
        two = wa_webhook(wa_text("51999", "wamid.1", "uno"), wa_text("51999", "wamid.2", "dos"))
        await delivery.accept(channel, two)
        await delivery.idle()
    sent = graph.whatsapp_messages()
    assert [m["type"] for m in sent] == ["template"]  # one invitation, not one per reply
    assert sent[0]["template"] == {"name": "seguimos_en_contacto", "language": {"code": "es"}}
    rows = statuses(tmp_path / "gateway.db")
    assert rows[-2:] == [
        ("out", "not_sent", "outside the 24-hour window; re-engagement template sent"),
        ("out", "not_sent", "outside the 24-hour window"),
    ]


async def test_a_message_stored_but_not_answered_is_answered_after_a_restart(
    store: ConversationStore, graph: FakeGraphApi, tmp_path: Path
) -> None:
    async with httpx.AsyncClient() as http:
        first = delivery_for(store, graph, Engine(), http)
        # The gateway stored the message (the 200 went out) and stopped before answering.
        conversation = await store.open_conversation("messenger", "7")
        await store.accept_inbound(conversation, "hola", None, "messenger:m_lost")
        engine = Engine()
        second = delivery_for(store, graph, engine, http)
        await second.resume()
        await second.idle()
        await first.close()
    assert engine.seen == ["hola"]
    assert [m["message"]["text"] for m in graph.messages()] == ["respuesta a hola"]


async def test_a_reply_backing_off_is_not_resent_early_by_a_new_message(
    store: ConversationStore, graph: FakeGraphApi, tmp_path: Path
) -> None:
    graph.fail_next(1, 500)
    async with httpx.AsyncClient() as http:
        delivery = delivery_for(store, graph, Engine(), http)
        delivery._retry_seconds = 0.5  # the first retry waits about 0.25 to 0.75 s
        channel = delivery.channels["messenger"]
        await delivery.accept(channel, webhook(text("1", "m_1", "uno")))
        while not graph.messages():
            await asyncio.sleep(0.01)
        await delivery.accept(channel, webhook(text("1", "m_2", "dos")))
        await asyncio.sleep(0.15)
        assert len(graph.messages()) == 1  # still backing off: nothing sent early
        await delivery.idle()
    assert [m["message"]["text"] for m in graph.messages()] == [
        "respuesta a uno", "respuesta a uno", "respuesta a dos",
    ]  # fmt: skip


@pytest.mark.parametrize(("days", "sent"), [(3, True), (8, False)])
async def test_a_human_agent_may_write_for_seven_days_with_the_human_agent_tag(
    store: ConversationStore, graph: FakeGraphApi, tmp_path: Path, days: int, sent: bool
) -> None:
    clock = [dt.datetime.now(dt.UTC) + dt.timedelta(days=days)]
    async with httpx.AsyncClient() as http:
        delivery = delivery_for(store, graph, Engine(), http, clock)
        conversation = await store.open_conversation("messenger", "9")
        message_id = await store.accept_inbound(conversation, "hola", None, "messenger:m_old")
        assert message_id is not None
        await store.record_outcome(message_id, "answered", conversation, [])
        reply = Outbound("Hola, soy Ana, asesora de SUNAT.", {"agent": True})
        bot = Outbound("Respuesta automática", None)
        await store.record_outbound(conversation, [reply, bot], status="pending")
        await delivery.resume()
        await delivery.idle()
    messages = graph.messages()
    rows = statuses(tmp_path / "gateway.db")
    if sent:
        [message] = messages
        assert message["messaging_type"] == "MESSAGE_TAG" and message["tag"] == "HUMAN_AGENT"
        assert message["message"] == {"text": "Hola, soy Ana, asesora de SUNAT."}  # no marker
        assert [r[1] for r in rows[-2:]] == ["sent", "not_sent"]  # the bot may not
    else:
        assert messages == []
        assert [r[1] for r in rows[-2:]] == ["not_sent", "not_sent"]


async def test_on_whatsapp_an_agent_follows_the_24_hour_window_with_a_template(
    store: ConversationStore, graph: FakeGraphApi, tmp_path: Path
) -> None:
    later = [dt.datetime.now(dt.UTC) + dt.timedelta(days=3)]
    async with httpx.AsyncClient() as http:
        channel = WhatsAppChannel(http, graph.url, "PHONE1", "tok", "s", "seguimos_en_contacto")
        delivery = delivery_with(store, channel, Engine(), later)
        conversation = await store.open_conversation("whatsapp", "51999")
        message_id = await store.accept_inbound(conversation, "hola", None, "whatsapp:wamid.9")
        assert message_id is not None
        await store.record_outcome(message_id, "answered", conversation, [])
        sent = await delivery.send_later(
            conversation, "whatsapp", [{"text": "Hola, soy Ana"}], agent=True
        )
        assert sent is True
        await delivery.idle()
        # A channel that is off records the message as failed instead of losing it.
        assert await delivery.send_later(conversation, "messenger", [{"text": "x"}], True) is False
    assert [m["type"] for m in graph.whatsapp_messages()] == ["template"]
    rows = statuses(tmp_path / "gateway.db")
    assert [r[1] for r in rows[-2:]] == ["not_sent", "failed"]
