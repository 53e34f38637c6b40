"""The engine environment (``.venv-rasa``): where it is and how its commands are run."""

from __future__ import annotations

import os
from pathlib import Path

from bot.settings import ROOT

ENGINE_VENV = ROOT / ".venv-rasa"


def engine_bin(name: str) -> Path:
    path = ENGINE_VENV / "bin" / name
    if not path.exists():
        raise SystemExit(
            f"error: {path} not found: the engine environment is missing; run `make setup`."
        )
    return path


def engine_environ(action_server_url: str = "http://127.0.0.1:5055") -> dict[str, str]:
    """Environment for Rasa and the action server: no telemetry, quiet TensorFlow, repo on path."""
    env = dict(os.environ)
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
