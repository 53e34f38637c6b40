"""End to end through the real stack (Rasa, action server, gateway) with a local fake of the
Graph API: a signed webhook in → the bot's answer arrives at the fake, within the limits."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from bot.knowledge.articles import load_knowledge
from bot.ops.settings import ROOT
from connectors.meta import sign
from tests.e2e.stack import Stack, stop
from tests.fakes.graph_api import FakeGraphApi, messenger_message

pytestmark = pytest.mark.e2e
KB = load_knowledge(ROOT / "data" / "knowledge")
SECRET = "e2e-app-secret"


def deliver(stack: Stack, body: bytes) -> httpx.Response:
    return httpx.post(
        f"{stack.base_url}/webhooks/messenger",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, SECRET)},
        timeout=10,
    )


def shown_text(sent: dict[str, object]) -> str:
    message = sent["message"]
    assert isinstance(message, dict)
    if "text" in message:
        return str(message["text"])
    return str(message["attachment"]["payload"]["text"])


def messenger_stack(tmp_path: Path, graph: FakeGraphApi) -> Stack:
    return Stack.on_free_ports(
        tmp_path,
        meta_app_secret=SECRET,
        messenger_verify_token="e2e-verify",
        messenger_page_access_token="e2e-page-token",
        graph_api_url=graph.url,
        outbox_retry_seconds=120.0,  # a failed send waits: the restart below must send it
    )


def test_a_webhook_is_answered_once_through_the_send_api_and_survives_a_restart(
    tmp_path: Path, graph: FakeGraphApi
) -> None:
    stack = messenger_stack(tmp_path, graph)
    children = stack.start_all()
    try:
        stack.wait_healthy()
        assert httpx.get(f"{stack.base_url}/health").json()["channels"]["messenger"] == "on"

        # Delivered three times (Meta retries when it doubts): answered once.
        body = messenger_message("psid-1", "m_e2e_1", "hola buenas")
        for _ in range(3):
            assert deliver(stack, body).status_code == 200
        [sent] = graph.wait_for_messages(1)
        greeting = KB.require("saludo")
        template = sent["message"]["attachment"]["payload"]
        assert sent["recipient"] == {"id": "psid-1"} and sent["messaging_type"] == "RESPONSE"
        assert template["text"] == greeting.answer
        assert [b["payload"] for b in template["buttons"]] == [b.payload for b in greeting.buttons]
        assert all(len(b["title"]) <= 20 for b in template["buttons"])

        # The platform fails after the 200, the gateway dies, then starts again: the answer
        # that was acknowledged but not delivered is sent exactly once.
        graph.fail_next(1, 500)
        assert (
            deliver(stack, messenger_message("psid-2", "m_e2e_2", "que es el ruc")).status_code
            == 200
        )
        graph.wait_for_messages(2)  # the failed attempt
        children["gateway"].process.send_signal(signal.SIGKILL)
        children["gateway"].process.wait(timeout=10)
        children["gateway"] = stack.start_gateway()
        stack.wait_healthy()
        answers = graph.wait_for_messages(3)
        assert answers[2]["recipient"] == {"id": "psid-2"}
        assert shown_text(answers[2]) == KB.require("ruc_que_es").answer
        graph.wait_for_messages(4, timeout=3)
        assert len(graph.messages()) == 3  # not a second time
    finally:
        for child in children.values():
            stop(child)
