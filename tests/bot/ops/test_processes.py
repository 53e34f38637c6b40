"""The processes of ``python -m bot up``: their environments and command lines (what other local
users and the engine may see), the launcher that keeps Rasa's token off the command line, and
the supervisor that restarts a child that stops."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.ops import processes, supervisor
from bot.ops.processes import (
    Child,
    actions_command,
    actions_environ,
    free_ports,
    gateway_process_environ,
    rasa_command,
    rasa_environ,
)
from bot.ops.settings import ROOT, Settings
from bot.ops.supervisor import Backoff, Supervisor, read_status, restarts, status_path

TOKEN = "a-long-enough-secret-token"
#: Secrets of the gateway, by setting; none may reach an engine process.
GATEWAY_SECRETS = {
    "META_APP_SECRET": "meta-app-secret-value-1234",
    "MESSENGER_PAGE_ACCESS_TOKEN": "messenger-page-token-5678",
    "MESSENGER_VERIFY_TOKEN": "messenger-verify-token-9012",
    "WHATSAPP_ACCESS_TOKEN": "whatsapp-access-token-3456",
    "WHATSAPP_VERIFY_TOKEN": "whatsapp-verify-token-7890",
    "TWILIO_AUTH_TOKEN": "twilio-auth-token-1234abcd",
    "DATABASE_URL": "postgresql+asyncpg://gateway:db-password-5555@db/gateway",
    "SOMETHING_ELSE_SECRET": "unrelated-secret-of-the-shell",
}


def engine_python() -> str:
    """The engine's interpreter (Python 3.10) when it is installed: the launcher runs there."""
    python = ROOT / ".venv-rasa" / "bin" / "python"
    return str(python) if python.exists() else sys.executable


def test_gateway_child_gets_exactly_the_parents_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(
        _env_file=None,
        rasa_token=TOKEN,
        gateway_port=9123,
        rasa_endpoints="endpoints.scale.yml",
        webchat_allowed_origins=["https://www.gob.pe"],
    )
    for name, value in gateway_process_environ(settings).items():
        monkeypatch.setenv(name, value)
    assert Settings(_env_file=None) == settings


def test_free_ports_are_distinct() -> None:
    for _ in range(50):
        ports = free_ports(3)
        assert len(set(ports)) == 3


# --- what the engine processes receive -----------------------------------------------------


@pytest.fixture()
def secret_settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with every gateway secret set, in the environment too (as ``.env`` puts them)."""
    for name, value in GATEWAY_SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RASA_TOKEN", TOKEN)
    # The padrón's database: the action server needs it (Rasa does not).
    monkeypatch.setenv("PADRON_DATABASE_URL", "sqlite:////srv/padron.db")
    monkeypatch.setenv("TRANSPARENCY_DATABASE_URL", "sqlite:////srv/transparencia.db")
    monkeypatch.setenv("TRACKER_STORE_PASSWORD", "tracker-store-password")
    monkeypatch.setenv("TRACKER_STORE_HOST", "postgres")
    monkeypatch.setenv("CRONOGRAMA_DIR", "/srv/cronograma")
    monkeypatch.setenv("LANG", "es_PE.UTF-8")
    return Settings(_env_file=None, whatsapp_phone_number_id="123", twilio_account_sid="AC1")


def test_no_gateway_secret_reaches_an_engine_process(secret_settings: Settings) -> None:
    for env in (rasa_environ(secret_settings), actions_environ(secret_settings)):
        leaked = [
            name for name, secret in GATEWAY_SECRETS.items()
            if any(secret in value for value in env.values())
        ]  # fmt: skip
        assert leaked == []
        assert env["PATH"] == os.environ["PATH"] and env["LANG"] == "es_PE.UTF-8"
        assert env["RASA_TELEMETRY_ENABLED"] == "false" and env["PYTHONPATH"] == str(ROOT)
    rasa, actions = rasa_environ(secret_settings), actions_environ(secret_settings)
    # Each gets what it needs: Rasa its token and tracker store, the actions their data.
    assert rasa["RASA_TOKEN"] == TOKEN
    assert rasa["TRACKER_STORE_PASSWORD"] == "tracker-store-password"
    assert rasa["ACTION_SERVER_URL"] == secret_settings.action_server_url
    # Under `bot up`, only the name of its 0600 file.
    from_file = rasa_environ(secret_settings, token=Path("/run/rasa.token"))
    assert from_file["RASA_TOKEN_FILE"] == "/run/rasa.token"
    assert all(TOKEN not in value for value in from_file.values())
    assert all(TOKEN not in value for value in actions.values())
    assert "TRACKER_STORE_PASSWORD" not in actions
    assert all("/srv/padron.db" not in value for value in rasa.values())
    assert actions["SANIC_HOST"] == "127.0.0.1"
    assert actions["PADRON_URL"] == "sqlite:////srv/padron.db"
    assert actions["CRONOGRAMA_DIR"] == "/srv/cronograma"
    assert actions["KNOWLEDGE_DIR"] == str(secret_settings.knowledge_dir)


def test_the_action_server_is_told_where_the_budget_figures_are(tmp_path: Path) -> None:
    beside = Settings(
        _env_file=None, rasa_token=TOKEN, database_url=f"sqlite+aiosqlite:///{tmp_path}/gw.db"
    )
    assert actions_environ(beside)["TRANSPARENCY_URL"] == f"sqlite:///{tmp_path}/transparencia.db"
    assert "TRANSPARENCY_URL" not in rasa_environ(beside)
    same = Settings(_env_file=None, rasa_token=TOKEN, database_url="postgresql+asyncpg://u@h/db")
    assert actions_environ(same)["TRANSPARENCY_URL"] == "postgresql+asyncpg://u@h/db"
    own = Settings(
        _env_file=None, rasa_token=TOKEN, transparency_database_url="postgresql://t@h/figures"
    )
    assert actions_environ(own)["TRANSPARENCY_URL"] == "postgresql://t@h/figures"


def test_the_token_is_on_no_command_line_and_the_action_server_allows_no_origin(
    secret_settings: Settings,
) -> None:
    rasa = rasa_command(secret_settings, Path("models/m.tar.gz"))
    assert all(TOKEN not in argument for argument in rasa)
    assert "--auth-token" not in rasa and rasa[1:3] == ["-m", "bot.engine.launcher"]
    assert rasa[rasa.index("--interface") + 1] == "127.0.0.1"
    # Without --cors, Rasa and rasa_sdk configure CORS with no allowed origin.
    assert not any(a.startswith("--cors") for a in rasa + actions_command(secret_settings))


# --- the launcher --------------------------------------------------------------------------


@pytest.fixture()
def fake_rasa(tmp_path: Path) -> Path:
    """A ``rasa`` package whose main records what it was given, then waits to be stopped."""
    package = tmp_path / "fake" / "rasa"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(
        textwrap.dedent(
            """
            import json, os, sys, time

            def main():
                seen = {"argv": sys.argv, "environ": sorted(os.environ)}
                with open(os.environ["SEEN_FILE"] + ".tmp", "w") as out:
                    json.dump(seen, out)
                os.replace(os.environ["SEEN_FILE"] + ".tmp", os.environ["SEEN_FILE"])
                time.sleep(60)
            """
        )
    )
    return tmp_path / "fake"


def launch(fake: Path, seen: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    base = {"PATH": os.environ["PATH"], "PYTHONPATH": f"{fake}:{ROOT}", "SEEN_FILE": str(seen)}
    with seen.with_suffix(".err").open("wb") as errors:
        return subprocess.Popen(
            [engine_python(), "-m", "bot.engine.launcher", "run", "--enable-api", "--port", "5005"],
            cwd=ROOT, env={**base, **env}, stderr=errors,
        )  # fmt: skip


def wait_for(path: Path, process: subprocess.Popen[bytes], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, path.with_suffix(".err").read_text()
        assert time.monotonic() < deadline, "the fake rasa did not start"
        time.sleep(0.05)
    return json.loads(path.read_text())


@pytest.mark.parametrize("through", ["environment", "file"])
def test_the_launcher_keeps_the_token_off_the_process_command_line(
    fake_rasa: Path, tmp_path: Path, through: str
) -> None:
    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n")
    secret.chmod(0o600)
    env = {"RASA_TOKEN": TOKEN} if through == "environment" else {"RASA_TOKEN_FILE": str(secret)}
    seen_file = tmp_path / "seen.json"
    process = launch(fake_rasa, seen_file, env)
    try:
        seen = wait_for(seen_file, process)
        command_line = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        ps = subprocess.run(
            ["ps", "-ww", "-o", "args=", "-p", str(process.pid)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        process.kill()
        process.wait()
    assert b"bot.engine.launcher" in command_line and b"--enable-api" in command_line
    assert TOKEN.encode() not in command_line and TOKEN not in ps
    # Rasa itself parses the token, and neither it nor its children find it in the environment.
    assert seen["argv"][1:] == ["run", "--enable-api", "--port", "5005", "--auth-token", TOKEN]
    assert "RASA_TOKEN" not in seen["environ"] and "RASA_TOKEN_FILE" not in seen["environ"]


@pytest.mark.parametrize("case", ["missing", "readable by others", "on the command line"])
def test_the_launcher_refuses_to_start_rasa_without_a_safe_token(
    fake_rasa: Path, tmp_path: Path, case: str
) -> None:
    secret = tmp_path / "token"
    secret.write_text(TOKEN)
    secret.chmod(0o644)
    env = {"readable by others": {"RASA_TOKEN_FILE": str(secret)}}.get(case, {})
    command = [engine_python(), "-m", "bot.engine.launcher", "run"]
    if case == "on the command line":
        env, command = {"RASA_TOKEN": TOKEN}, [*command, "--auth-token", TOKEN]
    base = {"PATH": os.environ["PATH"], "PYTHONPATH": f"{fake_rasa}:{ROOT}"}
    done = subprocess.run(
        command, cwd=ROOT, env={**base, **env, "SEEN_FILE": str(tmp_path / "seen")},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode != 0 and done.stderr.startswith("error: ")
    assert not (tmp_path / "seen").exists()  # rasa never started


# --- the supervisor ------------------------------------------------------------------------


def sleeper(name: str, log: Path) -> Callable[[], Child]:
    """Starts a dummy child that runs until killed."""

    def start() -> Child:
        command = [sys.executable, "-c", "import time; time.sleep(120)"]
        return processes.spawn(name, command, {"PATH": os.environ["PATH"]}, log)

    return start


@pytest.fixture()
def clock() -> list[float]:
    return [1000.0]


@pytest.fixture()
def supervised(tmp_path: Path, clock: list[float]) -> Iterator[tuple[Supervisor, list[str]]]:
    said: list[str] = []
    keeper = Supervisor(
        [("actions", sleeper("actions", tmp_path / "a.log")),
         ("rasa", sleeper("rasa", tmp_path / "r.log"))],
        tmp_path / "run" / "up-8000.json",
        Backoff(first=1.0, longest=4.0, reset_after=60.0),
        say=said.append, clock=lambda: clock[0], wall_clock=lambda: f"t={clock[0]:g}",
    )  # fmt: skip
    keeper.start()
    yield keeper, said
    keeper.stop(processes.stop)


def crash(child: Child) -> None:
    os.kill(child.process.pid, signal.SIGKILL)
    child.process.wait(timeout=10)


def test_a_child_that_stops_is_restarted_with_a_growing_wait_then_a_fresh_one(
    supervised: tuple[Supervisor, list[str]], clock: list[float], tmp_path: Path
) -> None:
    keeper, said = supervised
    actions, rasa = keeper.children()
    status_file = tmp_path / "run" / "up-8000.json"
    waits = []
    for expected_wait in (1, 2, 4, 4):  # crashes in a row: 1, 2, 4 s, then at most 4 s
        current = keeper.children()[1]
        crash(current)
        keeper.check()
        assert said[-1].startswith(f"rasa stopped unexpectedly (exit -9) after {0:.0f} s;")
        assert said[-1].endswith(f"restarting in {expected_wait} s (see {tmp_path / 'r.log'})")
        status = read_status(status_file)
        assert status is not None and status["processes"]["rasa"]["state"] == "restarting"
        assert restarts(status)["rasa"]["state"] == "restarting"
        clock[0] += expected_wait - 0.5
        keeper.check()
        assert keeper.children()[1] is current  # still waiting
        clock[0] += 0.5
        keeper.check()
        restarted = keeper.children()[1]
        assert restarted.process.pid != current.process.pid and restarted.process.poll() is None
        waits.append(expected_wait)
        assert said[-1] == f"rasa restarted (pid {restarted.process.pid}, restart {len(waits)})"
    # Up for a minute: the next stop counts as the first again.
    clock[0] += 60
    crash(keeper.children()[1])
    keeper.check()
    assert said[-1].endswith("restarting in 1 s (see " + str(tmp_path / "r.log") + ")")
    assert "after 60 s" in said[-1]
    assert keeper.children()[0] is actions and actions.process.poll() is None  # untouched
    status = read_status(status_file)
    assert status is not None and status["supervisor_pid"] == os.getpid()
    assert status["processes"]["actions"] == {
        "pid": actions.process.pid, "state": "running", "restarts": 0, "last_restart": None,
        "last_exit": None,
    }  # fmt: skip
    assert status["processes"]["rasa"] == {
        "pid": None, "state": "restarting", "restarts": 4, "last_restart": "t=1011",
        "last_exit": -9,
    }  # fmt: skip
    assert rasa.process.returncode == -9


def test_stop_ends_every_child_and_removes_the_status(
    supervised: tuple[Supervisor, list[str]], tmp_path: Path
) -> None:
    keeper, _ = supervised
    children = keeper.children()
    assert (tmp_path / "run" / "up-8000.json").exists()
    keeper.stop(processes.stop)
    assert all(c.process.poll() is not None for c in children)
    assert not (tmp_path / "run" / "up-8000.json").exists()


def test_a_status_left_by_another_run_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "up-8000.json"
    path.write_text(json.dumps({"supervisor_pid": 1, "processes": {"rasa": {"restarts": 2}}}))
    assert read_status(path, supervisor_pid=os.getpid()) is None
    assert restarts(read_status(path, supervisor_pid=1)) == {
        "rasa": {"count": 2, "last": None, "last_exit": None, "state": None}
    }
    path.write_text("{half a file")
    assert read_status(path) is None


def test_health_shows_the_restarts_of_the_gateways_own_bot_up(
    client: TestClient, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervisor, "RUN_DIR", tmp_path)
    assert "restarts" not in client.get("/health").json()  # not under `bot up`
    rasa = {"pid": 77, "state": "running", "restarts": 1, "last_restart": "2025-01-02T03:04:05Z",
            "last_exit": -9}  # fmt: skip
    actions = {"pid": 78, "state": "running", "restarts": 0, "last_restart": None,
               "last_exit": None}  # fmt: skip
    status = {"processes": {"rasa": rasa, "actions": actions}}
    path = status_path(settings.gateway_port)
    path.write_text(json.dumps({**status, "supervisor_pid": os.getppid() + 1}))
    assert "restarts" not in client.get("/health").json()  # another run's
    path.write_text(json.dumps({**status, "supervisor_pid": os.getppid()}))
    body = client.get("/health").json()
    assert body["restarts"] == {
        "rasa": {"count": 1, "last": "2025-01-02T03:04:05Z", "last_exit": -9, "state": "running"}
    }


# --- bot up, with dummy children ------------------------------------------------------------

#: Runs ``processes.up`` with dummy children (each records its pid) and no real engine.
UP_SCRIPT = """
import json, os, sys, time
from pathlib import Path
from bot.ops import processes
from bot.ops import supervisor
from bot.ops.settings import Settings

run_dir, gateway_port = Path(sys.argv[1]), int(sys.argv[2])
supervisor.RUN_DIR = run_dir

def starts(settings, live, token):
    def start(name):
        def spawn():
            return processes.spawn(
                name, [sys.executable, "-c", "import time; time.sleep(300)"],
                {"PATH": os.environ["PATH"]}, run_dir / f"{name}.log",
            )
        return spawn
    return [(name, start(name)) for name in ("actions", "rasa", "gateway")]

processes._starts = starts
processes.wait_healthy = lambda *args, **kwargs: None
processes.loaded_model = lambda settings: None
settings = Settings(
    _env_file=None, rasa_token="up-test-token-0123456789", gateway_port=gateway_port
)
sys.exit(processes.up(Path("model.tar.gz"), settings))
"""


def wait_until(condition: Callable[[], Any], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)
    return value


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone too (its parent has not reaped it yet).
    return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_bot_up_restarts_a_killed_child_and_stops_everything_on_a_signal(
    tmp_path: Path, sig: signal.Signals
) -> None:
    port = free_ports(1)[0]
    out = tmp_path / "up.out"
    with out.open("w") as output:
        up = subprocess.Popen(
            [sys.executable, "-c", UP_SCRIPT, str(tmp_path), str(port)], cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        status_file = tmp_path / f"up-{port}.json"

        def running() -> dict[str, Any] | None:
            status = read_status(status_file)
            procs = status["processes"] if status else {}
            return status if len(procs) == 3 and all(p["pid"] for p in procs.values()) else None

        first = wait_until(running)["processes"]
        token = tmp_path / "rasa-5005.token"
        assert token.read_text() == "up-test-token-0123456789"
        assert stat.S_IMODE(token.stat().st_mode) == 0o600
        assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700

        os.kill(first["rasa"]["pid"], signal.SIGKILL)
        after = wait_until(
            lambda: (s := running()) and s["processes"]["rasa"]["restarts"] == 1 and s
        )["processes"]
        assert after["rasa"]["pid"] != first["rasa"]["pid"] and alive(after["rasa"]["pid"])
        assert after["rasa"]["last_exit"] == -9
        assert after["gateway"]["pid"] == first["gateway"]["pid"]  # the others go on
        assert up.poll() is None

        up.send_signal(sig)
        assert up.wait(timeout=30) == 0
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    said = out.read_text()
    assert "rasa stopped unexpectedly (exit -9)" in said and "rasa restarted (pid" in said
    assert f"{sig.name} received, stopping" in said
    assert "stopped: gateway, Rasa and the action server" in said
    pids = [p["pid"] for p in after.values()]
    assert not any(alive(pid) for pid in pids)
    assert not status_file.exists() and not token.exists()
