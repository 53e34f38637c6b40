"""Start the real processes for end-to-end tests: Rasa, the action server and the gateway."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import processes
from bot.processes import Child
from bot.settings import ROOT, Settings
from bot.training import model_path
from tests.ports import free_port

TOKEN = "e2e-test-token-0123456789abcdef"


@dataclass(frozen=True)
class Stack:
    """Settings of a stack on free loopback ports, with its files in ``workdir``."""

    settings: Settings
    workdir: Path

    @classmethod
    def on_free_ports(cls, workdir: Path, **overrides: Any) -> Stack:
        values: dict[str, Any] = {
            "gateway_port": free_port(),
            "rasa_url": f"http://127.0.0.1:{free_port()}",
            "action_server_url": f"http://127.0.0.1:{free_port()}",
            "rasa_token": TOKEN,
            "database_url": f"sqlite+aiosqlite:///{workdir / 'gateway.db'}",
            "log_level": "WARNING",
        }
        return cls(Settings(**{**values, **overrides}), workdir)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.gateway_port}"

    @property
    def ports(self) -> tuple[int, int, int]:
        s = self.settings
        return (
            s.gateway_port,
            processes.url_port(s.rasa_url),
            processes.url_port(s.action_server_url),
        )

    def environ(self) -> dict[str, str]:
        env = processes.gateway_process_environ(self.settings)
        s = self.settings
        env.update(
            {
                "GATEWAY_PORT": str(s.gateway_port),
                "RASA_URL": s.rasa_url,
                "ACTION_SERVER_URL": s.action_server_url,
                "DATABASE_URL": s.database_url,
                "LOG_LEVEL": s.log_level,
                "RASA_ENDPOINTS": s.rasa_endpoints,
            }
        )
        return env

    def start_actions(self) -> Child:
        return processes.spawn(
            "actions",
            processes.actions_command(self.settings),
            processes.engine_process_environ(self.settings),
            self.workdir / "actions.log",
        )

    def start_rasa(self) -> Child:
        return processes.spawn(
            "rasa",
            processes.rasa_command(self.settings, model_path()),
            processes.engine_process_environ(self.settings),
            self.workdir / "rasa.log",
        )

    def start_gateway(self) -> Child:
        return processes.spawn(
            "gateway", processes.gateway_command(), self.environ(), self.workdir / "gateway.log"
        )

    def wait_healthy(self, timeout: float = 240, up: subprocess.Popen[str] | None = None) -> None:
        deadline = time.monotonic() + timeout
        while (state := processes.health(self.base_url)) != "ok":
            if up is not None and up.poll() is not None:
                raise RuntimeError(f"`bot up` exited with {up.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.base_url} not healthy after {timeout:.0f} s: {state}")
            time.sleep(0.5)


def stop(child: Child) -> None:
    processes.stop([child], grace=20)


@contextmanager
def running_up(workdir: Path) -> Iterator[tuple[Stack, subprocess.Popen[str]]]:
    """``python -m bot up`` as a user runs it (``make run``), on free ports."""
    stack = Stack.on_free_ports(workdir)
    log = workdir / "up.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "up"],
            cwd=ROOT,
            env=stack.environ(),
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    try:
        stack.wait_healthy(up=process)
        yield stack, process
    except BaseException:
        sys.stderr.write(log.read_text())
        raise
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
