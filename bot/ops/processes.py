"""The three processes: Rasa, the action server and the gateway.

``python -m bot up`` runs them together: children run in their own process groups with their
output in ``var/logs/``; one that stops by itself is started again (:mod:`bot.ops.supervisor`);
Ctrl-C (or SIGTERM) stops all three, gateway first so no request reaches a stopped engine.
The end-to-end tests and the benchmark start them through the same functions.

Secrets: Rasa's token reaches Rasa in its environment, never on a command line (the engine's
launcher, :mod:`bot.engine.launcher`); each engine process gets an allow-listed environment
with what it needs only; while ``bot up`` runs, the token is also in ``var/run/`` (mode 0600)
for the operators' commands (``python -m bot evaluate|deploy|rollback``).
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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from bot.ops import supervisor as supervision
from bot.ops.engine_env import allowed, engine_bin, engine_environ
from bot.ops.settings import ROOT, Settings
from bot.ops.supervisor import Supervisor, status_path
from bot.workbench.training import MODELS

LOGS = ROOT / "var" / "logs"
STOP_GRACE_SECONDS = 10.0
#: How often ``bot up`` asks Rasa which model it has loaded (a restart loads that one).
MODEL_CHECK_SECONDS = 15.0
#: Rasa's settings from the environment (``.env``): its tracker and lock stores.
RASA_VARIABLES = tuple(
    f"{store}_{name}"
    for store in ("TRACKER_STORE", "LOCK_STORE")
    for name in ("HOST", "PORT", "DB", "USER", "PASSWORD")
)
#: The action server's settings from the environment (others come from the gateway's settings).
ACTIONS_VARIABLES = ("NLU_DIR", "TAX_RULES_DIR", "CRONOGRAMA_DIR")


@dataclass
class Child:
    name: str
    process: subprocess.Popen[Any]
    log: Path


def url_port(url: str) -> int:
    parts = urlsplit(url)
    return parts.port or (443 if parts.scheme == "https" else 80)


def actions_command(settings: Settings) -> list[str]:
    """The action server, without ``--cors``: no browser page may call it."""
    port = str(url_port(settings.action_server_url))
    return [str(engine_bin("rasa")), "run", "actions", "--actions", "actions", "--port", port]


def rasa_command(settings: Settings, model: Path) -> list[str]:
    """Rasa with its HTTP API on, through the launcher: the token comes from ``RASA_TOKEN`` in
    :func:`rasa_environ` (``ps`` shows every argument to every local user)."""
    return [
        str(engine_bin("python")), "-m", "bot.engine.launcher", "run", "--enable-api",
        "--interface", "127.0.0.1", "--port", str(url_port(settings.rasa_url)),
        "--model", str(model), "--endpoints", settings.rasa_endpoints,
        "--credentials", "credentials.yml",
    ]  # fmt: skip


def gateway_command() -> list[str]:
    return [sys.executable, "-m", "bot", "serve"]


def rasa_environ(
    settings: Settings, source: Mapping[str, str] | None = None, token: Path | None = None
) -> dict[str, str]:
    """Rasa's environment: the engine's, its token, or the file ``token`` that holds it (the
    launcher reads either and takes both out before Rasa starts), and its tracker and lock
    stores' settings; none of the gateway's other secrets."""
    env = engine_environ(settings.action_server_url, source)
    env.update(allowed(RASA_VARIABLES, source))
    env.update(settings.event_broker_environ)  # endpoints.scale.yml's event_broker
    if token is not None:
        env["RASA_TOKEN_FILE"] = str(token)
    else:
        env["RASA_TOKEN"] = settings.rasa_token.get_secret_value()
    return env


def actions_environ(settings: Settings, source: Mapping[str, str] | None = None) -> dict[str, str]:
    """The action server's environment: the engine's, loopback only, where the articles, the
    padrón and the budget figures are; no token."""
    env = engine_environ(settings.action_server_url, source)
    env.update(allowed(ACTIONS_VARIABLES, source))
    env["SANIC_HOST"] = "127.0.0.1"  # the action server listens on loopback only
    env["KNOWLEDGE_DIR"] = str(settings.knowledge_dir)
    env["PADRON_URL"] = settings.padron_url
    env["TRANSPARENCY_URL"] = settings.transparency_url  # SUNAT's budget figures
    return env


def engine_process_environ(settings: Settings) -> dict[str, str]:
    """One environment for both engine processes (callers that start them with the same one);
    ``bot up`` gives each its own: :func:`rasa_environ`, :func:`actions_environ`."""
    return {**actions_environ(settings), **rasa_environ(settings)}


def _secret_value(value: object) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    raise TypeError(f"{type(value).__name__} is not a setting value")


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
            value = json.dumps(value, default=_secret_value)  # WEBCHAT_API_KEYS: secrets
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


def token_file(rasa_url: str, run_dir: Path | None = None) -> Path:
    """Where ``bot up`` keeps the token of the Rasa it runs on ``rasa_url``'s port."""
    return (run_dir or supervision.RUN_DIR) / f"rasa-{url_port(rasa_url)}.token"


def write_token_file(path: Path, token: str) -> None:
    """Write ``token`` readable by its owner only (the directory too), replacing an old file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(token)


def read_token_file(path: Path) -> str | None:
    """The token in ``path``; None when there is none, or when others could read the file (it
    is then not one ``bot up`` wrote)."""
    try:
        if path.stat().st_mode & 0o077:
            return None
        token = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return token or None


def loaded_model(settings: Settings, models: Path = MODELS) -> Path | None:
    """The model file Rasa has loaded now (None when it does not answer or it is not here)."""
    try:
        response = httpx.get(
            f"{settings.rasa_url}/status",
            params={"token": settings.rasa_token.get_secret_value()},
            timeout=3.0,
        )
        name = response.json().get("model_file") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    if not name:
        return None
    path = Path(str(name))
    for candidate in (path, models / path.name):
        if candidate.is_absolute() and candidate.is_file():
            return candidate
    return None


class _Stop(Exception):
    pass


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


def _exited(children: Sequence[Child]) -> Child | None:
    return next((c for c in children if c.process.poll() is not None), None)


def _starts(
    settings: Settings, live: list[Path], token: Path
) -> list[tuple[str, Callable[[], Child]]]:
    """How each of the three is started (and restarted), in order; Rasa reads its token from
    the file ``token``."""

    def actions() -> Child:
        return spawn("actions", actions_command(settings), actions_environ(settings))

    def rasa() -> Child:
        env = rasa_environ(settings, token=token)
        return spawn("rasa", rasa_command(settings, live[0]), env)

    def gateway() -> Child:
        return spawn("gateway", gateway_command(), gateway_process_environ(settings))

    return [("actions", actions), ("rasa", rasa), ("gateway", gateway)]


def up(model: Path, settings: Settings, ready_timeout: float = 300.0) -> int:
    """Start the three processes, wait until healthy, print the URL, keep them running (a
    child that stops is restarted) until stopped by Ctrl-C or SIGTERM."""
    live = [model]  # the model a restarted Rasa loads: the one it had loaded last
    secret = token_file(settings.rasa_url)
    supervisor = Supervisor(_starts(settings, live, secret), status_path(settings.gateway_port))
    url = f"http://{settings.gateway_host}:{settings.gateway_port}"

    def wait_ready(children: Sequence[Child]) -> None:
        wait_healthy(
            url,
            ready_timeout,
            children,
            on_change=lambda state: print(f"  waiting: {state}", flush=True),
        )

    def check_model() -> None:
        live[0] = loaded_model(settings) or live[0]

    return keep_running(
        supervisor,
        prepare=lambda: write_token_file(secret, settings.rasa_token.get_secret_value()),
        starting="starting Rasa, the action server and the gateway "
        f"(logs in {LOGS.relative_to(ROOT)}/)",
        wait_ready=wait_ready,
        ready=f"Web chat: {url}/  (API docs: {url}/docs).",
        every_while=(MODEL_CHECK_SECONDS, check_model),
        clean_up=lambda: secret.unlink(missing_ok=True),
        stopped="gateway, Rasa and the action server",
    )


def keep_running(
    supervisor: Supervisor,
    *,
    prepare: Callable[[], None],
    starting: str,
    wait_ready: Callable[[Sequence[Child]], None],
    ready: str,
    every_while: tuple[float, Callable[[], None]],
    clean_up: Callable[[], None],
    stopped: str,
) -> int:
    """Run ``supervisor``'s children until Ctrl-C or SIGTERM (``bot up``, ``bot up --scale``):
    ``prepare``, start them, ``wait_ready`` (raises :class:`ChildExited` or ``TimeoutError``:
    exit code 1), then restart those that stop and call ``every_while[1]`` every
    ``every_while[0]`` seconds; at the end stop them all (the last started first) and
    ``clean_up``. Exit code 0 when stopped by a signal."""
    previous = {s: signal.signal(s, _raise_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    started = time.monotonic()
    try:
        prepare()
        supervisor.start()
        print(starting, flush=True)
        try:
            wait_ready(supervisor.children())
        except (ChildExited, TimeoutError) as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            return 1
        print(
            f"ready in {time.monotonic() - started:.0f} s. {ready} Ctrl-C stops everything.",
            flush=True,
        )
        period, job = every_while
        next_job = 0.0
        while True:
            supervisor.check()
            if time.monotonic() >= next_job:
                job()
                next_job = time.monotonic() + period
            time.sleep(0.5)
    except _Stop as received:
        print(f"\n{received.args[0]} received, stopping…", flush=True)
        return 0
    finally:
        # A second Ctrl-C or SIGTERM must not interrupt the shutdown itself.
        for s in previous:
            signal.signal(s, signal.SIG_IGN)
        clean_up()
        children = supervisor.children()
        supervisor.stop(stop)
        for s, handler in previous.items():
            signal.signal(s, handler)
        if children:
            print(f"stopped: {stopped}", flush=True)
