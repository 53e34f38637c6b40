"""``python -m bot up --scale 2`` for real, on the machine's PostgreSQL, Redis and RabbitMQ:
web chat conversations through nginx are answered by the real model, and when an engine is
killed while they go on every message is still answered (the gateways send it to the other
engine) and the supervisor starts the engine again."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.conversation.service import ENGINE_DOWN_ARTICLE
from bot.knowledge.articles import load_knowledge
from bot.ops.processes import LOGS
from bot.ops.settings import ROOT
from bot.ops.supervisor import RUN_DIR, read_status, status_path
from tests.e2e.scale_services import REDIS_PORT, database_url
from tests.e2e.stack import TOKEN
from tests.integrator import API_KEY, HEADERS

pytestmark = pytest.mark.e2e
KB = load_knowledge(ROOT / "data" / "knowledge")
ENGINE_DOWN = KB.require(ENGINE_DOWN_ARTICLE).answer
SCALE = 2


def _free_block(size: int) -> int:
    """A port such that it and the ``size - 1`` after it are free now."""
    for _ in range(200):
        # Below the ephemeral range (32768+), which outgoing connections take from meanwhile.
        base = random.randint(20000, 32000 - size)
        with contextlib.ExitStack() as held:
            try:
                for port in range(base, base + size):
                    held.enter_context(socket.socket()).bind(("127.0.0.1", port))
            except OSError:
                continue
            return base
    raise RuntimeError("no free block of ports")


@dataclass
class Topology:
    up: subprocess.Popen[bytes]
    log: Path
    gateway_port: int
    engine_ports: list[int]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def logs(self) -> Path:
        return LOGS / f"scale-{self.gateway_port}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def status(self) -> dict[str, Any]:
        status = read_status(status_path(self.gateway_port), supervisor_pid=self.up.pid)
        assert status is not None
        return status

    def chat(self, sender: str, message: str) -> list[dict[str, Any]]:
        response = httpx.post(
            f"{self.url}/webhooks/webchat",
            json={"sender": sender, "message": message},
            headers=HEADERS,
            timeout=60,
        )
        assert response.status_code == 200, response.text
        replies: list[dict[str, Any]] = response.json()
        return replies

    def engine_ready(self, index: int) -> bool:
        try:
            response = httpx.get(
                f"http://127.0.0.1:{self.engine_ports[index]}/status",
                params={"token": TOKEN},
                timeout=3,
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and bool(response.json().get("model_file"))


@pytest.fixture()
def topology(tmp_path: Path, database: str) -> Iterator[Topology]:
    gateway, rasa, actions = (_free_block(SCALE + 1) for _ in range(3))
    suffix = uuid.uuid4().hex[:8]
    env = {
        **os.environ,
        "DATABASE_URL": database_url(database),
        "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/{random.randint(1, 15)}",
        "GATEWAY_PORT": str(gateway),
        "RASA_URL": f"http://127.0.0.1:{rasa}",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{actions}",
        "RASA_TOKEN": TOKEN,
        "LOG_LEVEL": "WARNING",
        "WEBCHAT_API_KEYS": json.dumps([API_KEY]),
        # Its own RabbitMQ queue: the events of other tests' engines are not this consumer's.
        "EVENT_BROKER_QUEUE": f"scale_topology_{suffix}",
        "EVENT_BROKER_EXCHANGE": f"scale_topology_{suffix}",
    }
    # The newest trained model (`make test` trains first): no training inside the test.
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    model = ["--model", str(models[-1])] if models else []
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        up = subprocess.Popen(
            [sys.executable, "-m", "bot", "up", "--scale", str(SCALE), "--timeout", "600", *model],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    running = Topology(up, log, gateway, [rasa + i for i in range(SCALE)])
    try:
        deadline = time.monotonic() + 660
        while "ready in" not in running.output():
            assert up.poll() is None, running.output()
            assert time.monotonic() < deadline, running.output()
            time.sleep(1)
        yield running
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait()
        print(running.output()[-3000:])
        shutil.rmtree(RUN_DIR / f"scale-{gateway}", ignore_errors=True)  # nginx's files
        with contextlib.suppress(OSError):
            subprocess.run(
                ["rabbitmqctl", "delete_queue", env["EVENT_BROKER_QUEUE"]],
                capture_output=True, timeout=30, check=False,
            )  # fmt: skip
    assert "stopped: the topology of 2 gateways, 2 engines" in running.output()


def _answered(replies: list[dict[str, Any]]) -> bool:
    texts = [str(r.get("text", "")) for r in replies]
    return bool(texts) and ENGINE_DOWN not in texts


def test_the_topology_answers_through_nginx_and_survives_a_killed_engine(
    topology: Topology,
) -> None:
    health = httpx.get(f"{topology.url}/health", timeout=10).json()
    assert health["status"] == "ok", health
    processes = topology.status()["processes"]
    assert {f"gateway-{i}" for i in (1, 2)} | {f"rasa-{i}" for i in (1, 2)} <= set(processes)
    assert {"actions-1", "actions-2", "nginx"} <= set(processes)

    # A web chat stream passes nginx unbuffered: its first line arrives at once.
    with httpx.stream(
        "GET", f"{topology.url}/webchat/stream", params={"sender": "topologia-0"},
        headers=HEADERS, timeout=5,
    ) as stream:  # fmt: skip
        assert stream.status_code == 200
        assert next(stream.iter_text()).startswith(": connected")

    # Answered by the real model, through nginx and either gateway.
    first = topology.chat("topologia-0", "fkdjsl qwpeoi zmxn")[0]["text"]
    assert first.startswith("Disculpa, no te entendí.")
    assert _answered(topology.chat("topologia-0", "hola"))

    # Conversations go on while an engine is killed.
    victim = processes["rasa-1"]["pid"]
    messages = ["hola", "qué es el RUC", "cómo saco mi clave SOL", "gracias"] * 3

    def converse(n: int) -> list[bool]:
        results = []
        for i, text in enumerate(messages):
            results.append(_answered(topology.chat(f"topologia-{n}", text)))
            if n == 1 and i == 2:
                os.kill(victim, signal.SIGKILL)
        return results

    with ThreadPoolExecutor(4) as pool:
        outcomes = [ok for run in pool.map(converse, range(1, 5)) for ok in run]
    assert outcomes == [True] * len(outcomes)
    # The engine was killed while in use: a gateway sent a message to the other one.
    gateways = "".join(log.read_text() for log in topology.logs.glob("gateway-*.log"))
    assert "left out" in gateways

    # The supervisor starts the engine again; it serves once its model is loaded.
    deadline = time.monotonic() + 300
    while not (
        topology.status()["processes"]["rasa-1"]["restarts"] >= 1 and topology.engine_ready(0)
    ):
        assert time.monotonic() < deadline, topology.output()
        time.sleep(2)
    assert topology.status()["processes"]["rasa-1"]["pid"] != victim
    assert "rasa-1 restarted" in topology.output()
    restarted = httpx.get(f"{topology.url}/health", timeout=10).json()
    assert restarted["status"] == "ok", restarted
    for n in range(5, 9):
        assert _answered(topology.chat(f"topologia-{n}", "hola"))
