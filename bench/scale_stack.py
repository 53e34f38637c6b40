"""One topology of ``python -m bot up [--scale N]`` on its own PostgreSQL database, started and
stopped by a benchmark (bench/scale.py, bench/faults.py), on loopback ports nothing else uses."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench.load_driver import API_KEY
from bench.scale_stats import ProcessReading, read_backends, read_tree
from bot.ops import processes
from bot.ops.settings import Settings

REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")


def port_block(count: int) -> int:
    """The first of ``count`` consecutive loopback ports nothing listens on now, below the
    ephemeral range (32768+), which outgoing connections take ports from meanwhile."""
    for _ in range(200):
        first = random.randint(20_000, 32_000 - count)
        try:
            with contextlib.ExitStack() as held:
                for port in range(first, first + count):
                    held.enter_context(socket.socket()).bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
    raise RuntimeError(f"no {count} consecutive free ports")


def counts(spec: str) -> tuple[int, int] | None:
    """A topology's gateways and engines: ``single`` is None (``bot up``), ``N`` is N of each
    (``bot up --scale N``), ``GxE`` G gateways in front of E engines."""
    if spec == "single":
        return None
    gateways, _, engines = spec.partition("x")
    return int(gateways), int(engines or gateways)


def command_flags(spec: str) -> list[str]:
    """``bot up``'s flags for ``spec``."""
    scale = counts(spec)
    if scale is None:
        return []
    gateways, engines = scale
    if gateways == engines:
        return ["--scale", str(gateways)]
    return ["--gateways", str(gateways), "--engines", str(engines)]


class Stack:
    """One topology of ``python -m bot up`` on one database, started and stopped.

    ``spec`` is ``single`` (``bot up``), N (``bot up --scale N``) or GxE (G gateways, E
    engines); ``overrides`` are further settings of every process (e.g. Messenger's credentials
    and the Graph API's address)."""

    def __init__(
        self, spec: str, database_url: str, run_id: str, log: Path, **overrides: Any
    ) -> None:
        self.spec, self.log = spec, log
        gateways, engines = counts(spec) or (1, 1)
        # nginx and the gateways, the engines, nginx's action port and the action servers.
        first = port_block(gateways + 2 * engines + 2)
        self.settings = Settings(
            **{
                "gateway_port": first,
                "rasa_url": f"http://127.0.0.1:{first + gateways + 1}",
                "action_server_url": f"http://127.0.0.1:{first + gateways + engines + 1}",
                "rasa_token": uuid.uuid4().hex + uuid.uuid4().hex,
                "database_url": database_url,
                "redis_url": REDIS,
                "log_level": "WARNING",
                "webchat_api_keys": [API_KEY],
                # One conversation's own limit would throttle locust's long conversations.
                "limit_webchat_posts_per_session": "1000000/minute",
                "event_broker_queue": f"bench_scale_{run_id}",
                "event_broker_exchange": f"bench-scale-{run_id}",
                **overrides,
            }
        )
        self.url = f"http://127.0.0.1:{first}"
        self.child: processes.Child | None = None
        self.seen: list[ProcessReading] = []

    def start(self, timeout: float, model: Path | None = None) -> float:
        """Start it (on ``model``; by default ``bot up`` trains if needed) and wait until
        /health says ok; the seconds that took."""
        command = [sys.executable, "-m", "bot", "up", "--timeout", str(timeout)]
        if model is not None:
            command += ["--model", str(model)]
        command += command_flags(self.spec)
        started = time.monotonic()
        env = processes.gateway_process_environ(self.settings)
        self.child = processes.spawn("bot up", command, env, self.log)
        processes.wait_healthy(self.url, timeout, [self.child])
        return time.monotonic() - started

    def readings(self, database: str) -> list[ProcessReading]:
        """The topology's processes now, and PostgreSQL's for ``database``."""
        assert self.child is not None
        tree = read_tree(self.child.process.pid)
        self.seen = tree or self.seen
        return tree + read_backends(database)

    def stop(self) -> None:
        """``bot up`` stops its children on SIGTERM; any of them still there is killed."""
        if self.child is None:
            return
        self.seen = read_tree(self.child.process.pid) or self.seen
        processes.stop([self.child], grace=60)
        for reading in self.seen:
            alive = read_tree(reading.pid)
            if any((r.pid, r.started) == (reading.pid, reading.started) for r in alive):
                os.kill(reading.pid, signal.SIGKILL)
        self.child = None
