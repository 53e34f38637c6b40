"""``python -m bot up``: run Rasa, the action server and the gateway together.

Children run in their own process groups with their output in ``var/logs/``; Ctrl-C (or
SIGTERM) stops all three, gateway first so no request reaches a stopped engine.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bot.engine_env import engine_bin, engine_environ
from bot.settings import ROOT, Settings

LOGS = ROOT / "var" / "logs"
STOP_GRACE_SECONDS = 10.0


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


def _port(url: str) -> int:
    parts = urlsplit(url)
    return parts.port or (443 if parts.scheme == "https" else 80)


def _spawn(name: str, command: list[str], env: dict[str, str]) -> Child:
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return Child(name, process, log)


def _stop(children: list[Child]) -> None:
    for child in children:
        if child.process.poll() is None:
            os.killpg(child.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children:
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()


class _Stop(Exception):
    pass


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


def up(model: Path, settings: Settings, ready_timeout: float = 300.0) -> int:
    """Start the three processes, wait until healthy, print the URL, run until stopped."""
    token = settings.rasa_token.get_secret_value()
    engine_env = engine_environ(settings.action_server_url)
    engine_env["SANIC_HOST"] = "127.0.0.1"
    engine_env["KNOWLEDGE_DIR"] = str(settings.knowledge_dir)
    gateway_env = dict(os.environ)
    gateway_env["RASA_TOKEN"] = token

    children: list[Child] = []
    previous = {s: signal.signal(s, _raise_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    started = time.monotonic()
    try:
        children.append(
            _spawn(
                "actions",
                [
                    str(engine_bin("rasa")),
                    "run",
                    "actions",
                    "--actions",
                    "actions",
                    "--port",
                    str(_port(settings.action_server_url)),
                ],
                engine_env,
            )
        )
        children.append(
            _spawn(
                "rasa",
                [
                    str(engine_bin("rasa")),
                    "run",
                    "--enable-api",
                    "--auth-token",
                    token,
                    "--interface",
                    "127.0.0.1",
                    "--port",
                    str(_port(settings.rasa_url)),
                    "--model",
                    str(model),
                    "--endpoints",
                    "endpoints.yml",
                    "--credentials",
                    "credentials.yml",
                ],
                engine_env,
            )
        )
        children.append(_spawn("gateway", [sys.executable, "-m", "bot", "serve"], gateway_env))
        print(
            f"starting Rasa, the action server and the gateway (logs in {LOGS.relative_to(ROOT)}/)",
            flush=True,
        )

        url = f"http://{settings.gateway_host}:{settings.gateway_port}"
        last_report = ""
        while True:
            for child in children:
                if child.process.poll() is not None:
                    print(
                        f"error: {child.name} exited with {child.process.returncode}; "
                        f"see {child.log}",
                        file=sys.stderr,
                        flush=True,
                    )
                    return 1
            state = _health(url)
            if state == "ok":
                break
            if state != last_report:
                print(f"  waiting: {state}", flush=True)
                last_report = state
            if time.monotonic() - started > ready_timeout:
                print(f"error: not ready after {ready_timeout:.0f} s ({state})", file=sys.stderr)
                return 1
            time.sleep(0.5)
        print(
            f"ready in {time.monotonic() - started:.0f} s. Web chat: {url}/  "
            f"(API docs: {url}/docs). Ctrl-C stops everything.",
            flush=True,
        )
        while True:
            for child in children:
                if child.process.poll() is not None:
                    print(
                        f"error: {child.name} stopped unexpectedly "
                        f"(exit {child.process.returncode}); see {child.log}",
                        file=sys.stderr,
                        flush=True,
                    )
                    return 1
            time.sleep(1.0)
    except _Stop as stop:
        print(f"\n{stop.args[0]} received, stopping…", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _stop(list(reversed(children)))
        for s, handler in previous.items():
            signal.signal(s, handler)
        if children:
            print("stopped: gateway, Rasa and the action server", flush=True)


def _health(url: str) -> str:
    try:
        response = httpx.get(f"{url}/health", timeout=5.0)
    except httpx.HTTPError:
        return "gateway starting"
    if response.status_code == 200:
        return "ok"
    try:
        down = response.json().get("down", [])
    except ValueError:
        return f"gateway answered {response.status_code}"
    return "starting " + ", ".join(down)
