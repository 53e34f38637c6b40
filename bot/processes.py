"""The three processes: Rasa, the action server and the gateway.

``python -m bot up`` runs them together: children run in their own process groups with their
output in ``var/logs/``; Ctrl-C (or SIGTERM) stops all three, gateway first so no request
reaches a stopped engine. The end-to-end tests and the benchmark start them through the same
functions.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from bot.engine_env import engine_bin, engine_environ
from bot.settings import ROOT, Settings

LOGS = ROOT / "var" / "logs"
STOP_GRACE_SECONDS = 10.0


@dataclass
class Child:
    name: str
    process: subprocess.Popen[Any]
    log: Path


def url_port(url: str) -> int:
    parts = urlsplit(url)
    return parts.port or (443 if parts.scheme == "https" else 80)


def actions_command(settings: Settings) -> list[str]:
    port = str(url_port(settings.action_server_url))
    return [str(engine_bin("rasa")), "run", "actions", "--actions", "actions", "--port", port]


def rasa_command(settings: Settings, model: Path) -> list[str]:
    return [
        str(engine_bin("rasa")), "run", "--enable-api",
        "--auth-token", settings.rasa_token.get_secret_value(),
        "--interface", "127.0.0.1", "--port", str(url_port(settings.rasa_url)),
        "--model", str(model), "--endpoints", settings.rasa_endpoints,
        "--credentials", "credentials.yml",
    ]  # fmt: skip


def gateway_command() -> list[str]:
    return [sys.executable, "-m", "bot", "serve"]


def engine_process_environ(settings: Settings) -> dict[str, str]:
    env = engine_environ(settings.action_server_url)
    env["SANIC_HOST"] = "127.0.0.1"  # the action server listens on loopback only
    env["KNOWLEDGE_DIR"] = str(settings.knowledge_dir)
    env["PADRON_URL"] = settings.padron_url
    return env


def gateway_process_environ(settings: Settings) -> dict[str, str]:
    """The environment that gives a gateway child exactly these settings."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is None:  # unset: the child must not inherit the parent's value either
            env.pop(name.upper(), None)
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, list | dict):
            value = json.dumps(value)
        env[name.upper()] = str(value)
    return env


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports nothing listens on now (tests and the benchmark run
    on such ports). All are held open while choosing, so the system cannot hand one out twice."""
    with contextlib.ExitStack() as held:
        ports = []
        for _ in range(count):
            sock = held.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def free_port() -> int:
    return free_ports(1)[0]


def spawn(name: str, command: list[str], env: dict[str, str], log: Path | None = None) -> Child:
    """Start a child in its own process group, its output appended to ``log``."""
    log = log or LOGS / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    return Child(name, process, log)


def stop(children: list[Child], grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM each child's group in order, then SIGKILL what is left after ``grace``."""
    for child in children:
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(child, signal.SIGKILL)
            child.process.wait()


def _signal_group(child: Child, sig: signal.Signals) -> None:
    # The group may be gone between the check and the signal: nothing left to stop then.
    if child.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.process.pid, sig)


def health(base_url: str) -> str:
    """``"ok"``, or what the gateway's /health says is not up yet."""
    try:
        response = httpx.get(f"{base_url}/health", timeout=5.0)
    except httpx.HTTPError:
        return "gateway starting"
    if response.status_code == 200:
        return "ok"
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("down"), list):
        return f"gateway answered {response.status_code}"
    return "starting " + ", ".join(str(part) for part in body["down"])


class ChildExited(RuntimeError):
    def __init__(self, child: Child) -> None:
        super().__init__(f"{child.name} exited with {child.process.returncode}; see {child.log}")
        self.child = child


def wait_healthy(
    base_url: str,
    timeout: float,
    children: Sequence[Child] = (),
    on_change: Callable[[str], None] | None = None,
) -> None:
    """Poll /health until it says ok; raise if a child exits or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    last = ""
    while (state := health(base_url)) != "ok":
        if dead := _exited(children):
            raise ChildExited(dead)
        if on_change is not None and state != last:
            on_change(state)
            last = state
        if time.monotonic() > deadline:
            raise TimeoutError(f"not ready after {timeout:.0f} s ({state})")
        time.sleep(0.5)


class _Stop(Exception):
    pass


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


def _exited(children: Sequence[Child]) -> Child | None:
    return next((c for c in children if c.process.poll() is not None), None)


def up(model: Path, settings: Settings, ready_timeout: float = 300.0) -> int:
    """Start the three processes, wait until healthy, print the URL, run until stopped."""
    children: list[Child] = []
    previous = {s: signal.signal(s, _raise_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    started = time.monotonic()
    try:
        engine_env = engine_process_environ(settings)
        children.append(spawn("actions", actions_command(settings), engine_env))
        children.append(spawn("rasa", rasa_command(settings, model), engine_env))
        children.append(spawn("gateway", gateway_command(), gateway_process_environ(settings)))
        print(
            f"starting Rasa, the action server and the gateway (logs in {LOGS.relative_to(ROOT)}/)",
            flush=True,
        )
        url = f"http://{settings.gateway_host}:{settings.gateway_port}"
        try:
            wait_healthy(
                url,
                ready_timeout,
                children,
                on_change=lambda state: print(f"  waiting: {state}", flush=True),
            )
        except (ChildExited, TimeoutError) as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            return 1
        print(
            f"ready in {time.monotonic() - started:.0f} s. Web chat: {url}/  "
            f"(API docs: {url}/docs). Ctrl-C stops everything.",
            flush=True,
        )
        while not (dead := _exited(children)):
            time.sleep(1.0)
        print(
            f"error: {dead.name} stopped unexpectedly (exit {dead.process.returncode}); "
            f"see {dead.log}",
            file=sys.stderr,
            flush=True,
        )
        return 1
    except _Stop as received:
        print(f"\n{received.args[0]} received, stopping…", flush=True)
        return 0
    finally:
        # A second Ctrl-C or SIGTERM must not interrupt the shutdown itself.
        for s in previous:
            signal.signal(s, signal.SIG_IGN)
        stop(list(reversed(children)))
        for s, handler in previous.items():
            signal.signal(s, handler)
        if children:
            print("stopped: gateway, Rasa and the action server", flush=True)
