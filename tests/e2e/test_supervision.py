"""End to end: ``python -m bot up`` keeps the engine running. Under a steady web chat load Rasa
is killed (``kill -9``): ``bot up`` starts it again, the gateway keeps serving (the Spanish
notice meanwhile), answers flow again within 30 s, no message is lost or answered twice, and a
Messenger message sent while Rasa is down is answered once it is back, exactly once. Also what
the running processes show other local users: no token on a command line, no gateway secret in
the engine's environment, Rasa's API closed without the token, no CORS on the engine."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.knowledge.articles import load_knowledge
from bot.ops import processes
from bot.ops.processes import Child
from bot.ops.settings import ROOT
from bot.ops.supervisor import read_status, status_path
from connectors.meta import sign
from tests.e2e.stack import Stack
from tests.fakes.graph_api import FakeGraphApi, messenger_message

pytestmark = pytest.mark.e2e
KB = load_knowledge(ROOT / "data" / "knowledge")
ANSWER = KB.require("igv").answer
NOTICE = KB.require("error_servicio").answer
QUESTION = "cuanto es el igv"
SENDERS = 4
RECOVERY_SECONDS = 30.0
SECRET = "e2e-supervision-app-secret"
PAGE_TOKEN = "e2e-supervision-page-token"


def post_webchat(stack: Stack, sender: str, message: str) -> list[str]:
    """The one place this test posts to the web chat: the texts of the bot's replies."""
    return [str(reply.get("text")) for reply in stack.chat(sender, message)]


@contextmanager
def bot_up(workdir: Path, graph: FakeGraphApi) -> Iterator[tuple[Stack, subprocess.Popen[str]]]:
    """``python -m bot up`` as ``make run`` starts it (like ``tests.e2e.stack.running_up``),
    with a Messenger page whose Graph API is the local fake."""
    stack = Stack.on_free_ports(
        workdir, meta_app_secret=SECRET, messenger_verify_token="e2e-supervision-verify",
        messenger_page_access_token=PAGE_TOKEN, graph_api_url=graph.url,
        outbox_retry_seconds=0.5,
        # The load below posts faster than a citizen may (settings ignored where unknown).
        limit_webchat_posts_per_session="10000/minute",
        limit_webchat_posts_per_address="100000/minute",
    )  # fmt: skip
    log = workdir / "up.log"
    with log.open("w") as out:
        up = subprocess.Popen(
            [sys.executable, "-m", "bot", "up"], cwd=ROOT, env=stack.environ(), stdout=out,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
    try:
        stack.wait_healthy(up=up)
        yield stack, up
    except BaseException:
        sys.stderr.write(log.read_text())
        raise
    finally:
        if up.poll() is None:
            up.send_signal(signal.SIGINT)
        try:
            up.wait(timeout=30)
        except subprocess.TimeoutExpired:
            processes.stop([Child("bot up", up, log)], grace=20)


@dataclass
class Post:
    sender: str
    sent_at: float
    texts: list[str]


class WebChatLoad:
    """A few citizens asking in a loop, one message at a time each, until stopped."""

    def __init__(self, stack: Stack, senders: int) -> None:
        self.posts: list[Post] = []
        self.errors: list[BaseException] = []
        self._stack = stack
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._ask, args=(f"supervision-{n}",), daemon=True)
            for n in range(senders)
        ]

    def _ask(self, sender: str) -> None:
        while not self._stop.is_set():
            sent_at = time.monotonic()
            try:
                texts = post_webchat(self._stack, sender, QUESTION)
            except BaseException as exc:  # reported by stop()
                with self._lock:
                    self.errors.append(exc)
                return
            with self._lock:
                self.posts.append(Post(sender, sent_at, texts))
            self._stop.wait(0.1)  # a steady pace, not a flood

    def __enter__(self) -> WebChatLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def answered_after(self, moment: float) -> list[Post]:
        with self._lock:
            return [p for p in self.posts if p.sent_at > moment and p.texts == [ANSWER]]


def wait_until(
    condition: Callable[[], Any], timeout: float, what: str, seen: Callable[[], Any] = str
) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s; {seen()}"
        time.sleep(0.1)
    return value


def messenger_webhook(stack: Stack, sender: str, mid: str, text: str) -> httpx.Response:
    body = messenger_message(sender, mid, text)
    return httpx.post(
        f"{stack.base_url}/webhooks/messenger", content=body, timeout=10,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, SECRET)},
    )  # fmt: skip


def shown_text(sent: dict[str, Any]) -> str:
    message = sent["message"]
    return str(message["text"] if "text" in message else message["attachment"]["payload"]["text"])


def messages(db_path: Path, channel: str) -> dict[str, list[tuple[str, str, str]]]:
    """Each conversation of ``channel``: its messages (direction, status, text) in order."""
    db = sqlite3.connect(db_path)
    try:
        found = db.execute(
            "SELECT c.sender_id, m.direction, m.status, m.text FROM messages m "
            "JOIN conversations c ON c.id = m.conversation_id WHERE c.channel = ? ORDER BY m.id",
            (channel,),
        ).fetchall()
    finally:
        db.close()
    by_conversation: dict[str, list[tuple[str, str, str]]] = {}
    for sender, direction, status, text in found:
        by_conversation.setdefault(sender, []).append((direction, status, text))
    return by_conversation


def process_file(pid: int, name: str) -> bytes:
    return Path(f"/proc/{pid}/{name}").read_bytes()


def check_what_other_users_see(stack: Stack, pids: dict[str, int]) -> None:
    token = stack.settings.rasa_token.get_secret_value().encode()
    listed = ",".join(str(pid) for pid in pids.values())
    ps = subprocess.run(["ps", "-ww", "-o", "args=", "-p", listed], capture_output=True).stdout
    assert b"bot.engine.launcher" in ps and token not in ps
    for name in ("rasa", "actions"):
        assert token not in process_file(pids[name], "cmdline")
        environment = process_file(pids[name], "environ")
        assert SECRET.encode() not in environment and PAGE_TOKEN.encode() not in environment
        assert token not in environment  # Rasa's holds the name of bot up's 0600 file only
    assert b"bot.engine.launcher" in process_file(pids["rasa"], "cmdline")
    rasa_url = stack.settings.rasa_url
    assert httpx.get(f"{rasa_url}/status").status_code == 401
    assert httpx.get(f"{rasa_url}/status", params={"token": "wrong"}).status_code == 401
    refused = httpx.put(f"{rasa_url}/model", json={"model_file": "/tmp/x.tar.gz"})
    assert refused.status_code == 401
    origin = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    for url in (f"{stack.settings.action_server_url}/webhook", f"{rasa_url}/webhooks/rest/webhook"):
        preflight = httpx.options(url, headers=origin)
        assert "access-control-allow-origin" not in preflight.headers, url


def test_a_killed_rasa_comes_back_and_no_message_is_lost_or_answered_twice(
    tmp_path: Path, graph: FakeGraphApi
) -> None:
    with bot_up(tmp_path, graph) as (stack, up):
        status_file = status_path(stack.settings.gateway_port)
        status = read_status(status_file)
        assert status is not None and status["supervisor_pid"] == up.pid
        pids = {name: entry["pid"] for name, entry in status["processes"].items()}
        check_what_other_users_see(stack, pids)

        with WebChatLoad(stack, SENDERS) as load:
            started = time.monotonic()
            wait_until(
                lambda: len(load.answered_after(started)) >= 2 * SENDERS, 60, "answers",
                lambda: (load.errors, load.posts[-2:]),
            )  # fmt: skip

            os.kill(pids["rasa"], signal.SIGKILL)
            killed = time.monotonic()
            # A Messenger message while Rasa is down: it waits in the inbox.
            accepted = messenger_webhook(stack, "psid-during-outage", "m_outage", "hola buenas")
            assert accepted.status_code == 200 and accepted.json()["accepted"] == 1
            assert not load.answered_after(killed), "Rasa answered after kill -9?"

            first = wait_until(
                lambda: load.answered_after(killed), RECOVERY_SECONDS + 60, "recovery",
                lambda: (load.errors, load.posts[-2:]),
            )  # fmt: skip
            recovered_in = min(p.sent_at for p in first) - killed  # checked last, below
            wait_until(
                lambda: {p.sender for p in load.answered_after(killed + recovered_in)}
                == {f"supervision-{n}" for n in range(SENDERS)},
                30, "every sender answered again",
            )  # fmt: skip
            [sent] = graph.wait_for_messages(1, timeout=60)
        assert load.errors == []

        # The Messenger message: answered once, after the engine came back.
        assert sent["recipient"] == {"id": "psid-during-outage"}
        assert shown_text(sent) == KB.require("saludo").answer
        assert messages(stack.workdir / "gateway.db", "messenger") == {
            "psid-during-outage": [
                ("in", "answered", "hola buenas"), ("out", "sent", KB.require("saludo").answer),
            ]
        }  # fmt: skip
        graph.wait_for_messages(2, timeout=3)
        assert len(graph.messages()) == 1  # not a second time

        # The web chat: every message stored, each answered once (or given the notice).
        posts = load.posts
        assert all(p.texts in ([ANSWER], [NOTICE]) for p in posts)
        assert any(p.texts == [NOTICE] for p in posts)  # the outage was seen…
        conversations = messages(stack.workdir / "gateway.db", "webchat")
        stored = [m for conversation in conversations.values() for m in conversation]
        assert sum(1 for m in stored if m[0] == "in") == len(posts)
        for conversation in conversations.values():
            directions = [m[0] for m in conversation]
            assert directions == ["in", "out"] * (len(conversation) // 2)
            for (_, status_in, _), (_, _, text) in zip(
                conversation[::2], conversation[1::2], strict=True
            ):
                assert (status_in, text) in (("answered", ANSWER), ("failed", NOTICE))
        assert sum(1 for p in posts if p.texts == [NOTICE]) == sum(
            1 for m in stored if m[:2] == ("in", "failed")
        )

        # The terminal said so, /health shows it, the other processes were left alone.
        health = httpx.get(f"{stack.base_url}/health")
        assert health.status_code == 200
        restarted = health.json()["restarts"]
        assert set(restarted) == {"rasa"}
        assert restarted["rasa"]["count"] == 1 and restarted["rasa"]["last_exit"] == -9
        assert restarted["rasa"]["state"] == "running"
        after = read_status(status_file)
        assert after is not None
        assert after["processes"]["gateway"]["pid"] == pids["gateway"]
        assert after["processes"]["actions"]["pid"] == pids["actions"]
        check_what_other_users_see(
            stack, {n: e["pid"] for n, e in after["processes"].items()}
        )  # the restarted Rasa too
        said = (tmp_path / "up.log").read_text()
        assert "rasa stopped unexpectedly (exit -9)" in said and "rasa restarted (pid" in said
        assert up.poll() is None
    assert up.returncode == 0
    assert not status_file.exists()
    assert recovered_in <= RECOVERY_SECONDS, f"answers again after {recovered_in:.0f} s"
