"""``bot up --scale N`` before anything runs: where each process listens, what each one is
told, what settings it refuses, and nginx's configuration (checked by the real nginx)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.ops import topology as scale
from bot.ops.settings import ROOT, Settings
from bot.ops.topology import Topology, TopologyError

POSTGRES = "postgresql+asyncpg://rasa:s3cret@db.local:5433/asistente"


def settings(**values: Any) -> Settings:
    base: dict[str, Any] = {
        "rasa_token": "topology-test-token-0123456789",
        "database_url": POSTGRES,
        "redis_url": "redis://cache.local:6380/3",
        "gateway_port": 8000,
        "rasa_url": "http://127.0.0.1:5005",
        "action_server_url": "http://127.0.0.1:5055",
    }
    return Settings(_env_file=None, **{**base, **values})


def test_each_process_has_its_port() -> None:
    topology = Topology(settings(), 3, 3)
    assert topology.gateway_ports == [8001, 8002, 8003]
    assert topology.engine_urls == [f"http://127.0.0.1:{p}" for p in (5005, 5006, 5007)]
    assert topology.action_ports == [5056, 5057, 5058]
    assert topology.url == "http://127.0.0.1:8000"


def test_one_gateway_can_stand_in_front_of_two_engines() -> None:
    topology = Topology(settings(), 1, 2)
    assert topology.gateway_ports == [8001]
    assert topology.engine_urls == [f"http://127.0.0.1:{p}" for p in (5005, 5006)]
    assert topology.action_ports == [5056, 5057]
    assert topology.label == "1 gateway, 2 engines and action servers"
    assert topology.gateway_settings(0).rasa_urls == topology.engine_urls
    names = [name for name, _ in scale.starts(topology, [Path("m")], Path("t"), consumer=False)]
    assert names == ["actions-1", "actions-2", "rasa-1", "rasa-2", "nginx", "gateway-1"]


def test_ports_that_overlap_are_refused() -> None:
    with pytest.raises(TopologyError, match="overlap"):
        Topology(settings(rasa_url="http://127.0.0.1:8002"), 3, 3)
    with pytest.raises(TopologyError):
        Topology(settings(), 0, 1)
    with pytest.raises(TopologyError, match="1 or more"):
        Topology(settings(), 1, 0)


def test_each_gateway_knows_every_engine_and_trusts_the_balancer() -> None:
    topology = Topology(settings(trusted_proxies=["10.0.0.0/8"]), 2, 2)
    gateway = topology.gateway_settings(1)
    assert gateway.gateway_port == 8002
    assert gateway.engine_urls == ["http://127.0.0.1:5005", "http://127.0.0.1:5006"]
    assert gateway.trusted_proxies == ["10.0.0.0/8", "127.0.0.1/32"]
    # Actions (and the gateway's health check of them) through nginx.
    assert gateway.action_server_url == "http://127.0.0.1:5055"
    assert gateway.database_url == POSTGRES


def test_an_engine_listens_on_its_port_and_calls_actions_through_nginx() -> None:
    topology = Topology(settings(), 2, 2)
    engine = topology.engine_settings(1)
    assert engine.rasa_url == "http://127.0.0.1:5006"
    assert engine.rasa_endpoints == "endpoints.scale.yml"
    assert engine.action_server_url == "http://127.0.0.1:5055"
    assert topology.actions_settings(0).action_server_url == "http://127.0.0.1:5056"


def test_the_engines_stores_come_from_the_settings() -> None:
    env = scale.engine_stores_environ(settings())
    assert env["TRACKER_STORE_HOST"] == "db.local"
    assert env["TRACKER_STORE_PORT"] == "5433"
    assert env["TRACKER_STORE_DB"] == "asistente"
    assert env["TRACKER_STORE_USER"] == "rasa"
    assert env["TRACKER_STORE_PASSWORD"] == "s3cret"
    assert (env["LOCK_STORE_HOST"], env["LOCK_STORE_PORT"], env["LOCK_STORE_DB"]) == (
        "cache.local", "6380", "3",
    )  # fmt: skip
    # A killed engine's conversation lock does not outlast the gateway's wait for an answer.
    assert int(env["TICKET_LOCK_LIFETIME"]) < settings().rasa_timeout_seconds


def test_sqlite_or_no_redis_cannot_run_the_topology() -> None:
    with pytest.raises(TopologyError, match="PostgreSQL"):
        scale.engine_stores_environ(settings(database_url="sqlite+aiosqlite:///x.db"))
    with pytest.raises(TopologyError, match="REDIS_URL"):
        scale.engine_stores_environ(settings(redis_url=None))


def test_every_variable_of_the_scale_endpoints_reaches_the_engines(tmp_path: Path) -> None:
    topology = Topology(settings(), 2, 2)
    plan = scale.starts(topology, [tmp_path / "model.tar.gz"], tmp_path / "token", consumer=True)
    names = [name for name, _ in plan]
    # Engines before the gateways; gateways stopped first (the supervisor stops in reverse).
    assert names == [
        "actions-1", "actions-2", "rasa-1", "rasa-2", "nginx", "gateway-1", "gateway-2",
        "consumer",
    ]  # fmt: skip
    needed = scale.endpoint_variables(ROOT / "endpoints.scale.yml")
    assert {"TRACKER_STORE_DB", "LOCK_STORE_HOST"} <= needed


def test_each_process_gets_its_own_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spawned: dict[str, tuple[list[str], dict[str, str]]] = {}

    def spawn(name: str, command: list[str], env: dict[str, str], log: Path) -> Any:
        spawned[name] = (command, env)

    monkeypatch.setattr(scale, "spawn", spawn)
    monkeypatch.setattr(scale, "RUN_DIR", tmp_path)
    topology = Topology(settings(), 2, 2)
    for _, start in scale.starts(topology, [tmp_path / "m.tar.gz"], tmp_path / "t", True):
        start()
    command, engine = spawned["rasa-2"]
    assert command[command.index("--port") + 1] == "5006"
    assert engine["ACTION_SERVER_URL"] == "http://127.0.0.1:5055"
    assert engine["TRACKER_STORE_DB"] == "asistente"
    assert engine["RASA_TOKEN_FILE"] == str(tmp_path / "t")
    # The gateway's own secrets stay with the gateway.
    assert "DATABASE_URL" not in engine and "RASA_TOKEN" not in engine
    _, gateway = spawned["gateway-1"]
    assert gateway["GATEWAY_PORT"] == "8001"
    assert json.loads(gateway["RASA_URLS"]) == ["http://127.0.0.1:5005", "http://127.0.0.1:5006"]
    assert "127.0.0.1/32" in json.loads(gateway["TRUSTED_PROXIES"])
    command, _ = spawned["actions-2"]
    assert command[command.index("--port") + 1] == "5057"
    command, _ = spawned["nginx"]
    assert command[-2:] == ["-g", "daemon off;"]
    assert (tmp_path / "scale-8000" / "nginx" / "nginx.conf").is_file()
    assert spawned["consumer"][0][-1] == "consume-events"


def test_a_variable_of_the_scale_endpoints_that_is_not_set_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scale, "endpoint_variables", lambda _: {"LOCK_STORE_HOST", "NOT_SET"})
    with pytest.raises(TopologyError, match="NOT_SET"):
        scale.starts(Topology(settings(), 1, 1), [tmp_path / "m"], tmp_path / "t", consumer=False)


def test_the_consumer_is_started_only_when_asked() -> None:
    plan = scale.starts(Topology(settings(), 1, 1), [Path("m")], Path("t"), consumer=False)
    assert "consumer" not in [name for name, _ in plan]


@pytest.mark.skipif(shutil.which("nginx", path="/usr/sbin:/usr/bin") is None, reason="no nginx")
def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    topology = Topology(settings(), 2, 2)
    for folder in ("logs", "temp"):
        (tmp_path / folder).mkdir()
    config = tmp_path / "nginx.conf"
    config.write_text(scale.nginx_config(topology, tmp_path), encoding="utf-8")
    text = config.read_text(encoding="utf-8")
    checked = subprocess.run(
        [scale.nginx_binary(), "-t", "-p", str(tmp_path), "-e", str(tmp_path / "logs" / "e.log"),
         "-c", str(config)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert "server 127.0.0.1:8001" in text and "server 127.0.0.1:8002" in text
    assert "server 127.0.0.1:5056" in text and "listen 127.0.0.1:5055" in text
    # Streams pass: not buffered, upgraded, long timeouts; who called is said.
    for line in (
        "proxy_buffering off;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_read_timeout 3600s;",
        "proxy_set_header X-Forwarded-For $remote_addr;",
    ):
        assert line in text
    # A call cut off by a dying action server is sent to another (actions only look things
    # up); a request a gateway took is never sent twice.
    gateways, actions = text.split("proxy_pass http://action_servers;")
    assert "proxy_next_upstream error timeout non_idempotent;" in actions
    assert "proxy_next_upstream error timeout;" in gateways and "non_idempotent" not in gateways


def test_the_compose_scale_profile_runs_the_same_processes() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    topology = {name.rstrip("-12") for name, _ in scale.starts(
        Topology(settings(), 2, 2), [Path("m")], Path("t"), consumer=True
    )}  # fmt: skip
    # Compose's names for the topology's processes, two of each replicated one.
    names = {"actions": "actions", "rasa": "engine", "gateway": "gateway", "nginx": "nginx",
             "consumer": "consumer"}  # fmt: skip
    for process in topology:
        replicated = process in ("actions", "rasa", "gateway")
        wanted = [f"{names[process]}-{i}" for i in (1, 2)] if replicated else [names[process]]
        for service in wanted:
            assert "scale" in services[service].get("profiles", []), service
    for store in ("postgres", "redis", "rabbitmq"):
        assert "scale" in services[store]["profiles"]
