from __future__ import annotations

import asyncio
import json

import httpx
import uvicorn

from bot.conversation.push import QUEUE_SIZE, RESYNC, PushHub
from bot.ops.processes import free_port
from bot.ops.settings import Settings
from bot.storage.bus import LocalBus, LocalGroup
from bot.web.app import create_app
from tests.integrator import HEADERS


def test_publish_reaches_only_subscribers_of_the_key() -> None:
    hub = PushHub()
    a, b = hub.subscribe("webchat:a"), hub.subscribe("webchat:b")
    assert hub.publish("webchat:a", {"text": "hola"}) == 1
    assert a.get_nowait() == {"text": "hola"}
    assert b.empty()
    hub.unsubscribe("webchat:a", a)
    assert hub.publish("webchat:a", {"text": "otra"}) == 0


def test_slow_subscriber_keeps_the_newest_messages() -> None:
    hub = PushHub()
    queue = hub.subscribe("k")
    for i in range(QUEUE_SIZE + 5):
        hub.publish("k", {"text": str(i)})
    assert queue.qsize() == QUEUE_SIZE
    assert queue.get_nowait() == {"text": "5"}


async def test_later_messages_reach_the_open_page_over_sse(settings: Settings) -> None:
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http,
            http.stream(
                "GET", "/webchat/stream", params={"sender": "ana"}, headers=HEADERS
            ) as stream,
        ):
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            assert await anext(lines) == ": connected"
            pushed = {"text": "Hola, soy Rosa, asesora de SUNAT.", "buttons": []}
            delivered = await app.state.conversations.push("webchat", "ana", [pushed])
            assert delivered == 1
            event = [await anext(lines) for _ in range(3)]
            assert event[0] == "" and event[1] == "event: message"
            assert json.loads(event[2].removeprefix("data: ")) == {
                "recipient_id": "ana",
                "text": "Hola, soy Rosa, asesora de SUNAT.",
            }
            history = (
                await http.get("/webchat/history", params={"sender": "ana"}, headers=HEADERS)
            ).json()
            assert [(h["direction"], h["text"]) for h in history] == [("out", pushed["text"])]
    finally:
        server.should_exit = True
        await serving


def test_history_survives_malformed_stored_messages(settings: Settings) -> None:
    from fastapi.testclient import TestClient

    with TestClient(create_app(settings)) as client:
        service = client.app.state.conversations  # type: ignore[attr-defined]
        malformed = [
            {"text": "uno", "buttons": "no es lista", "image": 5},
            {"text": "dos", "buttons": [{"title": "sin payload"}, "x"], "custom": "no"},
        ]
        client.portal.call(service.push, "webchat", "ana", malformed)  # type: ignore[union-attr]
        response = client.get("/webchat/history", params={"sender": "ana"}, headers=HEADERS)
    assert response.status_code == 200
    items = response.json()
    assert [(i["text"], i.get("buttons")) for i in items] == [
        ("uno", None),
        ("dos", [{"title": "sin payload", "payload": ""}]),
    ]
    assert items[0]["created_at"].endswith("+00:00")


async def test_a_message_reaches_the_stream_another_gateway_holds() -> None:
    group = LocalGroup()
    here, there = PushHub(LocalBus(group)), PushHub(LocalBus(group))
    page = there.subscribe("webchat:ana")
    assert here.publish("webchat:ana", {"text": "Soy Rosa"}) == 0  # none open in this process
    await here.bus.flush()
    assert page.get_nowait() == {"text": "Soy Rosa"}
    assert here.publish("webchat:beto", {"text": "otro"}) == 0
    await here.bus.flush()
    assert page.empty()


async def test_after_a_gap_of_the_bus_open_streams_end_to_reload() -> None:
    hub = PushHub(LocalBus())
    page = hub.subscribe("webchat:ana")
    await hub.bus.start()  # connected: messages may have been missed before
    assert page.get_nowait() is RESYNC
