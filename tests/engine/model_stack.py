"""What the engine's tests that drive the trained model share (engine environment): the newest
model in models/, one event loop per module, the project's action server on a free port, and
an agent with the newest model on Rasa's in-memory tracker store. A test module takes the
fixtures it uses by name (``agent = model_stack.agent``): make unit-engine collects tests/engine
next to tests/actions and tests/bot/knowledge, where a conftest.py here is imported twice.)"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
from rasa.core.agent import Agent
from rasa.utils.endpoints import EndpointConfig

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"


def latest_model() -> Path:
    """The newest trained model; the test is skipped when there is none (``make train``)."""
    models = sorted(MODELS.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        pytest.skip("no trained model in models/ (make train)")
    return models[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The project's action server, on a free loopback port; its webhook's URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("actions") / "actions.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SANIC_HOST": "127.0.0.1"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log.read_text(errors="replace")[-2000:]) from None
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def agent(action_server: str) -> Agent:
    """The newest model on Rasa's own in-memory tracker store."""
    return Agent.load(latest_model(), action_endpoint=EndpointConfig(action_server))
