"""Start the real processes for end-to-end tests: Rasa, the action server and the gateway."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.engine_env import engine_bin, engine_environ
from bot.settings import ROOT
from bot.training import model_path
from tests.ports import free_port


@dataclass(frozen=True)
class Ports:
    gateway: int
    rasa: int
    actions: int

    @classmethod
    def free(cls) -> Ports:
        return cls(free_port(), free_port(), free_port())


def stack_environ(ports: Ports, workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "GATEWAY_PORT": str(ports.gateway),
            "RASA_URL": f"http://127.0.0.1:{ports.rasa}",
            "ACTION_SERVER_URL": f"http://127.0.0.1:{ports.actions}",
            "RASA_TOKEN": "e2e-test-token-0123456789abcdef",
            "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'gateway.db'}",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def wait_healthy(
    base_url: str, timeout: float, process: subprocess.Popen[str] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/health", timeout=3).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{base_url} not healthy after {timeout:.0f} s")


def start_rasa(ports: Ports, env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    """Rasa alone (the recovery test stops and restarts it)."""
    engine_env = {**engine_environ(env["ACTION_SERVER_URL"])}
    command = [
        str(engine_bin("rasa")),
        "run",
        "--enable-api",
        "--auth-token",
        env["RASA_TOKEN"],
        "--interface",
        "127.0.0.1",
        "--port",
        str(ports.rasa),
        "--model",
        str(model_path()),
        "--endpoints",
        "endpoints.yml",
        "--credentials",
        "credentials.yml",
    ]
    with log.open("a") as out:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=engine_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )


def start_actions(ports: Ports, env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    engine_env = {**engine_environ(env["ACTION_SERVER_URL"]), "SANIC_HOST": "127.0.0.1"}
    command = [
        str(engine_bin("rasa")),
        "run",
        "actions",
        "--actions",
        "actions",
        "--port",
        str(ports.actions),
    ]
    with log.open("a") as out:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=engine_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )


def start_gateway(env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    with log.open("a") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[str], sig: signal.Signals = signal.SIGTERM) -> int:
    if process.poll() is None:
        os.killpg(process.pid, sig)
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.wait()


@contextmanager
def running_up(workdir: Path) -> Iterator[tuple[str, subprocess.Popen[str], Ports]]:
    """``python -m bot up`` as a user runs it (``make run``), on free ports."""
    ports = Ports.free()
    env = stack_environ(ports, workdir)
    log = workdir / "up.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "up"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{ports.gateway}"
    try:
        wait_healthy(base_url, 240, process)
        yield base_url, process, ports
    except BaseException:
        sys.stderr.write(log.read_text())
        raise
    finally:
        stop(process, signal.SIGINT)
