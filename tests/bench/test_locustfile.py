"""The scale benchmark's citizens under locust itself, against a small web chat stand-in: what
they send, how answers are judged, the measured window and the CSV files it leaves."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.load_driver import CONVERSATIONS
from bench.scale_stats import LONG, MEASURED, MEASURING, SHORT, read_locust
from bot.knowledge.articles import load_knowledge
from bot.ops.settings import ROOT

KEY = "locust-test-key-0123456789"
NOTICE = load_knowledge(ROOT / "data" / "knowledge").require("error_servicio").answer
FLAT = [text for conversation in CONVERSATIONS for text in conversation]


class Webchat(ThreadingHTTPServer):
    """Answers ``POST /webhooks/webchat`` like the gateway: the engine's error notice for
    "gracias" (to be counted as failures), 401 without the key; keeps what each sender said."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.said: dict[str, list[str]] = {}
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: Webchat

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/webhooks/webchat" or self.headers.get("X-Api-Key") != KEY:
            self._answer(401, {"detail": "no"})
            return
        with self.server.lock:
            self.server.said.setdefault(body["sender"], []).append(body["message"])
        text = NOTICE if body["message"] == "gracias" else "Claro, te cuento."
        self._answer(200, [{"recipient_id": body["sender"], "text": text}])

    def _answer(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture()
def webchat() -> Iterator[Webchat]:
    server = Webchat()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _locust(url: str, prefix: Path, *classes: str, key: str = KEY) -> list[str]:
    command = [
        sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"),
        "--headless", "--only-summary", "--host", url, "--csv", str(prefix), "-u", "2", "-r", "2",
        "-t", "40s", "--warmup-seconds", "1", "--measure-seconds", "3", "--loglevel", "WARNING",
        *classes,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_API_KEY": key, "BENCH_LONG_TURNS": "7"}
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=90, check=False
    )
    assert done.returncode in (0, 1), done.stderr  # 1: locust saw failures, as it should
    return done.stdout.splitlines()


def test_citizens_hold_the_mix_and_the_window_is_measured(webchat: Webchat, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{webchat.server_address[1]}"
    lines = _locust(url, tmp_path / "run", "Citizen", "LongCitizen")
    marks = [line for line in lines if line.startswith(("bench.locustfile",))]
    assert marks[0] == MEASURING and marks[1].startswith(MEASURED)
    assert 2.9 <= float(marks[1].split()[-1]) <= 4.0

    # One user of each kind: a new conversation each time, its messages in order.
    short = {s: said for s, said in webchat.said.items() if not s.startswith("bench-long-")}
    long = {s: said for s, said in webchat.said.items() if s.startswith("bench-long-")}
    assert short and long
    for said in short.values():
        assert any(conversation[: len(said)] == said for conversation in CONVERSATIONS)
        assert len(said) <= 5
    cycle = list(itertools.islice(itertools.cycle(FLAT), 7))
    for said in long.values():
        assert said == cycle[: len(said)]
    assert any(len(said) == 7 for said in long.values())

    # The CSV holds the window only (the warm-up's requests were reset), by kind and in all.
    total = read_locust(tmp_path / "run")
    sent = sum(len(said) for said in webchat.said.values())
    assert 0 < total.requests < sent
    assert (
        total.requests
        == read_locust(tmp_path / "run", SHORT).requests
        + read_locust(tmp_path / "run", LONG).requests
    )
    assert total.failures > 0 and total.answered > total.failures
    assert total.failures_by_reason == {"the engine failed (error_servicio notice)": total.failures}


def test_without_the_key_nothing_counts_as_answered(webchat: Webchat, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{webchat.server_address[1]}"
    _locust(url, tmp_path / "run", "Citizen", key="another-key")
    total = read_locust(tmp_path / "run")
    assert total.requests > 0 and total.answered == 0
    assert total.failures_by_reason == {"HTTP 401": total.requests}
