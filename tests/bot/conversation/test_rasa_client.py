"""The engines' client over several engines: messages spread, a message an engine did not take
goes to another at once, one an engine may have taken is never sent twice, an engine left out
comes back after a probe, models are deployed to all and reported only when all agree."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from bot.conversation.rasa_client import (
    DeployIncomplete,
    EnginesDisagree,
    EngineUnavailable,
    RasaClient,
)

A, B, C = "http://engine-a:5005", "http://engine-b:5005", "http://engine-c:5005"
REPLY = [{"recipient_id": "webchat:1", "text": "Hola"}]


class Engines:
    """Fake engines by host: each answers with what its handler returns, and counts calls."""

    def __init__(self, **handlers: Callable[[httpx.Request], httpx.Response]) -> None:
        self.handlers = handlers
        self.calls: Counter[tuple[str, str]] = Counter()
        self.models: dict[str, str | None] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host.removeprefix("engine-")
        self.calls[(host, request.url.path)] += 1
        if request.url.path == "/status" and host not in self.handlers:
            model = self.models.get(host, "models/20261201-live.tar.gz")
            return httpx.Response(200, json={"model_file": model})
        return self.handlers.get(host, answering)(request)

    def messages(self, host: str) -> int:
        return self.calls[(host, "/webhooks/rest/webhook")]


def answering(_: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=REPLY)


def refusing(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def timing_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("read timed out", request=request)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client(engines: Engines, urls: list[str], clock: Clock | None = None) -> RasaClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(engines))
    return RasaClient(http, urls, "token", 5.0, down_seconds=5.0, clock=clock or Clock())


async def test_messages_are_spread_over_the_engines() -> None:
    engines = Engines()
    rasa = client(engines, [A, B])
    for n in range(10):
        assert await rasa.send(f"webchat:{n}", "hola") == REPLY
    assert engines.messages("a") == engines.messages("b") == 5


async def test_a_message_the_engine_did_not_take_goes_to_another_at_once() -> None:
    engines = Engines(a=refusing)
    rasa = client(engines, [A, B])
    for n in range(4):
        assert await rasa.send(f"webchat:{n}", "hola") == REPLY
    assert engines.messages("b") == 4
    # Tried once, then left out: the next messages do not knock on it.
    assert engines.messages("a") == 1
    assert rasa.available() == [B]


async def test_a_proxy_saying_the_engine_is_not_there_counts_as_not_taken() -> None:
    engines = Engines(a=lambda _: httpx.Response(502))
    rasa = client(engines, [A, B])
    assert await rasa.send("webchat:1", "hola") == REPLY
    assert await rasa.send("webchat:2", "hola") == REPLY
    assert engines.messages("b") == 2


@pytest.mark.parametrize(
    "failing",
    [timing_out, lambda _: httpx.Response(500), lambda _: httpx.Response(200, json=[])],
    ids=["timeout", "error", "no answer"],
)
async def test_a_message_the_engine_may_have_taken_is_not_sent_again(
    failing: Callable[[httpx.Request], httpx.Response],
) -> None:
    engines = Engines(a=failing, b=failing)
    rasa = client(engines, [A, B])
    with pytest.raises(EngineUnavailable) as raised:
        await rasa.send("webchat:1", "hola")
    assert raised.value.reached
    assert engines.messages("a") + engines.messages("b") == 1
    assert rasa.available() == [A, B]  # it answered: not left out


async def test_when_no_engine_is_reached_the_failure_says_so() -> None:
    engines = Engines(a=refusing, b=refusing)
    rasa = client(engines, [A, B])
    with pytest.raises(EngineUnavailable) as raised:
        await rasa.send("webchat:1", "hola")
    assert not raised.value.reached
    assert engines.messages("a") == engines.messages("b") == 1
    # All left out: the next message still tries them rather than giving up.
    with pytest.raises(EngineUnavailable):
        await rasa.send("webchat:2", "hola")
    assert engines.messages("a") == engines.messages("b") == 2


async def test_an_engine_left_out_is_probed_and_comes_back_when_ready() -> None:
    clock = Clock()
    engines = Engines(a=refusing)
    rasa = client(engines, [A, B], clock)
    await rasa.send("webchat:1", "hola")
    assert rasa.available() == [B]

    clock.now += 6  # its time out is over, but it still does not answer: out again
    await rasa.send("webchat:2", "hola")
    assert engines.calls[("a", "/status")] == 1
    assert engines.messages("a") == 1
    assert rasa.available() == [B]

    clock.now += 6
    del engines.handlers["a"]  # restarted, model loaded
    await rasa.send("webchat:3", "hola")
    assert rasa.available() == [A, B]
    for n in range(4):
        await rasa.send(f"webchat:{10 + n}", "hola")
    assert engines.messages("a") >= 2


async def test_an_engine_still_loading_its_model_is_not_given_messages() -> None:
    clock = Clock()
    engines = Engines(a=refusing)
    rasa = client(engines, [A, B], clock)
    await rasa.send("webchat:1", "hola")
    clock.now += 6
    del engines.handlers["a"]
    engines.models["a"] = None  # up, no model yet
    await rasa.send("webchat:2", "hola")
    assert rasa.available() == [B]
    assert engines.messages("a") == 1


async def test_the_least_busy_engine_gets_the_message() -> None:
    engines = Engines()
    rasa = client(engines, [A, B])
    # The engine A is busy with a message not answered yet.
    rasa._engines[0].in_flight = 3
    for n in range(3):
        await rasa.send(f"webchat:{n}", "hola")
    assert engines.messages("b") == 3


async def test_one_engine_alone_is_always_tried() -> None:
    clock = Clock()
    engines = Engines(a=refusing)
    rasa = client(engines, [A], clock)
    for _ in range(3):
        with pytest.raises(EngineUnavailable) as raised:
            await rasa.send("webchat:1", "hola")
        assert not raised.value.reached
    assert engines.messages("a") == 3
    assert engines.calls[("a", "/status")] == 0
    assert rasa.available() == [A]


async def test_one_url_as_a_string_is_one_engine() -> None:
    engines = Engines()
    rasa = RasaClient(httpx.AsyncClient(transport=httpx.MockTransport(engines)), A + "/", "t", 5)
    assert rasa.engines == [A]
    assert await rasa.send("webchat:1", "hola") == REPLY


async def test_a_parse_is_asked_again_elsewhere_even_after_a_timeout() -> None:
    def parsing(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"intent": {"name": "saludo"}})

    engines = Engines(a=timing_out, b=parsing)
    rasa = client(engines, [A, B])
    for _ in range(2):
        assert (await rasa.parse("hola"))["intent"]["name"] == "saludo"


async def test_a_model_is_deployed_to_every_engine() -> None:
    bodies: list[tuple[str, object]] = []

    def loading(request: httpx.Request) -> httpx.Response:
        bodies.append((request.url.host, json.loads(request.content)))
        return httpx.Response(204)

    engines = Engines(a=loading, b=loading)
    rasa = client(engines, [A, B])
    await rasa.replace_model(Path("/models/new.tar.gz"))
    assert sorted(bodies) == [
        ("engine-a", {"model_file": "/models/new.tar.gz"}),
        ("engine-b", {"model_file": "/models/new.tar.gz"}),
    ]


async def test_a_deploy_that_some_engines_refused_names_them() -> None:
    engines = Engines(a=lambda _: httpx.Response(204), b=lambda _: httpx.Response(400))
    rasa = client(engines, [A, B])
    with pytest.raises(DeployIncomplete) as raised:
        await rasa.replace_model(Path("/models/new.tar.gz"))
    assert raised.value.loaded == [A]
    assert list(raised.value.failed) == [B]
    assert "1 of 2 engines" in str(raised.value)


async def test_the_model_reported_is_the_one_all_engines_answering_run() -> None:
    engines = Engines(c=refusing)
    rasa = client(engines, [A, B, C])
    assert await rasa.loaded_model() == "20261201-live.tar.gz"
    engines.models["b"] = "/app/models/20261202-new.tar.gz"
    with pytest.raises(EnginesDisagree) as raised:
        await rasa.loaded_model()
    assert raised.value.models == {A: "20261201-live.tar.gz", B: "20261202-new.tar.gz"}


async def test_no_engine_answering_its_status_is_unavailable() -> None:
    rasa = client(Engines(a=refusing, b=refusing), [A, B])
    with pytest.raises(EngineUnavailable):
        await rasa.loaded_model()
    assert not await rasa.is_ready()


async def test_ready_when_at_least_one_engine_is() -> None:
    engines = Engines(a=refusing)
    assert await client(engines, [A, B]).is_ready()
    engines.models["b"] = None
    assert not await client(engines, [A, B]).is_ready()
