"""The engine environment (``.venv-rasa``): where it is and how its commands are run.

Engine processes get an allow-listed environment: what a Python program needs to run (``PATH``,
``HOME``, the locale…) and the engine's own settings, never the whole environment of the
gateway (its database password, the platforms' tokens). What Rasa and the action server need
beyond that is added by :mod:`bot.ops.processes` for each of them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

from bot.ops.settings import ROOT

ENGINE_VENV = ROOT / ".venv-rasa"

#: What any program needs from the system: search path, home, user, locale, temporary files,
#: certificates, native libraries.
SYSTEM_VARIABLES = (
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE",
    "LC_MESSAGES", "LC_NUMERIC", "TZ", "TMPDIR", "TEMP", "TMP", "XDG_CACHE_HOME",
    "LD_LIBRARY_PATH", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
)  # fmt: skip
#: The engine's own settings a developer may set (Rasa's, TensorFlow's, the thread pools').
ENGINE_VARIABLES = (
    "RASA_CACHE_DIRECTORY", "LOG_LEVEL_LIBRARIES", "MAX_NUMBER_OF_PREDICTIONS",
    "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS", "TF_FORCE_GPU_ALLOW_GROWTH",
)  # fmt: skip


#: Trainings and evaluations yield the CPU to the processes answering citizens.
BACKGROUND_NICENESS = 15


def engine_bin(name: str) -> Path:
    path = ENGINE_VENV / "bin" / name
    if not path.exists():
        raise SystemExit(
            f"error: {path} not found: the engine environment is missing; run `make setup`."
        )
    return path


def allowed(names: Iterable[str], source: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables of ``source`` (default: this process's environment) named in ``names``."""
    source = os.environ if source is None else source
    return {name: source[name] for name in names if name in source}


def engine_environ(
    action_server_url: str = "http://127.0.0.1:5055", source: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Environment for engine commands (training, tests, Rasa, the action server): the system's
    and the engine's variables of ``source`` only; no telemetry, quiet TensorFlow, repo on path."""
    env = allowed((*SYSTEM_VARIABLES, *ENGINE_VARIABLES), source)
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONPATH": str(ROOT),
            "ACTION_SERVER_URL": action_server_url,
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "PYTHONWARNINGS": "ignore",
        }
    )
    return env


def background_priority() -> None:
    """In a child process before it runs: lower its CPU priority."""
    os.nice(BACKGROUND_NICENESS)


def run_rasa(*args: str, quiet: bool = False, background: bool = False) -> int:
    """Run ``rasa <args>`` from the engine environment in the repository; its exit code.
    ``quiet``: its output discarded (else shown); ``background``: at a lower CPU priority."""
    output = subprocess.DEVNULL if quiet else None
    return subprocess.run(
        [str(engine_bin("rasa")), *args],
        cwd=ROOT,
        env=engine_environ(),
        stdout=output,
        stderr=output,
        check=False,
        preexec_fn=background_priority if background else None,
    ).returncode
