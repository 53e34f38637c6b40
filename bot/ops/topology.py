"""``python -m bot up --scale N``: the scale-out topology on one machine.

N gateways, N Rasa engines and N action servers (``--gateways G`` and ``--engines E`` set
either apart: ``--scale 2 --gateways 1`` is one gateway in front of two engines), the event
consumer (``consume-events``, when
this version of the bot has it) and nginx in front of them, all children of one supervisor
(:mod:`bot.ops.supervisor`: a child that stops is started again; Ctrl-C stops all). They share
the machine's PostgreSQL (``DATABASE_URL``: the gateways' tables and Rasa's trackers), Redis
(``REDIS_URL``: the gateways' shared state and Rasa's conversation locks) and RabbitMQ (the
``EVENT_BROKER_*`` settings: Rasa's events), all from the settings.

Addresses, so that operators and their commands can find each part:

- nginx listens on ``GATEWAY_HOST:GATEWAY_PORT`` and spreads requests over the gateways on the
  next N ports (``GATEWAY_PORT+1`` …); it streams (SSE, WebSocket) and says who the citizen is
  in ``X-Forwarded-For`` (the gateways trust loopback for it);
- the engines listen on ``RASA_URL``'s port and the next N-1; each gateway knows all of them
  (``RASA_URLS``) and spreads conversations itself (:mod:`bot.conversation.rasa_client`);
- nginx's second upstream listens on ``ACTION_SERVER_URL``'s port, in front of the action
  servers on the next N ports; the engines call actions through it.

nginx's configuration, pid file, logs and temporary files are in ``var/run/scale-<port>/``.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy.engine import make_url

from bot.ops import processes
from bot.ops.processes import Child, ChildExited, spawn
from bot.ops.settings import ROOT, Settings
from bot.ops.supervisor import RUN_DIR, Supervisor, status_path

SCALE_ENDPOINTS = "endpoints.scale.yml"
#: Rasa's conversation lock expires after this many seconds when the engine holding it dies
#: (Rasa's default, 60 s, would keep the conversation waiting that long on the other engines,
#: longer than the gateway waits for an answer). Longer than any one message takes.
LOCK_LIFETIME_SECONDS = 10
#: The event consumer's subcommand, written by the analytics room.
CONSUMER_COMMAND = "consume-events"
#: Seconds nginx waits for a gateway's answer: web chat streams and console sockets stay open.
STREAM_TIMEOUT_SECONDS = 3600


class TopologyError(Exception):
    """The settings or the machine cannot run the topology (the message says what to change)."""


@dataclass(frozen=True)
class Topology:
    """Where each process of ``bot up --scale`` listens, and the settings each one gets:
    ``gateways`` gateways, ``engines`` Rasa engines with an action server each."""

    settings: Settings
    gateways: int
    engines: int

    def __post_init__(self) -> None:
        if self.gateways < 1 or self.engines < 1:
            raise TopologyError("--scale, --gateways and --engines must be 1 or more")
        ports = [
            self.settings.gateway_port,
            *self.gateway_ports,
            *(processes.url_port(url) for url in self.engine_urls),
            processes.url_port(self.settings.action_server_url),
            *self.action_ports,
        ]
        if len(set(ports)) != len(ports) or max(ports) > 65535:
            raise TopologyError(
                f"the ports of {self.gateways} gateways, {self.engines} engines and action "
                "servers overlap "
                f"({sorted(ports)}): set GATEWAY_PORT, RASA_URL and ACTION_SERVER_URL's ports "
                "further apart"
            )

    @property
    def gateway_ports(self) -> list[int]:
        return [self.settings.gateway_port + 1 + i for i in range(self.gateways)]

    @property
    def engine_urls(self) -> list[str]:
        first = processes.url_port(self.settings.rasa_url)
        return [f"http://127.0.0.1:{first + i}" for i in range(self.engines)]

    @property
    def action_ports(self) -> list[int]:
        first = processes.url_port(self.settings.action_server_url)
        return [first + 1 + i for i in range(self.engines)]

    @property
    def url(self) -> str:
        """The load balancer: what citizens, platforms and agents call."""
        return f"http://{self.settings.gateway_host}:{self.settings.gateway_port}"

    @property
    def label(self) -> str:
        """In words: "2 gateways, 2 engines and action servers"."""
        return (
            f"{self.gateways} gateway{'s' * (self.gateways > 1)}, {self.engines} "
            f"engine{'s' * (self.engines > 1)} and action server{'s' * (self.engines > 1)}"
        )

    @property
    def run_dir(self) -> Path:
        return RUN_DIR / f"scale-{self.settings.gateway_port}"

    @property
    def logs(self) -> Path:
        """Each process's output, ``<name>.log``."""
        return processes.LOGS / f"scale-{self.settings.gateway_port}"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def gateway_settings(self, index: int) -> Settings:
        """A gateway behind nginx: its own port, every engine, the actions through nginx."""
        proxies = [*self.settings.trusted_proxies, "127.0.0.1/32"]
        return self.settings.model_copy(
            update={
                "gateway_host": "127.0.0.1",
                "gateway_port": self.gateway_ports[index],
                "rasa_url": self.engine_urls[0],
                "rasa_urls": self.engine_urls,
                "rasa_endpoints": SCALE_ENDPOINTS,
                "trusted_proxies": list(dict.fromkeys(proxies)),
            }
        )

    def engine_settings(self, index: int) -> Settings:
        """An engine: its own port, its actions through nginx (ACTION_SERVER_URL)."""
        return self.settings.model_copy(
            update={"rasa_url": self.engine_urls[index], "rasa_endpoints": SCALE_ENDPOINTS}
        )

    def actions_settings(self, index: int) -> Settings:
        url = f"http://127.0.0.1:{self.action_ports[index]}"
        return self.settings.model_copy(update={"action_server_url": url})


def engine_stores_environ(settings: Settings) -> dict[str, str]:
    """What endpoints.scale.yml reads, from the settings: trackers in ``DATABASE_URL``'s
    PostgreSQL database, locks in ``REDIS_URL``'s Redis, events to RabbitMQ (the
    ``TRACKER_STORE_*`` and ``LOCK_STORE_*`` variables of ``.env`` are not used here). Raises
    :class:`TopologyError` when the settings cannot hold several processes."""
    database = make_url(settings.database_url)
    if database.get_backend_name() != "postgresql":
        raise TopologyError(
            "--scale needs DATABASE_URL on PostgreSQL (postgresql+asyncpg://user@host/db): "
            f"the gateways and the engines share it; it is {database.get_backend_name()} now"
        )
    if not settings.redis_url:
        raise TopologyError(
            "--scale needs REDIS_URL (redis://host:6379/0): the gateways share their live "
            "updates there and the engines lock each conversation there"
        )
    redis = urlsplit(settings.redis_url)
    if redis.password:
        raise TopologyError(
            "REDIS_URL has a password, which Rasa's lock store (endpoints.scale.yml) is not given"
        )
    return {
        "TRACKER_STORE_HOST": database.host or "127.0.0.1",
        "TRACKER_STORE_PORT": str(database.port or 5432),
        "TRACKER_STORE_DB": database.database or "postgres",
        "TRACKER_STORE_USER": database.username or "postgres",
        "TRACKER_STORE_PASSWORD": database.password or "",
        "LOCK_STORE_HOST": redis.hostname or "127.0.0.1",
        "LOCK_STORE_PORT": str(redis.port or 6379),
        "LOCK_STORE_DB": redis.path.strip("/") or "0",
        "TICKET_LOCK_LIFETIME": str(LOCK_LIFETIME_SECONDS),
        **settings.event_broker_environ,
    }


def endpoint_variables(endpoints: Path) -> set[str]:
    """The ``${NAME}`` variables an endpoints file reads."""
    return set(re.findall(r"\$\{(\w+)\}", endpoints.read_text(encoding="utf-8")))


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise TopologyError("--scale needs nginx: install it with `apt-get install -y nginx`")
    return found


def nginx_config(topology: Topology, prefix: Path) -> str:
    """nginx in front of the gateways and of the action servers, its files under ``prefix``."""
    settings = topology.settings
    gateways = "\n".join(
        f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;"
        for port in topology.gateway_ports
    )
    actions = "\n".join(
        f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;"
        for port in topology.action_ports
    )
    temp = prefix / "temp"
    # Started by root, nginx's workers would run as nobody, who may not enter var/run (0700).
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    return f"""# Written by `python -m bot up` ({topology.label}) at each start: do not edit.
{user}worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "logs" / "error.log"} warn;
events {{ worker_connections 4096; }}

http {{
  access_log off;
  client_body_temp_path {temp / "body"};
  proxy_temp_path {temp / "proxy"};
  fastcgi_temp_path {temp / "fastcgi"};
  uwsgi_temp_path {temp / "uwsgi"};
  scgi_temp_path {temp / "scgi"};
  client_max_body_size 25m;
  # Rasa sends the action servers the whole tracker: kept in memory, not in temporary files.
  client_body_buffer_size 1m;

  # WebSocket (the console) upgrades; plain requests keep the upstream connection alive.
  map $http_upgrade $connection_upgrade {{
    default upgrade;
    ''      '';
  }}

  upstream gateways {{
    least_conn;
{gateways}
    keepalive 64;
  }}

  upstream action_servers {{
    least_conn;
{actions}
    keepalive 32;
  }}

  server {{
    listen {settings.gateway_host}:{settings.gateway_port};
    location / {{
      proxy_pass http://gateways;
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      # nginx is the edge here: who called it, not what the caller claims.
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      # Web chat answers stream (SSE): passed on as they come.
      proxy_buffering off;
      proxy_cache off;
      proxy_read_timeout {STREAM_TIMEOUT_SECONDS}s;
      proxy_send_timeout {STREAM_TIMEOUT_SECONDS}s;
      # A request no gateway took (no connection) goes to the next; one a gateway took is
      # never sent twice, and a gateway's own 503 (e.g. /health while an engine is down) is
      # its answer, not a reason to leave it out.
      proxy_connect_timeout 2s;
      proxy_next_upstream error timeout;
    }}
  }}

  server {{
    listen 127.0.0.1:{processes.url_port(settings.action_server_url)};
    location / {{
      proxy_pass http://action_servers;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_connect_timeout 2s;
      proxy_read_timeout 60s;
      # Actions only look things up (the gateway keeps what changes), so a call whose action
      # server died in the middle is sent again to another one instead of failing the message.
      proxy_next_upstream error timeout non_idempotent;
    }}
  }}
}}
"""


def consumer_available() -> bool:
    """Whether this version of the bot has the event consumer's command."""
    listing = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    return CONSUMER_COMMAND in listing.stdout


def starts(
    topology: Topology, live: list[Path], token: Path, consumer: bool
) -> list[tuple[str, Callable[[], Child]]]:
    """How each process is started (and restarted), in order: action servers, engines (each
    loads ``live[0]``; its token from the file ``token``), nginx, gateways, the consumer."""
    stores = engine_stores_environ(topology.settings)
    variables = endpoint_variables(ROOT / SCALE_ENDPOINTS)
    result: list[tuple[str, Callable[[], Child]]] = []

    def actions(index: int) -> Callable[[], Child]:
        settings = topology.actions_settings(index)
        command = processes.actions_command(settings)
        env = processes.actions_environ(settings)
        name = f"actions-{index + 1}"
        return lambda: spawn(name, command, env, topology.log(name))

    def engine(index: int) -> Callable[[], Child]:
        settings = topology.engine_settings(index)
        env = processes.rasa_environ(settings, token=token)
        env.update(stores)
        if missing := sorted(variables - set(env)):
            raise TopologyError(f"{SCALE_ENDPOINTS} reads {', '.join(missing)}: not set")
        name = f"rasa-{index + 1}"
        return lambda: spawn(
            name, processes.rasa_command(settings, live[0]), env, topology.log(name)
        )

    prefix = topology.run_dir / "nginx"

    def nginx() -> Child:
        for folder in ("logs", "temp"):
            (prefix / folder).mkdir(parents=True, exist_ok=True)
        config = prefix / "nginx.conf"
        config.write_text(nginx_config(topology, prefix), encoding="utf-8")
        command = [
            nginx_binary(), "-p", str(prefix), "-e", str(prefix / "logs" / "error.log"),
            "-c", str(config), "-g", "daemon off;",
        ]  # fmt: skip
        return spawn(
            "nginx", command, {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}, topology.log("nginx")
        )

    def gateway(index: int) -> Callable[[], Child]:
        env = processes.gateway_process_environ(topology.gateway_settings(index))
        name = f"gateway-{index + 1}"
        return lambda: spawn(name, processes.gateway_command(), env, topology.log(name))

    for index in range(topology.engines):
        result.append((f"actions-{index + 1}", actions(index)))
    for index in range(topology.engines):
        result.append((f"rasa-{index + 1}", engine(index)))
    result.append(("nginx", nginx))
    for index in range(topology.gateways):
        result.append((f"gateway-{index + 1}", gateway(index)))
    if consumer:
        env = processes.gateway_process_environ(topology.settings)
        command = [sys.executable, "-m", "bot", CONSUMER_COMMAND]
        log = topology.log("consumer")
        result.append(("consumer", lambda: spawn("consumer", command, env, log)))
    return result


def waiting_for(topology: Topology) -> list[str]:
    """The parts not ready yet (empty: all are): each engine with its model, each action
    server, each gateway, and the gateways through nginx."""
    token = topology.settings.rasa_token.get_secret_value()
    waiting = []
    for index, url in enumerate(topology.engine_urls):
        try:
            status = httpx.get(f"{url}/status", params={"token": token}, timeout=3.0)
            ready = status.status_code == 200 and bool(status.json().get("model_file"))
        except (httpx.HTTPError, ValueError, AttributeError):
            ready = False
        if not ready:
            waiting.append(f"rasa-{index + 1}")
    for index, port in enumerate(topology.action_ports):
        try:
            ready = httpx.get(f"http://127.0.0.1:{port}/health", timeout=3.0).status_code == 200
        except httpx.HTTPError:
            ready = False
        if not ready:
            waiting.append(f"actions-{index + 1}")
    for index, port in enumerate(topology.gateway_ports):
        if processes.health(f"http://127.0.0.1:{port}") != "ok":
            waiting.append(f"gateway-{index + 1}")
    if not waiting and processes.health(topology.url) != "ok":
        waiting.append("nginx")
    return waiting


def wait_ready(
    topology: Topology,
    timeout: float,
    children: Sequence[Child],
    on_change: Callable[[str], None] | None = None,
) -> None:
    """Until every part is ready; raise if a child exits or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    last = ""
    while waiting := waiting_for(topology):
        if dead := next((c for c in children if c.process.poll() is not None), None):
            raise ChildExited(dead)
        state = "starting " + ", ".join(waiting)
        if on_change is not None and state != last:
            on_change(state)
            last = state
        if time.monotonic() > deadline:
            raise TimeoutError(f"not ready after {timeout:.0f} s ({state})")
        time.sleep(1.0)


def up_scaled(
    model: Path, settings: Settings, gateways: int, engines: int, ready_timeout: float = 600.0
) -> int:
    """Start the topology, wait until every part is ready, keep it running (a child that stops
    is restarted) until Ctrl-C or SIGTERM. Exit code 2 when the settings cannot run it."""
    try:
        topology = Topology(settings, gateways, engines)
        nginx_binary()
        consumer = consumer_available()
        live = [model]  # the model a restarted engine loads: the one the engines run now
        token = processes.token_file(settings.rasa_url)
        plan = starts(topology, live, token, consumer)
    except TopologyError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    status = status_path(settings.gateway_port)
    # Each gateway shows the restarts in its /health from the status file of its own port.
    aliases = [status_path(port) for port in topology.gateway_ports]
    supervisor = Supervisor(plan, status)

    def prepare() -> None:
        processes.write_token_file(token, settings.rasa_token.get_secret_value())
        for alias in aliases:
            alias.unlink(missing_ok=True)
            alias.symlink_to(status.name)

    def clean_up() -> None:
        token.unlink(missing_ok=True)
        for alias in aliases:
            alias.unlink(missing_ok=True)

    def check_model() -> None:
        for index in range(engines):
            if found := processes.loaded_model(topology.engine_settings(index)):
                live[0] = found
                return

    urls = ",".join(topology.engine_urls)
    return processes.keep_running(
        supervisor,
        prepare=prepare,
        starting=f"starting {topology.label}, nginx"
        f"{' and the event consumer' if consumer else ''} (logs in "
        f"{topology.logs.relative_to(ROOT)}/)",
        wait_ready=lambda children: wait_ready(
            topology,
            ready_timeout,
            children,
            on_change=lambda state: print(f"  waiting: {state}", flush=True),
        ),
        ready=f"Web chat: {topology.url}/ (nginx, {topology.label}). Operators' commands: "
        f"RASA_URLS={urls}.",
        every_while=(processes.MODEL_CHECK_SECONDS, check_model),
        clean_up=clean_up,
        stopped=f"the topology of {topology.label}",
    )
