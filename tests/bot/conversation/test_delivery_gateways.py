"""Several gateways on one database (SQLite file, the real PostgreSQL): each message answered
and each reply sent exactly once, in order per conversation; a killed gateway's work taken over
when its leases expire; a retry made by whichever gateway holds the conversation then."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

from bot.conversation.channel import BotMessage, InboundMessage, PlatformChannel, SendError
from bot.conversation.delivery import Delivery
from bot.conversation.push import PushHub
from bot.conversation.rasa_client import RasaClient
from bot.conversation.service import ConversationService
from bot.conversation.store import open_store
from bot.knowledge.articles import KnowledgeStore
from bot.ops.settings import ROOT

KNOWLEDGE = KnowledgeStore(ROOT / "data" / "knowledge")


class Platform:
    """The platform's side: every send any gateway made, in the order it took them."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []  # (gateway, recipient, text)
        self.seen_by_engine: list[str] = []

    def texts_to(self, recipient: str) -> list[str]:
        return [text for _, to, text in self.sent if to == recipient]


class RecordingChannel(PlatformChannel):
    """A platform channel of one gateway: webhooks are lists of (sender, id, text); a send may
    fail (``failures`` retryable errors first) or hang forever (``hang``: the gateway dies)."""

    name = "messenger"

    def __init__(self, gateway: str, platform: Platform) -> None:
        self.gateway = gateway
        self.platform = platform
        self.failures = 0
        self.attempts = 0
        self.hang = False
        self.hanging = asyncio.Event()

    def verify(self, body: bytes, headers: Mapping[str, str], url: str) -> None:
        return None

    def parse(self, payload: Any) -> list[InboundMessage]:
        return [
            InboundMessage(self.name, sender, text, {}, f"messenger:{mid}")
            for sender, mid, text in payload
        ]

    def render(self, messages: list[BotMessage], recipient_id: str) -> list[dict[str, Any]]:
        return list(messages)

    async def send(self, recipient_id: str, message: BotMessage, within_window: bool) -> str:
        self.attempts += 1
        if self.hang:
            self.hanging.set()
            await asyncio.Event().wait()  # killed before the platform took it
        await asyncio.sleep(random.uniform(0, 0.003))
        if self.failures:
            self.failures -= 1
            raise SendError("HTTP 503", retryable=True)
        self.platform.sent.append((self.gateway, recipient_id, message["text"]))
        return f"m_{len(self.platform.sent)}"


@asynccontextmanager
async def gateway(
    url: str, name: str, platform: Platform, lease: float = 5.0
) -> AsyncIterator[Delivery]:
    """One gateway process: its own store (connections), engine client and delivery."""

    def engine(request: httpx.Request) -> httpx.Response:
        message = json.loads(request.content)["message"]
        platform.seen_by_engine.append(message)
        return httpx.Response(200, json=[{"text": f"respuesta a {message}"}])

    store = await open_store(url)
    http = httpx.AsyncClient(transport=httpx.MockTransport(engine))
    service = ConversationService(
        store, RasaClient(http, "http://rasa.test", "t", 2.0), KNOWLEDGE, PushHub()
    )
    channel = RecordingChannel(name, platform)
    delivery = Delivery(
        service, store, KNOWLEDGE, {channel.name: channel}, max_attempts=5, retry_seconds=0.05,
        lease_seconds=lease, sweep_seconds=0.05,
    )  # fmt: skip
    try:
        yield delivery
    finally:
        await delivery.close()
        await http.aclose()
        await store.close()


def channel_of(delivery: Delivery) -> RecordingChannel:
    channel = delivery.channels["messenger"]
    assert isinstance(channel, RecordingChannel)
    return channel


async def eventually(condition: Callable[[], bool], timeout: float = 30) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), timeout)


async def test_a_burst_through_two_gateways_is_answered_once_and_in_order(url: str) -> None:
    platform = Platform()
    conversations, turns = 25, 5
    async with gateway(url, "a", platform) as a, gateway(url, "b", platform) as b:
        await a.resume()
        await b.resume()

        async def citizen(number: int) -> None:
            # The platform sends one citizen's messages in order, each to either gateway.
            for turn in range(turns):
                to = random.choice([a, b])
                body = [(f"c{number}", f"c{number}-{turn}", f"c{number}-{turn}")]
                assert await to.accept(to.channels["messenger"], body) == (1, 0)
                if random.random() < 0.3:  # and redelivers some
                    other = b if to is a else a
                    assert await other.accept(other.channels["messenger"], body) == (0, 1)

        await asyncio.gather(*(citizen(n) for n in range(conversations)))
        await eventually(lambda: len(platform.sent) >= conversations * turns)
        await a.idle()
        await b.idle()
        await asyncio.sleep(0.2)  # a few sweeps more: nothing else is sent
    assert len(platform.sent) == conversations * turns
    assert sorted(platform.seen_by_engine) == sorted(
        f"c{n}-{t}" for n in range(conversations) for t in range(turns)
    )
    for n in range(conversations):
        assert platform.texts_to(f"c{n}") == [f"respuesta a c{n}-{t}" for t in range(turns)]
    assert {g for g, _, _ in platform.sent} == {"a", "b"}  # both worked


async def test_a_killed_gateways_work_is_taken_over_after_its_lease(url: str) -> None:
    platform = Platform()
    async with gateway(url, "a", platform, lease=1.0) as a, gateway(url, "b", platform) as b:
        await b.resume()
        channel_of(a).hang = True
        body = [("ana", "m1", "uno"), ("ana", "m2", "dos"), ("ana", "m3", "tres")]
        assert await a.accept(a.channels["messenger"], body) == (3, 0)
        await asyncio.wait_for(channel_of(a).hanging.wait(), 10)
        # More of the conversation reaches the other gateway while the first one holds it.
        assert await b.accept(b.channels["messenger"], [("ana", "m4", "cuatro")]) == (1, 0)
        await asyncio.sleep(0.3)
        assert platform.sent == []  # the lease is the dead gateway's until it expires
        await a.close(release=False)  # kill -9: nothing given back
        await eventually(lambda: len(platform.sent) == 4, timeout=15)
        await b.idle()
        await asyncio.sleep(0.2)
    assert platform.texts_to("ana") == [
        "respuesta a uno", "respuesta a dos", "respuesta a tres", "respuesta a cuatro",
    ]  # fmt: skip
    assert {g for g, _, _ in platform.sent} == {"b"}
    # What the dead gateway had answered is not asked again.
    assert sorted(platform.seen_by_engine) == ["cuatro", "dos", "tres", "uno"]


async def test_a_retry_is_made_by_whichever_gateway_holds_the_conversation(url: str) -> None:
    platform = Platform()
    async with gateway(url, "a", platform) as a, gateway(url, "b", platform) as b:
        await b.resume()
        channel_of(a).failures = 1
        a._retry_seconds = 0.5  # its retry is due in about 0.25 to 0.75 s
        assert await a.accept(a.channels["messenger"], [("ana", "m1", "uno")]) == (1, 0)
        await eventually(lambda: channel_of(a).attempts == 1)
        # Backing off: the lease was given back, the retry time is stored, a wake-up waits.
        await eventually(lambda: not a._workers and bool(a._timers))
        await a.close(release=False)
        await eventually(lambda: len(platform.sent) == 1, timeout=10)
        await b.idle()
    assert platform.sent == [("b", "ana", "respuesta a uno")]
    assert (channel_of(a).attempts, channel_of(b).attempts) == (1, 1)
