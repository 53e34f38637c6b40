"""Start the real processes for end-to-end tests: Rasa, the action server and the gateway."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bot.ops import processes
from bot.ops.processes import Child, free_ports
from bot.ops.settings import ROOT, Settings
from bot.workbench.training import model_path
from connectors.webchat_access import COOKIE
from tests.integrator import API_KEY, HEADERS

TOKEN = "e2e-test-token-0123456789abcdef"


@dataclass(frozen=True)
class Stack:
    """Settings of a stack on free loopback ports, with its files in ``workdir``."""

    settings: Settings
    workdir: Path

    @classmethod
    def on_free_ports(cls, workdir: Path, **overrides: Any) -> Stack:
        gateway, rasa, actions = free_ports(3)
        values: dict[str, Any] = {
            "gateway_port": gateway,
            "rasa_url": f"http://127.0.0.1:{rasa}",
            "action_server_url": f"http://127.0.0.1:{actions}",
            "rasa_token": TOKEN,
            "database_url": f"sqlite+aiosqlite:///{workdir / 'gateway.db'}",
            "log_level": "WARNING",
            # Tests name their conversations: they call the web chat as an integrator.
            "webchat_api_keys": [API_KEY],
        }
        # _env_file=None: a developer's .env must not leak into the tests' stacks.
        return cls(Settings(_env_file=None, **{**values, **overrides}), workdir)

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
        return processes.gateway_process_environ(self.settings)

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

    def start_all(self) -> dict[str, Child]:
        """The three processes, started one by one (tests that stop and restart some)."""
        return {
            "actions": self.start_actions(),
            "rasa": self.start_rasa(),
            "gateway": self.start_gateway(),
        }

    def chat(self, sender: str, message: str) -> list[dict[str, Any]]:
        """Send through the web chat endpoint as an integrator (``X-Api-Key``, ``sender``);
        the bot's messages."""
        response = httpx.post(
            f"{self.base_url}/webhooks/webchat",
            json={"sender": sender, "message": message},
            headers=HEADERS,
            timeout=30,
        )
        assert response.status_code == 200, response.text
        replies: list[dict[str, Any]] = response.json()
        return replies

    def history(self, sender: str) -> list[dict[str, Any]]:
        """The conversation's history, read as an integrator."""
        response = httpx.get(
            f"{self.base_url}/webchat/history", params={"sender": sender}, headers=HEADERS
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()
        return items

    def citizen(self) -> httpx.Client:
        """A client holding a citizen's web chat session, as the page does (the cookie is
        passed by hand: over http://127.0.0.1 it is ``Secure``, which httpx keeps to itself)."""
        response = httpx.post(f"{self.base_url}/webchat/session", timeout=10)
        assert response.status_code == 201, response.text
        token = response.cookies[COOKIE]
        return httpx.Client(
            base_url=self.base_url, headers={"Cookie": f"{COOKIE}={token}"}, timeout=30
        )

    def wait_healthy(self, timeout: float = 240, up: subprocess.Popen[str] | None = None) -> None:
        children = [Child("bot up", up, self.workdir / "up.log")] if up is not None else []
        processes.wait_healthy(self.base_url, timeout, children)


def project_copy(workdir: Path) -> Path:
    """A copy of the Rasa project (config, domain, data) that the workbench may edit and train,
    so the repository's files are never touched."""
    project = workdir / "project"
    project.mkdir()
    for name in ("config.yml", "domain.yml", "credentials.yml", "endpoints.yml"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "data", project / "data")
    return project


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
            # SIGTERM makes `bot up` stop its children; SIGKILL follows if it hangs.
            processes.stop([Child("bot up", process, log)], grace=20)
