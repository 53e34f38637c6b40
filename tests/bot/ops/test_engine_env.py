"""Running the engine's commands: the one helper that runs `rasa`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from bot.ops import engine_env
from bot.ops.settings import ROOT

#: A stand-in for .venv-rasa/bin/rasa: says its arguments, directory and niceness; exits with
#: the number given as its last argument.
FAKE_RASA = f"""#!{sys.executable}
import os, sys
print("args", *sys.argv[1:])
print("cwd", os.getcwd())
print("nice", os.nice(0))
print("telemetry", os.environ.get("RASA_TELEMETRY_ENABLED"))
sys.exit(int(sys.argv[-1]))
"""


@pytest.fixture()
def fake_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    rasa = tmp_path / "bin" / "rasa"
    rasa.parent.mkdir()
    rasa.write_text(FAKE_RASA)
    rasa.chmod(0o755)
    monkeypatch.setattr(engine_env, "ENGINE_VENV", tmp_path)
    return tmp_path


def test_run_rasa_shows_the_output_and_returns_the_exit_code(
    fake_engine: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert engine_env.run_rasa("test", "nlu", "3") == 3
    said = capfd.readouterr().out.splitlines()
    assert said == [
        "args test nlu 3",
        f"cwd {ROOT}",
        f"nice {os.nice(0)}",
        "telemetry false",
    ]


def test_run_rasa_quiet_and_in_the_background(
    fake_engine: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert engine_env.run_rasa("test", "core", "0", quiet=True, background=True) == 0
    assert capfd.readouterr().out == ""


def test_background_lowers_the_priority(
    fake_engine: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    if os.nice(0) + engine_env.BACKGROUND_NICENESS > 19:
        pytest.skip("already at the lowest priority")
    assert engine_env.run_rasa("0", background=True) == 0
    nice = int(capfd.readouterr().out.splitlines()[2].split()[1])
    assert nice == os.nice(0) + engine_env.BACKGROUND_NICENESS


def test_a_missing_engine_environment_says_how_to_make_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_env, "ENGINE_VENV", tmp_path)
    with pytest.raises(SystemExit, match="run `make setup`"):
        engine_env.run_rasa("--version")
